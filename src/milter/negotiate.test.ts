import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Action, Proto } from './constants.ts';
import { NegotiationError } from './errors.ts';
import { type NegotiationWishes, negotiate } from './negotiate.ts';

const WISHES: NegotiationWishes = {
  actions: Action.AddHdrs | Action.ChgHdrs | Action.Quarantine | Action.ChgFrom,
  skipSteps: Proto.NoData | Proto.NoUnknown,
  noReply: Proto.NrHdr | Proto.NrEoh,
  leadingSpace: true,
  macros: { 0: 'j {client_addr}', 5: 'i' },
};

describe('negotiate', () => {
  it("takes everything it wants from Postfix's full offer", () => {
    const n = negotiate({ version: 6, actions: 0x1ff, protocol: 0x1fffff }, WISHES);
    assert.equal(n.version, 6);
    assert.equal(n.actions, WISHES.actions | Action.SetSymList);
    assert.equal(
      n.protocol,
      Proto.NoData | Proto.NoUnknown | Proto.NrHdr | Proto.NrEoh | Proto.HdrLeadSpc | Proto.Skip,
    );
    assert.equal(n.canSkip, true);
    assert.equal(n.leadingSpace, true);
    assert.deepEqual(n.macros, WISHES.macros);
  });

  it('never requests a bit the MTA did not offer', () => {
    const offer = { version: 6, actions: Action.AddHdrs, protocol: Proto.NrHdr };
    const n = negotiate(offer, WISHES);
    assert.equal(n.actions & ~offer.actions, 0);
    assert.equal(n.protocol & ~offer.protocol, 0);
    assert.equal(n.leadingSpace, false);
    assert.equal(n.canSkip, false);
    assert.deepEqual(n.macros, {}, 'no SETSYMLIST offered, so no macro lists');
  });

  it('answers an older MTA with its own version and the v1 sets for 0 fields', () => {
    const n = negotiate({ version: 2, actions: 0, protocol: 0 }, WISHES);
    assert.equal(n.version, 2);
    assert.equal(
      n.actions,
      (Action.AddHdrs | Action.ChgHdrs | Action.Quarantine | Action.ChgFrom) & 0x0f,
    );
    assert.equal(n.protocol, 0, 'v1 protocol set has none of NODATA/NOUNKNOWN/NR_*');
    assert.deepEqual(n.macros, {}, 'macro lists need v6');
    assert.equal(n.canSkip, false);
  });

  it('caps the version at 6', () => {
    assert.equal(negotiate({ version: 7, actions: 0x1ff, protocol: 0x1fffff }, WISHES).version, 6);
  });

  it('masks out internal bits (MDS_256K/1M) even when offered', () => {
    const n = negotiate(
      { version: 6, actions: 0x1ff, protocol: 0x1fffff | 0x30000000 },
      { ...WISHES, skipSteps: 0x30000000 },
    );
    assert.equal(n.protocol & 0x30000000, 0);
  });

  it('refuses protocol version 1', () => {
    assert.throws(
      () => negotiate({ version: 1, actions: 0x0f, protocol: 0x3f }, WISHES),
      NegotiationError,
    );
  });
});
