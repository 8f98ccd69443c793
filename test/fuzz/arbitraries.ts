/**
 * fast-check arbitraries for the MTA side of the milter wire: byte strings as the protocol allows
 * them (8-bit everywhere, NUL only in body data), every command kind, and raw frames.
 */
import fc from 'fast-check';
import type { Command, Family } from '../../src/milter/commands.ts';
import { Cmd } from '../../src/milter/constants.ts';
import type { Frame } from '../../src/milter/frame.ts';

/** A Uint8Array as a Buffer view (no copy). */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Any 32-bit unsigned integer, with the edges and the usual protocol values favoured. */
export const u32: fc.Arbitrary<number> = fc.oneof(
  { arbitrary: fc.integer({ min: 0, max: 0xffffffff }), weight: 3 },
  { arbitrary: fc.constantFrom(0, 1, 2, 6, 0x1ff, 0x1fffff, 0x7fffffff, 0xffffffff), weight: 1 },
);

const WORDS = ['', '<>', 'ipv6:', 'IPv6:2001:db8::1', '{daemon_name}', 'j', 'i', '8bit \xe9\xff']
  .map((s) => Buffer.from(s, 'latin1'))
  .concat([Buffer.from('gr\u00fc\u00df', 'utf8')]);

/** Bytes of one C string: anything but NUL, 8-bit included. */
export function cBytes(maxLength = 24): fc.Arbitrary<Buffer> {
  return fc.oneof(
    { arbitrary: fc.uint8Array({ min: 1, max: 255, maxLength }).map(asBuffer), weight: 4 },
    { arbitrary: fc.constantFrom(...WORDS), weight: 1 },
  );
}

/** Any bytes, NUL and 8-bit included (body data), now and then a whole 64 KiB chunk. */
export function anyBytes(maxLength = 64, bigWeight = 0): fc.Arbitrary<Buffer> {
  const small = fc.uint8Array({ maxLength }).map(asBuffer);
  if (bigWeight === 0) return small;
  return fc.oneof(
    { arbitrary: small, weight: 20 },
    {
      arbitrary: fc.integer({ min: 0, max: 65535 }).map((n) => Buffer.alloc(n, 0x2e)),
      weight: bigWeight,
    },
  );
}

const FAMILIES: readonly Family[] = ['4', '6', 'L', 'U'];

/** OPTNEG with any offer: old and future versions, v1 zeros, stray high bits. */
export const optnegArb: fc.Arbitrary<Command> = fc.record({
  kind: fc.constant('optneg' as const),
  version: fc.oneof(fc.integer({ min: 0, max: 8 }), u32),
  actions: u32,
  protocol: u32,
});

/** One MACRO packet: any stage byte, any name/value pairs. */
export const macroArb: fc.Arbitrary<Command> = fc.record({
  kind: fc.constant('macro' as const),
  stage: fc.oneof(
    fc.constantFrom(...'CHMRTLNBEU'.split('').map((c) => c.charCodeAt(0))),
    fc.nat(255),
  ),
  macros: fc.array(fc.tuple(cBytes(12), cBytes(24)), { maxLength: 5 }),
});

const connectArb: fc.Arbitrary<Command> = fc.record({
  kind: fc.constant('connect' as const),
  hostname: cBytes(),
  family: fc.constantFrom(...FAMILIES),
  port: fc.integer({ min: 0, max: 65535 }),
  address: cBytes(),
});

const argvArb = fc.array(cBytes(16), { maxLength: 3 });

/** Commands that carry data, each kind with its own shape. */
const dataCommands: readonly fc.Arbitrary<Command>[] = [
  optnegArb,
  macroArb,
  connectArb,
  fc.record({ kind: fc.constant('helo' as const), name: cBytes() }),
  fc.record({ kind: fc.constant('mail' as const), address: cBytes(), args: argvArb }),
  fc.record({ kind: fc.constant('rcpt' as const), address: cBytes(), args: argvArb }),
  fc.record({ kind: fc.constant('header' as const), name: cBytes(16), value: cBytes(48) }),
  fc.record({ kind: fc.constant('body' as const), chunk: anyBytes(64, 1) }),
  fc.record({ kind: fc.constant('eob' as const), chunk: anyBytes(8) }),
  fc.record({ kind: fc.constant('unknown' as const), line: cBytes() }),
];

/** Commands without a payload. */
const bareCommands = fc.constantFrom<Command>(
  { kind: 'data' },
  { kind: 'eoh' },
  { kind: 'abort' },
  { kind: 'quit' },
  { kind: 'quit_nc' },
);

/** Any command the MTA may send. */
export const commandArb: fc.Arbitrary<Command> = fc.oneof(...dataCommands, bareCommands);

/** Every command byte we know. */
export const COMMAND_CODES: readonly number[] = Object.values(Cmd);

/** Payloads that often look like C strings, so the decoders get past their first check. */
export function payloadArb(maxLength = 48): fc.Arbitrary<Buffer> {
  return fc.oneof(
    anyBytes(maxLength),
    fc
      .array(cBytes(12), { maxLength: 5 })
      .map((parts) => Buffer.concat(parts.flatMap((p) => [p, Buffer.of(0)]))),
    fc
      .tuple(fc.uint8Array({ minLength: 0, maxLength: 16 }), fc.array(cBytes(8), { maxLength: 3 }))
      .map(([head, parts]) => Buffer.concat([head, ...parts.flatMap((p) => [p, Buffer.of(0)])])),
  );
}

/** A frame with a known or random code and a random payload. */
export const frameArb: fc.Arbitrary<Frame> = fc.record({
  code: fc.oneof({ arbitrary: fc.constantFrom(...COMMAND_CODES), weight: 3 }, fc.nat(255)),
  payload: payloadArb(),
});
