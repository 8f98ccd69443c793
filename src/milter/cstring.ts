/**
 * NUL-terminated strings, the only string form on the milter wire. Everything stays a Buffer:
 * 8-bit header bytes and non-UTF-8 addresses must reach the MTA again exactly as they came.
 */

/** Text for the wire: a JS string is sent as UTF-8, bytes are sent as they are. */
export type WireText = string | Uint8Array;

const NUL = 0;

/** The bytes of `text` (UTF-8 for strings). */
export function toBytes(text: WireText): Buffer {
  return typeof text === 'string'
    ? Buffer.from(text, 'utf8')
    : Buffer.from(text.buffer, text.byteOffset, text.byteLength);
}

/** `text` followed by one NUL byte. */
export function cstring(text: WireText): Buffer {
  const bytes = toBytes(text);
  const out = Buffer.allocUnsafe(bytes.length + 1);
  bytes.copy(out);
  out[bytes.length] = NUL;
  return out;
}

/** True when `text` contains a NUL byte, which would end the string early on the wire. */
export function hasNul(text: WireText): boolean {
  return toBytes(text).includes(NUL);
}

/**
 * Splits a payload made of NUL-terminated strings (an "argv"), e.g. `<a@b>\0SIZE=10\0`.
 * Returns null when the payload does not end in NUL (a truncated or malformed packet).
 */
export function splitCStrings(payload: Buffer): Buffer[] | null {
  if (payload.length === 0) return [];
  if (payload[payload.length - 1] !== NUL) return null;
  const out: Buffer[] = [];
  let start = 0;
  for (;;) {
    const end = payload.indexOf(NUL, start);
    if (end === -1) break;
    out.push(payload.subarray(start, end));
    start = end + 1;
  }
  return out;
}

/** Reads one NUL-terminated string at `offset`; null when no NUL follows. */
export function readCString(
  payload: Buffer,
  offset: number,
): { value: Buffer; next: number } | null {
  const end = payload.indexOf(NUL, offset);
  if (end === -1) return null;
  return { value: payload.subarray(offset, end), next: end + 1 };
}
