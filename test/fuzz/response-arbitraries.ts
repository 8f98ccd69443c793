/**
 * fast-check arbitraries for milter replies, and the form a reply takes after the MTA-side
 * decoder has read it back (text fields as Buffers, OPTNEG macros always present).
 */
import fc from 'fast-check';
import { MAX_CHUNK, Reply } from '../../src/milter/constants.ts';
import { toBytes } from '../../src/milter/cstring.ts';
import type { Frame } from '../../src/milter/frame.ts';
import type { Response } from '../../src/milter/responses.ts';
import { anyBytes, cBytes, payloadArb, u32 } from './arbitraries.ts';

/** Text as the encoder takes it: raw bytes or a JS string (sent as UTF-8), never a NUL. */
const wireText = fc.oneof(
  cBytes(32),
  fc.string({ maxLength: 16, unit: 'grapheme' }).map((s) => s.replaceAll('\0', '')),
);

// Macro names in our OPTNEG reply come from configuration and are ASCII: the MTA-side decoder
// reads them as latin1 while the encoder writes UTF-8, so only ASCII round-trips.
const macroNames = fc.string({
  maxLength: 20,
  unit: fc.integer({ min: 1, max: 0x7f }).map((c) => String.fromCharCode(c)),
});

const optnegReply: fc.Arbitrary<Response> = fc.record(
  {
    kind: fc.constant('optneg' as const),
    version: u32,
    actions: u32,
    protocol: u32,
    macros: fc.dictionary(fc.oneof(fc.integer({ min: 0, max: 6 }), u32).map(String), macroNames, {
      maxKeys: 4,
    }),
  },
  { requiredKeys: ['kind', 'version', 'actions', 'protocol'] },
);

const args = fc.array(wireText, { maxLength: 3 });

/** Any reply the milter may send (REPLBODY within its 64 KiB limit). */
export const responseArb: fc.Arbitrary<Response> = fc.oneof(
  optnegReply,
  fc.constantFrom<Response>(
    { kind: 'accept' },
    { kind: 'continue' },
    { kind: 'discard' },
    { kind: 'reject' },
    { kind: 'tempfail' },
    { kind: 'skip' },
    { kind: 'progress' },
    { kind: 'shutdown' },
  ),
  fc.record({ kind: fc.constant('replycode' as const), text: wireText }),
  fc.record({ kind: fc.constant('addheader' as const), name: wireText, value: wireText }),
  fc.record({
    kind: fc.constantFrom('insheader' as const, 'chgheader' as const),
    index: u32,
    name: wireText,
    value: wireText,
  }),
  fc.record({ kind: fc.constantFrom('addrcpt' as const, 'delrcpt' as const), rcpt: wireText }),
  fc.record({ kind: fc.constant('addrcpt_par' as const), rcpt: wireText, args }),
  fc.record({ kind: fc.constant('chgfrom' as const), from: wireText, args }),
  fc.record({
    kind: fc.constant('replbody' as const),
    chunk: fc.oneof(anyBytes(64), fc.constant(Buffer.alloc(MAX_CHUNK, 0x41))),
  }),
  fc.record({ kind: fc.constant('quarantine' as const), reason: wireText }),
);

/** Every reply byte we know. */
export const REPLY_CODES: readonly number[] = Object.values(Reply);

/** A frame with a known or random reply code and a random payload. */
export const replyFrameArb: fc.Arbitrary<Frame> = fc.record({
  code: fc.oneof({ arbitrary: fc.constantFrom(...REPLY_CODES), weight: 3 }, fc.nat(255)),
  payload: payloadArb(),
});

/** `response` as the MTA-side decoder returns it: every text field as a Buffer. */
export function asDecoded(response: Response): Response {
  const b = toBytes;
  switch (response.kind) {
    case 'optneg':
      return { ...response, macros: { ...response.macros } };
    case 'replycode':
      return { kind: 'replycode', text: b(response.text) };
    case 'addheader':
      return { kind: 'addheader', name: b(response.name), value: b(response.value) };
    case 'insheader':
    case 'chgheader':
      return { ...response, name: b(response.name), value: b(response.value) };
    case 'addrcpt':
    case 'delrcpt':
      return { kind: response.kind, rcpt: b(response.rcpt) };
    case 'addrcpt_par':
      return { kind: 'addrcpt_par', rcpt: b(response.rcpt), args: response.args.map(b) };
    case 'chgfrom':
      return { kind: 'chgfrom', from: b(response.from), args: response.args.map(b) };
    case 'replbody':
      return { kind: 'replbody', chunk: b(response.chunk) };
    case 'quarantine':
      return { kind: 'quarantine', reason: b(response.reason) };
    default:
      return response;
  }
}
