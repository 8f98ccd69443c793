/**
 * mbox files: messages separated by lines that begin with `From ` (the "From_" line, which is
 * not part of the message). Body lines that began with `From ` were written as `>From `; mboxrd
 * also quotes already-quoted lines (`>>From `), so one `>` is removed from any `>…>From ` line.
 * The blank line a writer puts after each message is dropped. LF and CRLF files both work, and
 * the last message need not end in a newline. Splitting is incremental, so an mbox of any size
 * is read in chunks (see read.ts).
 */

const LF = 0x0a;
const CR = 0x0d;
const GT = 0x3e;
const FROM_ = Buffer.from('From ', 'latin1');

/** True when `head` (the first bytes of a file) starts like an mbox: with a `From ` line. */
export function looksLikeMbox(head: Buffer): boolean {
  return head.subarray(0, FROM_.length).equals(FROM_);
}

/** One message cut out of an mbox. */
export interface MboxMessage {
  /** 1-based position in the mbox. */
  readonly index: number;
  /** 1-based line number of its `From ` line. */
  readonly line: number;
  /** The message without its `From ` line, un-quoted, line ends as in the file. */
  readonly bytes: Buffer;
}

/** Splits an mbox fed in chunks: `push` each chunk, then `end`; both return finished messages. */
export class MboxSplitter {
  #pending: Buffer = Buffer.alloc(0);
  #lines: Buffer[] = [];
  #started = false;
  #index = 0;
  #lineNo = 0;
  #fromLine = 0;
  #preamble = false;

  /** Whether non-empty text came before the first `From ` line (it is ignored). */
  get hadPreamble(): boolean {
    return this.#preamble;
  }

  /** Feeds a chunk; returns the messages it completed. */
  push(chunk: Buffer): MboxMessage[] {
    const data = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const out: MboxMessage[] = [];
    let start = 0;
    for (let eol = data.indexOf(LF, start); eol !== -1; eol = data.indexOf(LF, start)) {
      this.#line(data.subarray(start, eol + 1), out);
      start = eol + 1;
    }
    // Copy the tail so the caller's chunk can be released.
    this.#pending = Buffer.from(data.subarray(start));
    return out;
  }

  /** Ends the input; returns the last message(s). */
  end(): MboxMessage[] {
    const out: MboxMessage[] = [];
    if (this.#pending.length > 0) this.#line(this.#pending, out);
    this.#pending = Buffer.alloc(0);
    if (this.#started) out.push(this.#finish());
    this.#started = false;
    return out;
  }

  #line(line: Buffer, out: MboxMessage[]): void {
    this.#lineNo++;
    if (startsWith(line, 0, FROM_)) {
      if (this.#started) out.push(this.#finish());
      this.#started = true;
      this.#fromLine = this.#lineNo;
      return;
    }
    if (!this.#started) {
      if (!isBlank(line)) this.#preamble = true;
      return;
    }
    this.#lines.push(unquote(line));
  }

  #finish(): MboxMessage {
    const bytes = dropSeparatorLine(Buffer.concat(this.#lines));
    this.#lines = [];
    this.#index++;
    return { index: this.#index, line: this.#fromLine, bytes };
  }
}

/** Every message of a whole mbox in memory. */
export function splitMbox(mbox: Buffer): MboxMessage[] {
  const splitter = new MboxSplitter();
  return [...splitter.push(mbox), ...splitter.end()];
}

/** `>From ` → `From `, `>>From ` → `>From ` (one level of quoting removed); others unchanged. */
function unquote(line: Buffer): Buffer {
  let i = 0;
  while (i < line.length && line[i] === GT) i++;
  return i > 0 && startsWith(line, i, FROM_) ? line.subarray(1) : line;
}

/** Drops the blank line that separates a message from the next `From ` line. */
function dropSeparatorLine(bytes: Buffer): Buffer {
  const n = bytes.length;
  if (n >= 4 && bytes[n - 4] === CR && bytes[n - 3] === LF && bytes[n - 2] === CR) {
    if (bytes[n - 1] === LF) return bytes.subarray(0, n - 2);
  }
  if (n >= 2 && bytes[n - 2] === LF && bytes[n - 1] === LF) return bytes.subarray(0, n - 1);
  // A message that is nothing but the separator line.
  if ((n === 1 && bytes[0] === LF) || (n === 2 && bytes[0] === CR && bytes[1] === LF))
    return bytes.subarray(0, 0);
  return bytes;
}

function startsWith(buffer: Buffer, at: number, prefix: Buffer): boolean {
  if (buffer.length - at < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (buffer[at + i] !== prefix[i]) return false;
  return true;
}

function isBlank(line: Buffer): boolean {
  for (const byte of line)
    if (byte !== LF && byte !== CR && byte !== 0x20 && byte !== 0x09) return false;
  return true;
}
