/**
 * Reading spamd's PROCESS output (a whole message) or HEADERS output (a header block) back into
 * header fields shaped like the ones the MTA sent (`HeaderField`: bytes after the colon, leading
 * whitespace kept, continuation lines joined with a bare LF) and a CRLF body. Strict: anything
 * that is not a complete, well-formed header block is refused as a whole, so a truncated or
 * garbled reply can never turn into half of its modifications.
 */
import type { HeaderField } from '../message/message.ts';
import { toCrlf } from '../message/normalize.ts';
import { BadResponseError } from '../scanners/errors.ts';

/** Caps on what is accepted from the scanner. */
export const REWRITE_LIMITS = {
  /** Whole output; the same as the spamd client's default reply cap. */
  maxBytes: 64 * 1024 * 1024,
  /** Header fields in the block. */
  maxFields: 10_000,
  /** One field, continuation lines included (Postfix's `header_size_limit` default). */
  maxFieldBytes: 102_400,
} as const;

/** Why a rewritten message was refused. */
export type RewriteFault =
  | 'too-large'
  | 'no-header-end'
  | 'bad-header-line'
  | 'too-many-headers'
  | 'header-too-long';

/**
 * A rewritten message that cannot be applied: a bad scanner answer (`code` is
 * `SCANNER_BAD_RESPONSE`, so the failure policy sorts it like any other), with the `fault`.
 */
export class ProcessRewriteError extends BadResponseError {
  /** Stable reason, for logs and tests. */
  readonly fault: RewriteFault;

  constructor(scanner: string, fault: RewriteFault, detail: string) {
    super(scanner, `rewritten message refused (${fault}): ${detail}`);
    this.name = 'ProcessRewriteError';
    this.fault = fault;
  }
}

/** spamd's output, as `Verdict.rewritten` carries it. */
export interface Rewritten {
  readonly kind: 'message' | 'headers';
  readonly bytes: Buffer;
}

/** The output taken apart. */
export interface ParsedRewrite {
  readonly headers: readonly HeaderField[];
  /** The body with CRLF line ends; undefined for HEADERS output. */
  readonly body: Buffer | undefined;
}

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const TAB = 0x09;
const COLON = 0x3a;
/** RFC 5322 field-name: printable ASCII except the colon. */
const FIELD_NAME = /^[\x21-\x39\x3b-\x7e]+$/;

/**
 * Splits spamd's output into header fields and body. Both verbs must contain the blank line that
 * ends the header block (HEADERS output ends with it; anything after it is ignored). Lines may
 * end in CRLF or LF. Throws {@link ProcessRewriteError} for output that is too big, has no end
 * of headers, a line that is neither a field nor a continuation, a bad field name, or too many
 * or too long fields. `scanner` only labels the error.
 */
export function parseRewritten(rewritten: Rewritten, scanner = 'spamd'): ParsedRewrite {
  const { bytes } = rewritten;
  function fail(fault: RewriteFault, detail: string): never {
    throw new ProcessRewriteError(scanner, fault, detail);
  }
  if (bytes.length > REWRITE_LIMITS.maxBytes) fail('too-large', `${bytes.length} bytes`);
  const headers: { name: string; parts: Buffer[]; size: number }[] = [];
  let pos = 0;
  let lineNumber = 0;
  for (;;) {
    const eol = bytes.indexOf(LF, pos);
    if (eol < 0) fail('no-header-end', 'the header block has no blank line after it');
    const end = eol > pos && bytes[eol - 1] === CR ? eol - 1 : eol;
    const line = bytes.subarray(pos, end);
    lineNumber++;
    pos = eol + 1;
    if (line.length === 0) break;
    const first = line[0];
    const current = headers.at(-1);
    if (first === SP || first === TAB) {
      if (current === undefined) fail('bad-header-line', 'continuation line before any field');
      current.parts.push(Buffer.of(LF), line);
      current.size += line.length + 1;
      if (current.size > REWRITE_LIMITS.maxFieldBytes) {
        fail('header-too-long', `${current.name} is over ${REWRITE_LIMITS.maxFieldBytes} bytes`);
      }
      continue;
    }
    const colon = line.indexOf(COLON);
    // Obsolete syntax allows whitespace between the name and the colon; it is not kept.
    const name = colon < 0 ? '' : line.subarray(0, colon).toString('latin1').trimEnd();
    if (!FIELD_NAME.test(name)) {
      fail('bad-header-line', `line ${lineNumber} of the header block is not a header field`);
    }
    if (headers.length >= REWRITE_LIMITS.maxFields) {
      fail('too-many-headers', `more than ${REWRITE_LIMITS.maxFields} fields`);
    }
    const value = line.subarray(colon + 1);
    if (line.length > REWRITE_LIMITS.maxFieldBytes) {
      fail('header-too-long', `${name} is over ${REWRITE_LIMITS.maxFieldBytes} bytes`);
    }
    headers.push({ name, parts: [value], size: line.length });
  }
  return {
    headers: headers.map(({ name, parts }) => ({ name, value: Buffer.concat(parts) })),
    body: rewritten.kind === 'message' ? toCrlf(bytes.subarray(pos)) : undefined,
  };
}

export { toCrlf };
