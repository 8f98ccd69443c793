/**
 * The learned-messages ledger: which message this command taught which scanner as what, so a
 * re-run does not teach the same message again. A message is known by its Message-ID and a
 * SHA-256 of its body (line ends and trailing white space normalised, headers left out: the
 * same message seen in two folders carries different Received/X- headers but is one message).
 *
 * Stored as JSON lines, appended as messages are learned (one `write` per line, so concurrent
 * runs interleave whole lines); the last line for a message wins, and a torn last line from a
 * crash is ignored. The file only grows; delete it to start over (scanners dedupe anyway).
 */
import { createHash } from 'node:crypto';
import { mkdir, open, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { LearnKind } from '../scanners/scanner.ts';

/** The ledger's file name inside the data directory. */
export const LEDGER_FILE = 'learned.jsonl';

/** How a message is recognised. */
export interface Fingerprint {
  /** The Message-ID header, unfolded and without white space; empty when there is none. */
  readonly messageId: string;
  /** SHA-256 (hex) of the normalised body. */
  readonly hash: string;
}

/** One ledger line. */
export interface LedgerEntry extends Fingerprint {
  /** The scanner taught (URL without credentials). */
  readonly scanner: string;
  readonly kind: LearnKind;
  /** When, ISO 8601. */
  readonly at: string;
}

/** The Message-ID and body hash of a message (raw bytes, LF or CRLF). */
export function fingerprint(message: Buffer): Fingerprint {
  const text = message.toString('latin1');
  const split = /\r?\n\r?\n/.exec(text);
  const head = split === null ? text : text.slice(0, split.index);
  const body = split === null ? '' : text.slice(split.index + split[0].length);
  const messageId =
    /^message-id:[ \t]*(.*(?:\r?\n[ \t].*)*)/im.exec(head)?.[1]?.replace(/\s+/g, '') ?? '';
  const normalised = body.replace(/[ \t]*\r?\n/g, '\n').replace(/\s+$/, '');
  return { messageId, hash: createHash('sha256').update(normalised, 'latin1').digest('hex') };
}

/** The last class recorded per (scanner, Message-ID, hash), and how many lines did not parse. */
export interface ParsedLedger {
  readonly entries: Map<string, LearnKind>;
  readonly badLines: number;
}

/** Parses ledger text; lines that do not parse are counted, not fatal. */
export function parseLedger(text: string): ParsedLedger {
  const entries = new Map<string, LearnKind>();
  let badLines = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const entry = parseLine(line);
    if (entry === undefined) badLines++;
    else entries.set(entryKey(entry.scanner, entry), entry.kind);
  }
  return { entries, badLines };
}

/** Writes one line (ending in a newline) to the ledger's file. */
export type LedgerSink = (line: string) => Promise<void>;

/** The ledger in memory, appending each new entry through its sink. */
export class Ledger {
  readonly #entries: Map<string, LearnKind>;
  readonly #sink: LedgerSink;
  readonly #close: () => Promise<void>;

  constructor(entries: Map<string, LearnKind>, sink: LedgerSink, close = async () => {}) {
    this.#entries = entries;
    this.#sink = sink;
    this.#close = close;
  }

  /** Messages with an entry. */
  get size(): number {
    return this.#entries.size;
  }

  /** True when this message was taught to `scanner` as `kind` (`forget` is never skipped). */
  knows(scanner: string, kind: LearnKind, print: Fingerprint): boolean {
    return kind !== 'forget' && this.#entries.get(entryKey(scanner, print)) === kind;
  }

  /** Records that the message is now known to `scanner` as `kind` (or forgotten). */
  async record(
    scanner: string,
    kind: LearnKind,
    print: Fingerprint,
    at = new Date(),
  ): Promise<void> {
    const entry: LedgerEntry = {
      at: at.toISOString(),
      scanner,
      kind,
      messageId: print.messageId,
      hash: print.hash,
    };
    this.#entries.set(entryKey(scanner, print), kind);
    await this.#sink(`${JSON.stringify(entry)}\n`);
  }

  /** Closes the file. */
  close(): Promise<void> {
    return this.#close();
  }
}

/** Opens (creating its directory) the ledger at `file`. */
export async function openLedger(file: string): Promise<Ledger> {
  let text = '';
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dirname(file), { recursive: true, mode: 0o750 });
  const handle = await open(file, 'a', 0o640);
  // A line torn by a crash must not swallow the next entry.
  if (text !== '' && !text.endsWith('\n')) await handle.write('\n');
  const { entries } = parseLedger(text);
  const sink: LedgerSink = async (line) => {
    await handle.write(line);
  };
  return new Ledger(entries, sink, () => handle.close());
}

function entryKey(scanner: string, print: Fingerprint): string {
  return JSON.stringify([scanner, print.messageId, print.hash]);
}

function parseLine(line: string): LedgerEntry | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const kind = v['kind'];
  if (kind !== 'spam' && kind !== 'ham' && kind !== 'forget') return undefined;
  if (typeof v['scanner'] !== 'string' || typeof v['messageId'] !== 'string') return undefined;
  if (typeof v['hash'] !== 'string' || typeof v['at'] !== 'string') return undefined;
  return { at: v['at'], scanner: v['scanner'], kind, messageId: v['messageId'], hash: v['hash'] };
}
