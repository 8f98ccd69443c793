import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EnvelopeAddress } from '../message/message.ts';
import { prefsUserOf } from './prefs-user.ts';

const rcpt = (address: string): EnvelopeAddress => ({
  address,
  raw: Buffer.from(address),
  args: [],
});
const one = { recipients: [rcpt('<Bob@example.net>')], macros: { auth_authen: 'alice' } };
const two = { recipients: [rcpt('<bob@example.net>'), rcpt('<c@example.net>')], macros: {} };

describe('prefsUserOf', () => {
  it('fixed leaves the choice to the scanner’s own setting', () => {
    assert.equal(prefsUserOf(one, 'fixed'), undefined);
  });
  it('takes the single recipient, whole or its local part', () => {
    assert.equal(prefsUserOf(one, 'recipient'), 'Bob@example.net');
    assert.equal(prefsUserOf(one, 'recipient-local-part'), 'Bob');
  });
  it('falls back when there are several recipients or none', () => {
    assert.equal(prefsUserOf(two, 'recipient'), undefined);
    assert.equal(prefsUserOf(two, 'recipient-local-part'), undefined);
    assert.equal(prefsUserOf({ recipients: [], macros: {} }, 'recipient'), undefined);
  });
  it('takes the AUTH user, or falls back when there is none', () => {
    assert.equal(prefsUserOf(one, 'auth'), 'alice');
    assert.equal(prefsUserOf(two, 'auth'), undefined);
    assert.equal(prefsUserOf({ recipients: [], macros: { auth_authen: '' } }, 'auth'), undefined);
  });
});
