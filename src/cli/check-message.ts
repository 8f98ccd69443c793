/**
 * The message a pipe hands on, pure: the header block as the policy left it, written with the
 * input's own line ends, then the input's body byte for byte (8-bit, long lines, no final
 * newline all kept), unless the policy replaced the body. A leading mbox `From ` line (Postfix
 * local(8) and pipe(8) flag F write one) is kept for the delivery agent that expects it.
 */

const LF = 0x0a;
const CR = 0x0d;
const FIELD = /^[\x21-\x39\x3b-\x7e]+[ \t]*:/;

/** Where the parts of a raw message lie, found as `splitRawMessage` finds them. */
export interface RawLayout {
  /** Length of a leading mbox `From ` line (with its line end), or 0. */
  readonly fromLine: number;
  /** Offset of the empty line that ends the header block, or -1 when there is none. */
  readonly separator: number;
  /** Offset of the body (after the empty line, or where a non-header line starts it). */
  readonly body: number;
  /** The input's line end, from its first line: CRLF, or LF. */
  readonly eol: '\r\n' | '\n';
}

/** Finds the mbox line, the header block's end and the body in the input's own bytes. */
export function rawLayout(raw: Buffer): RawLayout {
  const fromLine =
    raw.subarray(0, 5).toString('latin1') === 'From '
      ? raw.indexOf(LF) === -1
        ? raw.length
        : raw.indexOf(LF) + 1
      : 0;
  const firstEol = raw.indexOf(LF, fromLine);
  const eol = firstEol > fromLine && raw[firstEol - 1] === CR ? '\r\n' : '\n';
  let at = fromLine;
  let sawField = false;
  while (at < raw.length) {
    const lf = raw.indexOf(LF, at);
    const next = lf === -1 ? raw.length : lf + 1;
    const end = lf === -1 ? raw.length : lf > at && raw[lf - 1] === CR ? lf - 1 : lf;
    if (end === at) return { fromLine, separator: at, body: next, eol };
    const first = raw[at] as number;
    const continuation = (first === 0x20 || first === 0x09) && sawField;
    if (!continuation) {
      if (!FIELD.test(raw.subarray(at, Math.min(end, at + 1000)).toString('latin1')))
        return { fromLine, separator: -1, body: at, eol };
      sawField = true;
    }
    at = next;
  }
  return { fromLine, separator: -1, body: raw.length, eol };
}

function toEol(bytes: Buffer, eol: '\r\n' | '\n'): Buffer {
  if (eol === '\r\n') return bytes;
  const text = bytes.toString('latin1');
  return text.includes('\r\n') ? Buffer.from(text.replaceAll('\r\n', '\n'), 'latin1') : bytes;
}

/**
 * The output for `raw` given the policy's resulting message `rendered` (CRLF, as
 * `renderMessage` writes it, without an mbox line): its header block in the input's line ends,
 * then the input's own body, or the rendered body when `bodyReplaced`.
 */
export function pipeMessage(raw: Buffer, rendered: Buffer, bodyReplaced: boolean): Buffer[] {
  const layout = rawLayout(raw);
  const blank = rendered.indexOf('\r\n\r\n');
  const noHeaders = rendered.subarray(0, 2).toString('latin1') === '\r\n';
  const end = noHeaders ? 0 : blank === -1 ? rendered.length : blank + 2;
  const headers = rendered.subarray(0, Math.max(0, end));
  const out: Buffer[] = [raw.subarray(0, layout.fromLine), toEol(headers, layout.eol)];
  if (bodyReplaced) {
    out.push(Buffer.from(layout.eol, 'latin1'), toEol(rendered.subarray(end + 2), layout.eol));
    return out;
  }
  if (layout.separator !== -1) out.push(raw.subarray(layout.separator, layout.body));
  // A headerless input that now has header fields needs the empty line that ends them.
  else if (layout.body === layout.fromLine && headers.length > 0)
    out.push(Buffer.from(layout.eol, 'latin1'));
  out.push(raw.subarray(layout.body));
  return out;
}
