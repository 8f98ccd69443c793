/**
 * Codec properties: command and reply round trips, decoders that only ever throw typed protocol
 * errors and are canonical, and a FrameDecoder that frames the same however reads are cut and
 * never buffers or allocates past its cap.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { type Command, decodeCommand, encodeCommand } from '../../src/milter/commands.ts';
import {
  EmptyFrameError,
  FrameTooLargeError,
  MalformedPacketError,
  UnknownCommandError,
} from '../../src/milter/errors.ts';
import {
  DEFAULT_MAX_FRAME_BYTES,
  encodeFrame,
  type Frame,
  FrameDecoder,
} from '../../src/milter/frame.ts';
import { decodeResponse, type Response } from '../../src/milter/responses.ts';
import { anyBytes, commandArb, frameArb } from './arbitraries.ts';
import { overTheWire } from './reply-checks.ts';
import { asDecoded, replyFrameArb, responseArb } from './response-arbitraries.ts';
import { type FuzzProperty, fuzzProperty } from './run-property.ts';
import { cutsArb, largestAllocation, referenceFrames, split } from './stream.ts';

/** A command as the decoder returns it: family U carries no port or address; one IPv6 tag is dropped. */
export function normalize(generated: Command): Command {
  // Generated records have a null prototype; decoded commands are plain objects.
  const command = { ...generated };
  if (command.kind !== 'connect') return command;
  if (command.family === 'U') return { ...command, port: 0, address: Buffer.alloc(0) };
  const tagged = command.address.subarray(0, 5).toString('latin1').toLowerCase() === 'ipv6:';
  if (command.family === '6' && tagged) return { ...command, address: command.address.subarray(5) };
  return command;
}

/** Reads one encoded packet back through a FrameDecoder. */
function oneFrame(bytes: Buffer): Frame {
  assert.equal(bytes.readUInt32BE(0), bytes.length - 4, 'declared length');
  const decoder = new FrameDecoder();
  const frames = decoder.push(bytes);
  assert.equal(frames.length, 1);
  assert.equal(decoder.pendingBytes, 0);
  return frames[0] as Frame;
}

const commandRoundTrip = fc.property(commandArb, (command) => {
  const decoded = decodeCommand(oneFrame(encodeCommand(command)));
  assert.deepEqual(decoded, normalize(command));
});

/** Whatever a frame holds, the decoder throws a typed error or returns a command it would re-read as itself. */
const commandDecoder = fc.property(frameArb, (frame) => {
  let command: Command;
  try {
    command = decodeCommand(frame);
  } catch (error) {
    assert.ok(
      error instanceof MalformedPacketError || error instanceof UnknownCommandError,
      String(error),
    );
    return;
  }
  assert.deepEqual(decodeCommand(oneFrame(encodeCommand(command))), normalize(command));
});

const responseRoundTrip = fc.property(responseArb, (response) => {
  assert.deepEqual(overTheWire(response), asDecoded(response));
});

/** The MTA-side decoder: typed errors only, and a fixed point once decoded. */
const responseDecoder = fc.property(replyFrameArb, (frame) => {
  let response: Response;
  try {
    response = decodeResponse(frame);
  } catch (error) {
    assert.ok(
      error instanceof MalformedPacketError || error instanceof UnknownCommandError,
      String(error),
    );
    return;
  }
  const expected =
    response.kind === 'optneg'
      ? { ...response, macros: utf8AsLatin1(response.macros ?? {}) }
      : response;
  assert.deepEqual(overTheWire(response), expected);
});

// OPTNEG macro names go out as UTF-8 and are read back as latin1 (they are ASCII in practice).
function utf8AsLatin1(macros: Readonly<Partial<Record<number, string>>>): Record<number, string> {
  const out: Record<number, string> = {};
  for (const [stage, names] of Object.entries(macros)) {
    out[Number(stage)] = Buffer.from(names ?? '', 'utf8').toString('latin1');
  }
  return out;
}

const plain = (f: Frame): [number, Buffer] => [f.code, Buffer.from(f.payload)];

