/**
 * Reads the spamd transcripts in test/fixtures/spamd/ (verbatim copies of captures from a real
 * spamd 4.0.1) back into the exact bytes on the wire. Format: `>>> request head:` and
 * `<<< response: N bytes, …` sections of indented lines with `\r\n` written out, then an optional
 * `<<< response body (N bytes):` section of `  | `-prefixed lines (joined with LF, `\r` written
 * out). The byte counts in the section titles are checked, so a reconstruction is exact.
 */
import { readFileSync } from 'node:fs';

/** The bytes of one captured exchange. */
export interface Transcript {
  /** The request line and headers with the blank line (the body came from a file). */
  readonly requestHead: Buffer;
  /** The whole reply as spamd sent it. */
  readonly reply: Buffer;
}

const FIXTURES = new URL('../fixtures/spamd/', import.meta.url);

/** Loads `test/fixtures/spamd/<name>` and checks its byte counts. */
export function loadTranscript(name: string): Transcript {
  const lines = readFileSync(new URL(name, FIXTURES), 'latin1').split('\n');
  if (lines.at(-1) === '') lines.pop();
  let section: 'none' | 'request' | 'response' | 'body' = 'none';
  let declaredReply = -1;
  let declaredBody = -1;
  const request: string[] = [];
  const head: string[] = [];
  const body: string[] = [];
  for (const line of lines) {
    const reply = /^<<< response: (\d+) bytes/.exec(line);
    const bodyTitle = /^<<< response body \((\d+) bytes\):$/.exec(line);
    if (line === '>>> request head:') section = 'request';
    else if (line.startsWith('>>> ')) section = 'none';
    else if (reply !== null) {
      section = 'response';
      declaredReply = Number(reply[1]);
    } else if (bodyTitle !== null) {
      section = 'body';
      declaredBody = Number(bodyTitle[1]);
    } else if (section === 'body') {
      if (!line.startsWith('  |'))
        throw new Error(`${name}: bad body line ${JSON.stringify(line)}`);
      body.push(line.slice(line.startsWith('  | ') ? 4 : 3));
    } else if (section === 'request' || section === 'response') {
      if (!line.startsWith('  ')) throw new Error(`${name}: bad line ${JSON.stringify(line)}`);
      (section === 'request' ? request : head).push(line.slice(2));
    }
  }
  const crlf = (text: string): string => text.replaceAll('\\r\\n', '\r\n');
  const bodyBytes = Buffer.from(body.join('\n').replaceAll('\\r', '\r'), 'latin1');
  if (declaredBody >= 0 && bodyBytes.length !== declaredBody) {
    throw new Error(`${name}: body is ${bodyBytes.length} bytes, title says ${declaredBody}`);
  }
  const replyBytes = Buffer.concat([Buffer.from(crlf(head.join('')), 'latin1'), bodyBytes]);
  if (replyBytes.length !== declaredReply) {
    throw new Error(`${name}: reply is ${replyBytes.length} bytes, title says ${declaredReply}`);
  }
  return { requestHead: Buffer.from(crlf(request.join('')), 'latin1'), reply: replyBytes };
}

/** Raw bytes of a fixture file that is already a byte-exact capture (`*.raw`). */
export function loadRaw(name: string): Buffer {
  return readFileSync(new URL(name, FIXTURES));
}

/**
 * The 368-byte GTUBE probe message these transcripts were made with, recovered from the
 * message/rfc822 part of the report_safe 1 PROCESS reply (which holds it byte for byte).
 */
export function gtubeProbe(): Buffer {
  const { reply } = loadTranscript('spamd-PROCESS-gtube.txt');
  const text = reply.toString('latin1');
  const part = text.indexOf('Content-Type: message/rfc822');
  const start = text.indexOf('\n\n', part) + 2;
  const end = text.indexOf('\n------------=_', start);
  return Buffer.from(text.slice(start, end), 'latin1');
}
