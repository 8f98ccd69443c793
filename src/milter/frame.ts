/**
 * Milter framing: `uint32 length (big-endian) | code byte | payload`, where the length counts
 * the code byte plus the payload. e.g. CONTINUE is `00 00 00 01 63` ('c').
 */
import { EmptyFrameError, FrameTooLargeError, TruncatedFrameError } from './errors.ts';

/** One packet off the wire: its code byte and its payload (possibly empty). */
export interface Frame {
  readonly code: number;
  readonly payload: Buffer;
}

/**
 * Default cap on a declared packet length: 1 MiB. Postfix sends a long header as one packet
 * (~60 KB seen; bounded by its header_size_limit, 100 KB by default) and Sendmail's MDS_1M
 * allows 1 MiB body packets.
 */
export const DEFAULT_MAX_FRAME_BYTES = 1024 * 1024;

const HEADER_BYTES = 4;

/**
 * Reassembles packets from a byte stream split or coalesced anywhere. Pure: no I/O.
 * A declared length is checked against the cap before any memory is allocated for it.
 */
export class FrameDecoder {
  readonly #maxFrameBytes: number;
  readonly #header = Buffer.alloc(HEADER_BYTES);
  #headerFill = 0;
  /** The packet being filled (code + payload), once its length is known. */
  #body: Buffer | null = null;
  #bodyFill = 0;

  /** `maxFrameBytes` caps the declared length (code byte included). */
  constructor(maxFrameBytes: number = DEFAULT_MAX_FRAME_BYTES) {
    if (!Number.isInteger(maxFrameBytes) || maxFrameBytes < 1) {
      throw new RangeError(`maxFrameBytes must be a positive integer, got ${maxFrameBytes}`);
    }
    this.#maxFrameBytes = maxFrameBytes;
  }

  /** Bytes received that do not yet form a whole packet. */
  get pendingBytes(): number {
    return this.#headerFill + this.#bodyFill;
  }

  /** Feeds bytes; returns every packet they complete, in order. Throws a MilterProtocolError on a bad length. */
  push(chunk: Uint8Array): Frame[] {
    const frames: Frame[] = [];
    let data = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    while (data.length > 0) {
      if (this.#body === null) {
        // Fast path: a whole packet inside this chunk needs no copy.
        if (this.#headerFill === 0 && data.length >= HEADER_BYTES) {
          const length = this.#checkLength(data.readUInt32BE(0));
          if (data.length >= HEADER_BYTES + length) {
            frames.push(toFrame(data.subarray(HEADER_BYTES, HEADER_BYTES + length)));
            data = data.subarray(HEADER_BYTES + length);
            continue;
          }
        }
        const take = Math.min(HEADER_BYTES - this.#headerFill, data.length);
        data.copy(this.#header, this.#headerFill, 0, take);
        this.#headerFill += take;
        data = data.subarray(take);
        if (this.#headerFill < HEADER_BYTES) break;
        const length = this.#checkLength(this.#header.readUInt32BE(0));
        this.#body = Buffer.allocUnsafe(length);
        this.#bodyFill = 0;
      }
      const take = Math.min(this.#body.length - this.#bodyFill, data.length);
      data.copy(this.#body, this.#bodyFill, 0, take);
      this.#bodyFill += take;
      data = data.subarray(take);
      if (this.#bodyFill === this.#body.length) {
        frames.push(toFrame(this.#body));
        this.#body = null;
        this.#bodyFill = 0;
        this.#headerFill = 0;
      }
    }
    return frames;
  }

  /** Signals the end of the stream; throws TruncatedFrameError if a packet was left incomplete. */
  end(): void {
    if (this.pendingBytes > 0) throw new TruncatedFrameError(this.pendingBytes);
  }

  #checkLength(length: number): number {
    if (length === 0) throw new EmptyFrameError();
    if (length > this.#maxFrameBytes) throw new FrameTooLargeError(length, this.#maxFrameBytes);
    return length;
  }
}

function toFrame(packet: Buffer): Frame {
  // The length check guarantees at least the code byte.
  return { code: packet[0] as number, payload: packet.subarray(1) };
}

/** Encodes one packet as a single Buffer (one write per packet: miltertest reads header and body in one read each). */
export function encodeFrame(code: number, ...parts: readonly Uint8Array[]): Buffer {
  let payloadLength = 0;
  for (const part of parts) payloadLength += part.byteLength;
  const out = Buffer.allocUnsafe(HEADER_BYTES + 1 + payloadLength);
  out.writeUInt32BE(1 + payloadLength, 0);
  out[HEADER_BYTES] = code;
  let offset = HEADER_BYTES + 1;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}
