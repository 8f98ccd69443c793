import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scannerName } from './header-kit.ts';

describe('scannerName', () => {
  it('names the engine without its address', () => {
    assert.equal(scannerName('spamd://127.0.0.1:783'), 'spamd');
    assert.equal(scannerName('spamd+tls://mx:783'), 'spamd');
    assert.equal(scannerName('rspamd+https://mx:11333'), 'rspamd');
    assert.equal(scannerName('builtin'), 'builtin');
    assert.equal(scannerName('builtin:///var/lib/spamward'), 'builtin');
    assert.equal(scannerName('builtin+redis://h:6379'), 'builtin');
    assert.equal(scannerName('???'), 'scanner');
  });
});
