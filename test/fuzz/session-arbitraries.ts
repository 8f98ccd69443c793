/**
 * fast-check arbitraries for the session side: session settings (negotiation wishes, body cap,
 * a recipient gate) and filter decisions of the kinds our filters produce, valid or not.
 */
import fc from 'fast-check';
import { WISHES } from '../../src/daemon/daemon.ts';
import type { Decision, Modification, SmtpReply, Verdict } from '../../src/filter/decision.ts';
import { ALL_ACTIONS, Proto } from '../../src/milter/constants.ts';
import type { NegotiationWishes } from '../../src/milter/negotiate.ts';
import type { RcptGate, SessionOptions } from '../../src/milter/session.ts';
import { cBytes, u32 } from './arbitraries.ts';

/** A recipient gate that refuses from the `limit`-th recipient on with `verdict`. */
export interface GateSpec {
  readonly limit: number;
  readonly verdict: Extract<Verdict, { kind: 'reject' | 'tempfail' }>;
}

/** Session settings as data, so a failing case prints them. */
export interface SessionSpec {
  readonly wishes: NegotiationWishes;
  readonly maxBodyBytes: number;
  readonly gate: GateSpec | undefined;
}

/** The gate a spec describes. */
export function gateOf(spec: GateSpec): RcptGate {
  return (context) => (context.accepted >= spec.limit ? spec.verdict : undefined);
}

/** The session options a spec describes. */
export function sessionOptions(spec: SessionSpec): SessionOptions {
  return {
    wishes: spec.wishes,
    maxBodyBytes: spec.maxBodyBytes,
    ...(spec.gate === undefined ? {} : { rcptGate: gateOf(spec.gate) }),
  };
}

const NO_STEPS = Proto.NoConnect | Proto.NoHelo | Proto.NoMail | Proto.NoRcpt | Proto.NoBody;
const NO_REPLY = 0x0ff080; // every SMFIP_NR_* bit

const line = fc.string({ maxLength: 12 });

/** An SMTP reply, often one formatReplyText refuses (wrong class, CR in a line, …). */
export const smtpReplyArb: fc.Arbitrary<SmtpReply> = fc.record(
  {
    code: fc.oneof(fc.constantFrom(421, 450, 451, 550, 554), fc.integer({ min: 0, max: 999 })),
    enhanced: fc.constantFrom('4.7.1', '5.7.1', '5.1.1', 'x'),
    lines: fc.array(fc.oneof(line, fc.constant('a\r\nb')), { maxLength: 3 }),
  },
  { requiredKeys: ['code', 'lines'] },
);

/** Any verdict, with or without an SMTP reply. */
export const verdictArb: fc.Arbitrary<Verdict> = fc.oneof(
  fc.constant({ kind: 'accept' as const }),
  fc.constant({ kind: 'discard' as const }),
  fc.record(
    { kind: fc.constantFrom('reject' as const, 'tempfail' as const), reply: smtpReplyArb },
    { requiredKeys: ['kind'] },
  ),
);

const headerName = fc.oneof(
  fc.constantFrom('X-Spam', 'Subject', 'X-Spamward'),
  fc.string({ maxLength: 8 }),
);
const headerValue = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.constantFrom(' folded\n\tline', 'bad\nfold', 'cr\r', 'crlf\r\n next'),
  cBytes(20),
);
const address = fc.oneof(fc.constant('<x@example.org>'), cBytes(16));

/** A modification as our filters build them (addresses never contain NUL). */
export const modificationArb: fc.Arbitrary<Modification> = fc.oneof(
  fc.record({ kind: fc.constant('add-header' as const), name: headerName, value: headerValue }),
  fc.record({
    kind: fc.constant('insert-header' as const),
    index: u32,
    name: headerName,
    value: headerValue,
  }),
  fc.record({
    kind: fc.constant('change-header' as const),
    name: headerName,
    occurrence: fc.integer({ min: -1, max: 3 }),
    value: headerValue,
  }),
  fc.record({
    kind: fc.constant('delete-header' as const),
    name: headerName,
    occurrence: fc.integer({ min: -1, max: 3 }),
  }),
  fc.record(
    {
      kind: fc.constant('add-recipient' as const),
      address,
      args: fc.array(fc.constantFrom('NOTIFY=NEVER', 'ORCPT=rfc822;x@y'), { maxLength: 2 }),
    },
    { requiredKeys: ['kind', 'address'] },
  ),
  fc.record({ kind: fc.constant('delete-recipient' as const), address }),
  fc.record({ kind: fc.constant('change-sender' as const), address }),
  fc.record({ kind: fc.constant('replace-body' as const), body: cBytes(40) }),
  fc.record({ kind: fc.constant('quarantine' as const), reason: fc.string({ maxLength: 10 }) }),
);

/** A filter decision. */
export const decisionArb: fc.Arbitrary<Decision> = fc.record({
  verdict: verdictArb,
  modifications: fc.array(modificationArb, { maxLength: 4 }),
});

/** Session settings: production wishes or random ones, a small body cap, maybe a gate. */
export const sessionSpecArb: fc.Arbitrary<SessionSpec> = fc.record({
  wishes: fc.oneof(
    fc.constant(WISHES),
    fc.record({
      actions: fc.integer({ min: 0, max: ALL_ACTIONS }),
      skipSteps: fc.integer({ min: 0, max: NO_STEPS }).map((n) => n & NO_STEPS),
      noReply: fc.integer({ min: 0, max: NO_REPLY }).map((n) => n & NO_REPLY),
      leadingSpace: fc.boolean(),
      macros: fc.constantFrom({}, { 0: 'j {client_addr}' }, { 5: 'i' }),
    }),
  ),
  maxBodyBytes: fc.oneof(fc.integer({ min: 0, max: 64 }), fc.constant(512 * 1024)),
  gate: fc.option(
    fc.record({
      limit: fc.integer({ min: 0, max: 3 }),
      verdict: fc.oneof(
        fc.constant({ kind: 'reject' as const }),
        fc.constant({
          kind: 'tempfail' as const,
          reply: { code: 452, enhanced: '4.5.3', lines: ['Too many recipients'] },
        }),
      ),
    }),
    { nil: undefined },
  ),
});
