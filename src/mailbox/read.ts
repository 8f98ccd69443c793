/**
 * Reads the messages of one file: an mbox (it starts with a `From ` line) is split as it streams
 * in; anything else is one message. Failures are MailboxErrors for the file.
 */
import { createReadStream } from 'node:fs';
import { fromFsError, MailboxError, MailboxErrorCode } from './errors.ts';
import { looksLikeMbox, type MboxMessage, MboxSplitter } from './mbox.ts';

/** One message of a file; a plain message file has one, at index 1. */
export interface FileMessage {
  /** Where it came from: the file, with `#N` appended for the N-th message of an mbox. */
  readonly source: string;
  /** 1-based position in the file. */
  readonly index: number;
  /** The raw message (no `From ` line), line ends as in the file. */
  readonly bytes: Buffer;
}

/** How the file turned out to be stored. */
export type FileFormat = 'message' | 'mbox';

/** The messages of `path`, read in chunks; an empty message throws EMPTY_MESSAGE after the others. */
export async function* readMessages(path: string): AsyncGenerator<FileMessage, FileFormat> {
  const stream = createReadStream(path);
  let head: Buffer[] = [];
  let headLength = 0;
  let splitter: MboxSplitter | undefined;
  const empty: number[] = [];
  const emit = function* (messages: readonly MboxMessage[]): Generator<FileMessage> {
    for (const m of messages) {
      if (m.bytes.length === 0) empty.push(m.index);
      else yield { source: `${path}#${m.index}`, index: m.index, bytes: m.bytes };
    }
  };
  let decided = false;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (splitter !== undefined) {
        yield* emit(splitter.push(chunk));
        continue;
      }
      head.push(chunk);
      headLength += chunk.length;
      if (decided || headLength < 5) continue;
      // Decide on the first 5 bytes; a plain message is kept whole.
      decided = true;
      const first = Buffer.concat(head);
      head = [first];
      if (looksLikeMbox(first)) {
        splitter = new MboxSplitter();
        yield* emit(splitter.push(first));
        head = [];
      }
    }
  } catch (error) {
    throw fromFsError(path, error);
  } finally {
    stream.destroy();
  }
  if (splitter !== undefined) {
    yield* emit(splitter.end());
    if (empty.length > 0) {
      throw new MailboxError(
        MailboxErrorCode.EmptyMessage,
        path,
        `${path}: mbox message(s) ${empty.join(', ')} are empty`,
      );
    }
    return 'mbox';
  }
  const whole = Buffer.concat(head);
  if (whole.toString('latin1').trim() === '')
    throw new MailboxError(MailboxErrorCode.EmptyMessage, path, `${path}: empty file`);
  yield { source: path, index: 1, bytes: whole };
  return 'message';
}

/**
 * True when `bytes` start like an e-mail message: a header field `Name:` on the first line (so a
 * stray database, JSON or text file in a directory is not taught as mail).
 */
export function looksLikeMessage(bytes: Buffer): boolean {
  const eol = bytes.indexOf(0x0a);
  const first = bytes
    .subarray(0, eol === -1 ? Math.min(bytes.length, 1000) : eol)
    .toString('latin1');
  return /^[A-Za-z][A-Za-z0-9_-]*[ \t]*:/.test(first);
}
