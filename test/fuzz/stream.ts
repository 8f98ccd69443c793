/**
 * Byte-stream helpers for the framing properties: cutting a stream into reads, a deliberately
 * naive reference framer to compare FrameDecoder against, and an allocation probe.
 */
import fc from 'fast-check';
import type { Frame } from '../../src/milter/frame.ts';

/** How a stream is cut into reads: cut points (modulo its length), or one byte per read. */
export interface Cuts {
  readonly points: readonly number[];
  readonly byteAtATime: boolean;
}

/** Random cut points (repeats give empty reads); byte-at-a-time now and then. */
export const cutsArb: fc.Arbitrary<Cuts> = fc.record({
  points: fc.array(fc.nat(), { maxLength: 12 }),
  byteAtATime: fc.boolean(),
});

/** Splits `bytes` into the reads `cuts` describes; their concatenation is `bytes`. */
export function split(bytes: Buffer, cuts: Cuts): Buffer[] {
  if (cuts.byteAtATime) return bytewise(bytes);
  const at = cuts.points.map((p) => p % (bytes.length + 1)).sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const cut of at) {
    out.push(bytes.subarray(from, cut));
    from = cut;
  }
  out.push(bytes.subarray(from));
  return out;
}

/** One byte per read; past 4 KiB only the first and last 2 KiB, to keep runs fast. */
function bytewise(bytes: Buffer): Buffer[] {
  const one = (from: number, to: number): Buffer[] =>
    Array.from({ length: Math.max(0, to - from) }, (_, i) =>
      bytes.subarray(from + i, from + i + 1),
    );
  if (bytes.length <= 4096) return one(0, bytes.length);
  const tail = bytes.length - 2048;
  return [...one(0, 2048), bytes.subarray(2048, tail), ...one(tail, bytes.length)];
}

/** What the reference framer makes of a whole stream. */
export interface Reference {
  readonly frames: Frame[];
  /** Why it stopped early: a length of 0, or one above the cap. */
  readonly error: 'empty' | 'too-large' | undefined;
  /** Bytes left over that do not form a whole packet (when there is no error). */
  readonly pending: number;
}

/** Reads the stream packet by packet, the obvious way, with the same cap rules. */
export function referenceFrames(stream: Buffer, maxFrameBytes: number): Reference {
  const frames: Frame[] = [];
  let at = 0;
  while (stream.length - at >= 4) {
    const length = stream.readUInt32BE(at);
    if (length === 0) return { frames, error: 'empty', pending: 0 };
    if (length > maxFrameBytes) return { frames, error: 'too-large', pending: 0 };
    if (stream.length - at - 4 < length) break;
    const packet = stream.subarray(at + 4, at + 4 + length);
    frames.push({ code: packet[0] as number, payload: packet.subarray(1) });
    at += 4 + length;
  }
  return { frames, error: undefined, pending: stream.length - at };
}

/** Runs `fn` (which must not throw) and returns the largest `Buffer.alloc`/`allocUnsafe` size it asked for. */
export function largestAllocation(fn: () => void): number {
  const { alloc, allocUnsafe } = Buffer;
  let largest = 0;
  const probe =
    (original: (...args: never[]) => Buffer) =>
    (size: number, ...rest: unknown[]): Buffer => {
      largest = Math.max(largest, size);
      return (original as (...args: unknown[]) => Buffer).call(Buffer, size, ...rest);
    };
  Buffer.alloc = probe(alloc) as typeof Buffer.alloc;
  Buffer.allocUnsafe = probe(allocUnsafe) as typeof Buffer.allocUnsafe;
  try {
    fn();
  } finally {
    Buffer.alloc = alloc;
    Buffer.allocUnsafe = allocUnsafe;
  }
  return largest;
}