const packetArb = fc.record({ code: fc.nat(255), payload: anyBytes(40, 1) });

/** Same frames however the stream is cut; pendingBytes is exact; emitted frames never change later. */
const frameSplitting = fc.property(
  fc.array(packetArb, { maxLength: 8 }),
  cutsArb,
  (packets, cuts) => {
    const stream = Buffer.concat(packets.map((p) => encodeFrame(p.code, p.payload)));
    const decoder = new FrameDecoder();
    const frames: Frame[] = [];
    let pushed = 0;
    let framed = 0;
    for (const read of split(stream, cuts)) {
      for (const frame of decoder.push(read)) {
        frames.push(frame);
        framed += 5 + frame.payload.length;
      }
      pushed += read.length;
      assert.equal(decoder.pendingBytes, pushed - framed, 'pendingBytes');
    }
    decoder.end();
    assert.deepEqual(
      frames.map(plain),
      packets.map((p) => [p.code, p.payload]),
    );
  },
);

/** A 4-byte length, chosen near the edges that matter, followed by some payload. */
function lengthPrefixed(cap: number): fc.Arbitrary<Buffer> {
  const length = fc.oneof(
    fc.constantFrom(0, 1, 2, cap - 1, cap, cap + 1, 0x7fffffff, 0xffffffff),
    fc.integer({ min: 0, max: cap + 8 }),
  );
  return fc.tuple(length, anyBytes(Math.min(cap + 8, 300))).map(([n, payload]) => {
    const header = Buffer.alloc(4);
    header.writeUInt32BE(Math.max(0, n) >>> 0, 0);
    return Buffer.concat([header, payload]);
  });
}

const capArb = fc.oneof(fc.integer({ min: 1, max: 300 }), fc.constant(DEFAULT_MAX_FRAME_BYTES));

/** Arbitrary bytes: the reference framer's frames and error, typed errors only, nothing above the cap. */
const frameGarbage = fc.property(
  capArb.chain((cap) =>
    fc.tuple(
      fc.constant(cap),
      fc
        .array(fc.oneof(anyBytes(24), lengthPrefixed(cap)), { maxLength: 6 })
        .map((p) => Buffer.concat(p)),
      cutsArb,
    ),
  ),
  ([cap, stream, cuts]) => {
    const expected = referenceFrames(stream, cap);
    const decoder = new FrameDecoder(cap);
    const frames: Frame[] = [];
    let error: unknown;
    const largest = largestAllocation(() => {
      try {
        for (const read of split(stream, cuts)) {
          frames.push(...decoder.push(read));
          assert.ok(decoder.pendingBytes < 4 + cap, 'buffered past the cap');
        }
      } catch (thrown) {
        error = thrown;
      }
    });
    if (error instanceof assert.AssertionError) throw error;
    assert.ok(largest <= Math.max(cap, 4), `allocated ${largest} bytes with a cap of ${cap}`);
    // A read that completes packets and then hits a bad length throws without returning them:
    // up to the error, what came out is a prefix of the reference framing.
    const want = expected.frames.slice(0, error === undefined ? undefined : frames.length);
    assert.deepEqual(frames.map(plain), want.map(plain));
    if (expected.error === 'empty') assert.ok(error instanceof EmptyFrameError, String(error));
    else if (expected.error === 'too-large')
      assert.ok(error instanceof FrameTooLargeError, String(error));
    else {
      assert.equal(error, undefined);
      assert.equal(decoder.pendingBytes, expected.pending);
    }
  },
);

/** The codec properties with their long-run weights. */
export const CODEC_PROPERTIES: readonly FuzzProperty[] = [
  fuzzProperty('command round trip', 2, commandRoundTrip),
  fuzzProperty('command decoder on any frame', 3, commandDecoder),
  fuzzProperty('response round trip', 1, responseRoundTrip),
  fuzzProperty('response decoder on any frame', 2, responseDecoder),
  fuzzProperty('frames survive any split', 2, frameSplitting),
  fuzzProperty('FrameDecoder on any bytes', 3, frameGarbage),
];
