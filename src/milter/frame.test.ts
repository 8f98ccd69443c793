import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EmptyFrameError, FrameTooLargeError, TruncatedFrameError } from './errors.ts';
import { encodeFrame, type Frame, FrameDecoder } from './frame.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** A stream of several packets, as Postfix might coalesce them (MACRO + CONNECT + HELO). */
const STREAM = Buffer.concat([
  encodeFrame(0x44, Buffer.from('Cj\0mx.example.org\0')),
  encodeFrame(0x43, Buffer.from('[127.0.0.1]\x004\x30\x39127.0.0.1\0')),
  encodeFrame(0x48, Buffer.from('client.example\0')),
  encodeFrame(0x4e),
  encodeFrame(0x42, Buffer.alloc(70_000, 0x61).subarray(0, 65535)),
]);

function decodeAll(pieces: Buffer[]): Frame[] {
  const decoder = new FrameDecoder();
  const frames = pieces.flatMap((p) => decoder.push(p));
  decoder.end();
  return frames;
}

function sameFrames(a: Frame[], b: Frame[]): void {
  assert.equal(a.length, b.length);
  a.forEach((frame, i) => {
    assert.equal(frame.code, b[i]?.code);
    assert.ok(frame.payload.equals(b[i]?.payload ?? Buffer.alloc(0)), `payload ${i} differs`);
  });
}

describe('encodeFrame', () => {
  it('writes length (code + payload), code, payload', () => {
    assert.deepEqual(encodeFrame(0x63), hex('00000001 63'));
    assert.deepEqual(encodeFrame(0x48, Buffer.from('mx\0')), hex('00000004 48 6d7800'));
    assert.deepEqual(
      encodeFrame(0x68, Buffer.from('A\0'), Buffer.from('b\0')),
      hex('00000005 68 4100 6200'),
    );
  });
});

describe('FrameDecoder', () => {
  it('decodes coalesced packets from one chunk', () => {
    const frames = decodeAll([STREAM]);
    assert.deepEqual(
      frames.map((f) => String.fromCharCode(f.code)),
      ['D', 'C', 'H', 'N', 'B'],
    );
    assert.equal(frames[4]?.payload.length, 65535);
    assert.equal(frames[3]?.payload.length, 0);
  });

  it('gives the same frames when fed one byte at a time', () => {
    const whole = decodeAll([STREAM]);
    const bytes = [...STREAM].map((b) => Buffer.of(b));
    sameFrames(decodeAll(bytes), whole);
  });

  it('gives the same frames for random splits (seeded)', () => {
    const whole = decodeAll([STREAM]);
    let seed = 42;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let round = 0; round < 200; round++) {
      const pieces: Buffer[] = [];
      let at = 0;
      while (at < STREAM.length) {
        const size = 1 + Math.floor(random() * (random() < 0.5 ? 8 : 20_000));
        pieces.push(STREAM.subarray(at, at + size));
        at += size;
      }
      sameFrames(decodeAll(pieces), whole);
    }
  });

  it('splits inside the 4-byte length', () => {
    const packet = encodeFrame(0x51);
    const decoder = new FrameDecoder();
    assert.deepEqual(decoder.push(packet.subarray(0, 2)), []);
    assert.equal(decoder.pendingBytes, 2);
    const frames = decoder.push(packet.subarray(2));
    assert.equal(frames.length, 1);
    assert.equal(frames[0]?.code, 0x51);
    assert.equal(decoder.pendingBytes, 0);
  });

  it('does not keep frames aliased to the caller’s later writes when reassembling', () => {
    const decoder = new FrameDecoder();
    const packet = encodeFrame(0x48, Buffer.from('abc\0'));
    const first = Buffer.from(packet.subarray(0, 6));
    decoder.push(first);
    const [frame] = decoder.push(Buffer.from(packet.subarray(6)));
    first.fill(0);
    assert.equal(frame?.payload.toString('latin1'), 'abc\0');
  });

  it('rejects length 0', () => {
    assert.throws(() => new FrameDecoder().push(hex('00000000')), EmptyFrameError);
  });

  it('refuses an absurd length before allocating', () => {
    const decoder = new FrameDecoder(1024);
    assert.throws(
      () => decoder.push(hex('ffffffff')),
      (err: unknown) =>
        err instanceof FrameTooLargeError && err.declared === 0xffffffff && err.limit === 1024,
    );
    // 'GET ' read as a length: an HTTP request on the milter port.
    assert.throws(
      () => new FrameDecoder().push(Buffer.from('GET / HTTP/1.1\r\n')),
      FrameTooLargeError,
    );
  });

  it('accepts miltertest’s 65,536-byte body packets and a 60 KB header packet by default', () => {
    const body = encodeFrame(0x42, Buffer.alloc(65536));
    const header = encodeFrame(0x4c, Buffer.alloc(60_000, 0x41));
    const frames = decodeAll([body, header]);
    assert.equal(frames[0]?.payload.length, 65536);
    assert.equal(frames[1]?.payload.length, 60_000);
  });

  it('accepts a length exactly at the cap and refuses one byte more', () => {
    assert.equal(new FrameDecoder(5).push(encodeFrame(0x42, Buffer.alloc(4))).length, 1);
    assert.throws(
      () => new FrameDecoder(5).push(encodeFrame(0x42, Buffer.alloc(5))),
      FrameTooLargeError,
    );
  });

  it('reports a stream that ends inside a packet', () => {
    const decoder = new FrameDecoder();
    decoder.push(hex('00000064 42 0102030405'));
    assert.throws(() => decoder.end(), TruncatedFrameError);
    const header = new FrameDecoder();
    header.push(hex('0000'));
    assert.throws(() => header.end(), TruncatedFrameError);
  });

  it('rejects a non-positive cap', () => {
    assert.throws(() => new FrameDecoder(0), RangeError);
  });
});
