/**
 * Reading RFC 2047 encoded-words back, for comparisons only (is this Subject already tagged?).
 * Header values we write are never built from decoded text.
 */

const WORD = /=\?([^?\s]+)\?([QqBb])\?([^?\s]*)\?=/g;

interface Piece {
  readonly charset?: string;
  readonly bytes?: Buffer;
  readonly text?: string;
}

/**
 * Decodes the encoded-words in `value` (whitespace between two adjacent encoded-words is
 * dropped, as RFC 2047 says). Adjacent words of one charset are decoded together, so a character
 * split across words survives. A word in an unknown charset is left as it was.
 */
export function decodeEncodedWords(value: string): string {
  const pieces: Piece[] = [];
  let last = 0;
  for (const match of value.matchAll(WORD)) {
    const between = value.slice(last, match.index);
    const previous = pieces.at(-1);
    const adjacent = previous?.bytes !== undefined && /^[ \t\r\n]*$/.test(between);
    if (!adjacent && between !== '') pieces.push({ text: between });
    const [word, rawCharset = '', kind = 'Q', payload = ''] = match;
    // RFC 2231 allows a language after the charset: `UTF-8*en`.
    const charset = rawCharset.split('*')[0]?.toLowerCase() ?? '';
    const bytes = kind.toUpperCase() === 'B' ? Buffer.from(payload, 'base64') : qDecode(payload);
    if (!isKnownCharset(charset)) pieces.push({ text: word });
    else if (adjacent && previous?.charset === charset && previous.bytes !== undefined) {
      pieces[pieces.length - 1] = { charset, bytes: Buffer.concat([previous.bytes, bytes]) };
    } else pieces.push({ charset, bytes });
    last = match.index + word.length;
  }
  if (pieces.length === 0) return value;
  pieces.push({ text: value.slice(last) });
  return pieces
    .map((piece) =>
      piece.bytes !== undefined && piece.charset !== undefined
        ? new TextDecoder(piece.charset).decode(piece.bytes)
        : (piece.text ?? ''),
    )
    .join('');
}

function isKnownCharset(charset: string): boolean {
  try {
    new TextDecoder(charset);
    return true;
  } catch {
    return false;
  }
}

function qDecode(payload: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < payload.length; i++) {
    const char = payload[i] ?? '';
    const hex = payload.slice(i + 1, i + 3);
    if (char === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else if (char === '_') bytes.push(0x20);
    else bytes.push(char.charCodeAt(0) & 0xff);
  }
  return Buffer.from(bytes);
}
