import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MacroStore, macroKey } from './macros.ts';

describe('MacroStore', () => {
  it('treats {x} and x as the same name', () => {
    assert.equal(macroKey('{daemon_name}'), 'daemon_name');
    assert.equal(macroKey('j'), 'j');
    const store = new MacroStore();
    store.set('C', [['{j}', 'mx.example']]);
    assert.equal(store.get('j'), 'mx.example');
    assert.equal(store.get('{j}'), 'mx.example');
  });

  it('finds the newest stage first', () => {
    const store = new MacroStore();
    store.set('M', [['i', 'EARLY']]);
    store.set('E', [['i', 'QUEUEID']]);
    assert.equal(store.get('i'), 'QUEUEID');
  });

  it("forgets later stages when an earlier one arrives (a new MAIL drops the last message's macros)", () => {
    const store = new MacroStore();
    store.set('C', [['j', 'mx']]);
    store.set('M', [['{mail_addr}', 'a@example']]);
    store.set('R', [['{rcpt_addr}', 'b@example']]);
    store.set('E', [['i', 'Q1']]);
    store.set('M', [['{mail_addr}', 'c@example']]);
    assert.equal(store.get('rcpt_addr'), undefined);
    assert.equal(store.get('i'), undefined);
    assert.equal(store.get('mail_addr'), 'c@example');
    assert.equal(store.get('j'), 'mx');
  });

  it('clearAfter drops later stages only', () => {
    const store = new MacroStore();
    store.set('H', [['tls_version', 'TLSv1.3']]);
    store.set('R', [['rcpt_addr', 'x']]);
    store.clearAfter('M');
    assert.equal(store.get('rcpt_addr'), undefined);
    assert.equal(store.get('tls_version'), 'TLSv1.3');
  });

  it('clearMessage keeps the connection and HELO stages', () => {
    const store = new MacroStore();
    store.set('C', [['j', 'mx']]);
    store.set('H', [['cipher', 'x']]);
    store.set('M', [['i', 'Q']]);
    store.clearMessage();
    assert.deepEqual(store.snapshot(), { j: 'mx', cipher: 'x' });
  });

  it('keeps header/body stages and unknown stage bytes without failing', () => {
    const store = new MacroStore();
    store.set('L', [['i', 'QL']]);
    store.set('U', [['x', 'y']]);
    store.set('Z', [['z', '1']]);
    assert.equal(store.get('i'), 'QL');
    assert.equal(store.get('x'), 'y');
    store.clear();
    assert.deepEqual(store.snapshot(), {});
  });

  it('stores an empty macro packet as an empty stage that replaces the old one', () => {
    const store = new MacroStore();
    store.set('H', [['cipher', 'old']]);
    store.set('H', []);
    assert.equal(store.get('cipher'), undefined);
  });
});
