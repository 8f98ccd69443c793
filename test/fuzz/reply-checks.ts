/**
 * Checks on what the session writes: the OPTNEG answer stays within the MTA's offer, and the
 * end-of-message replies are well-formed packets with exactly one final reply, last.
 */
import assert from 'node:assert/strict';
import type { Decision } from '../../src/filter/decision.ts';
import type { Command } from '../../src/milter/commands.ts';
import {
  Action,
  ALL_ACTIONS,
  ALL_PROTOCOL,
  MILTER_VERSION,
  Proto,
  V1_ACTIONS,
  V1_PROTOCOL,
} from '../../src/milter/constants.ts';
import { FrameDecoder } from '../../src/milter/frame.ts';
import type { Negotiated } from '../../src/milter/negotiate.ts';
import {
  decodeResponse,
  encodeResponse,
  FINAL_KINDS,
  type Response,
  type ResponseKind,
} from '../../src/milter/responses.ts';
import { asDecoded } from './response-arbitraries.ts';

/** Checks the negotiated options against the offer; returns the OPTNEG reply they imply. */
export function checkOptNeg(
  offer: Extract<Command, { kind: 'optneg' }>,
  n: Negotiated,
): Response[] {
  const actions = (offer.actions === 0 ? V1_ACTIONS : offer.actions) & ALL_ACTIONS;
  const protocol = (offer.protocol === 0 ? V1_PROTOCOL : offer.protocol) & ALL_PROTOCOL;
  assert.equal(n.version, Math.min(offer.version, MILTER_VERSION), 'negotiated version');
  assert.equal(n.actions & ~actions, 0, 'actions outside the offer');
  assert.equal(n.protocol & ~protocol, 0, 'protocol bits outside the offer');
  if (n.canSkip) assert.ok((n.protocol & Proto.Skip) !== 0 && n.version >= 6, 'canSkip');
  if (Object.keys(n.macros).length > 0) {
    assert.ok(n.version >= 6 && (n.actions & Action.SetSymList) !== 0, 'macros without symlist');
  }
  return [
    {
      kind: 'optneg',
      version: n.version,
      actions: n.actions,
      protocol: n.protocol,
      macros: n.macros,
    },
  ];
}

/** The action bit each modification reply needs. */
const NEEDS: Partial<Record<ResponseKind, number>> = {
  addheader: Action.AddHdrs,
  insheader: Action.AddHdrs,
  chgheader: Action.ChgHdrs,
  replbody: Action.ChgBody,
  addrcpt: Action.AddRcpt,
  addrcpt_par: Action.AddRcptPar,
  delrcpt: Action.DelRcpt,
  chgfrom: Action.ChgFrom,
  quarantine: Action.Quarantine,
};

/** The end-of-message replies obey the negotiation, end in one final reply and survive the wire. */
export function checkEomReplies(
  decision: Decision,
  responses: readonly Response[],
  n: Negotiated,
): void {
  const last = responses.at(-1);
  assert.ok(last !== undefined && FINAL_KINDS.has(last.kind), 'no final reply last');
  const finals = responses.filter((r) => FINAL_KINDS.has(r.kind));
  assert.equal(finals.length, 1, 'more than one final reply');
  checkVerdict(decision, last);
  if (decision.verdict.kind !== 'accept')
    assert.equal(responses.length, 1, 'modifications sent with a refusal');
  const kinds = responses.slice(0, -1).map((r) => r.kind);
  for (const kind of kinds) {
    const need = NEEDS[kind];
    assert.ok(need !== undefined, `unexpected ${kind} at end-of-message`);
    assert.notEqual(n.actions & need, 0, `${kind} was not negotiated`);
  }
  const first = kinds.indexOf('replbody');
  if (first !== -1) {
    const count = kinds.filter((k) => k === 'replbody').length;
    assert.ok(
      kinds.slice(first, first + count).every((k) => k === 'replbody'),
      'REPLBODY split',
    );
  }
  for (const response of responses) assert.deepEqual(overTheWire(response), asDecoded(response));
}

function checkVerdict(decision: Decision, last: Response): void {
  const text = last.kind === 'replycode' ? Buffer.from(last.text).toString('latin1') : '';
  const verdict = decision.verdict.kind;
  if (verdict === 'accept' || verdict === 'discard') {
    assert.equal(last.kind, verdict === 'accept' ? 'continue' : 'discard');
    return;
  }
  const plain = verdict === 'reject' ? 'reject' : 'tempfail';
  const klass = verdict === 'reject' ? '5' : '4';
  assert.ok(
    last.kind === plain || new RegExp(`^${klass}\\d\\d[ -]`).test(text),
    `${verdict} as ${last.kind}`,
  );
}

/** Encodes a reply, reads it back as the MTA would: exactly one packet, nothing left over. */
export function overTheWire(response: Response): Response {
  const decoder = new FrameDecoder(1 << 20);
  const frames = decoder.push(encodeResponse(response));
  assert.equal(frames.length, 1, 'one packet per reply');
  assert.equal(decoder.pendingBytes, 0);
  return decodeResponse(frames[0] as (typeof frames)[number]);
}
