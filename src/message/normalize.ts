/**
 * Raw messages from files and pipes, made ready for a scanner: an mbox `From ` separator line is
 * dropped and line ends become CRLF, as the MTA would hand the message over.
 */

const LF = 0x0a;
const CR = 0x0d;

/** Drops a leading mbox `From ` line and turns bare LF into CRLF; other bytes are untouched. */
export function normalizeRawMessage(raw: Buffer): Buffer {
  let bytes = raw;
  if (bytes.subarray(0, 5).toString('latin1') === 'From ') {
    const eol = bytes.indexOf(LF);
    bytes = eol === -1 ? Buffer.alloc(0) : bytes.subarray(eol + 1);
  }
  return toCrlf(bytes);
}

/** The bytes with every bare LF turned into CRLF (existing CRLF and lone CR untouched). */
export function toCrlf(bytes: Buffer): Buffer {
  let bare = 0;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === LF && bytes[i - 1] !== CR) bare++;
  if (bare === 0) return bytes;
  const out = Buffer.allocUnsafe(bytes.length + bare);
  let o = 0;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i] as number;
    if (byte === LF && bytes[i - 1] !== CR) out[o++] = CR;
    out[o++] = byte;
  }
  return out;
}
