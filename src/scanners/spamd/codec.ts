/**
 * Pure SPAMC/1.5 codec: request bytes out, one whole reply in. No I/O; the client owns sockets.
 */
import { deflateSync } from 'node:zlib';
import { BadResponseError, ServerError } from '../errors.ts';
import { TruncatedReplyError } from './errors.ts';
import {
  COMPRESS_ZLIB,
  isRetryableStatus,
  type MessageClass,
  SPAMC_VERSION,
  SpamdHeader,
  type SpamdVerb,
  SysExit,
  sysExitName,
  TellTarget,
} from './protocol.ts';

/** Optional request headers. */
export interface SpamdRequestHeaders {
  /** `User:` (whose preferences to use); must not contain control characters. */
  readonly user?: string;
  /** Deflate the body and send `Compress: zlib` (Content-length is then the compressed length). */
  readonly compress?: boolean;
  /** TELL: `Message-class:`; required with `set`. */
  readonly messageClass?: MessageClass;
  /** TELL: databases to learn the message in. */
  readonly set?: readonly TellTarget[];
  /** TELL: databases to forget the message in. */
  readonly remove?: readonly TellTarget[];
}

/** The parsed status line. */
export interface SpamdStatus {
  /** Protocol version spamd answered with, e.g. `1.1`. */
  readonly version: string;
  readonly code: number;
  /** `EX_OK`, `PONG` or the error text. */
  readonly text: string;
}

/** The `Spam:` header. */
export interface SpamHeader {
  readonly isSpam: boolean;
  readonly score: number;
  readonly required: number;
}

/** A reply to CHECK, SYMBOLS, REPORT, REPORT_IFSPAM, PROCESS or HEADERS. */
export interface SpamdScanReply {
  readonly kind: 'scan';
  readonly status: SpamdStatus;
  readonly spam: SpamHeader;
  /** Every reply header, by its exact name. */
  readonly headers: ReadonlyMap<string, string>;
  /** The reply body (symbols, report, message or header block); empty for CHECK. */
  readonly body: Buffer;
}

/** A reply to PING. */
export interface SpamdPong {
  readonly kind: 'pong';
  readonly status: SpamdStatus;
}

/** A reply to TELL. */
export interface SpamdTellReply {
  readonly kind: 'tell';
  readonly status: SpamdStatus;
  /** Databases the message was learned in (none when it was already known). */
  readonly didSet: readonly TellTarget[];
  /** Databases the message was forgotten in. */
  readonly didRemove: readonly TellTarget[];
  readonly headers: ReadonlyMap<string, string>;
}

/** Any successful reply. */
export type SpamdReply = SpamdScanReply | SpamdPong | SpamdTellReply;

const CRLF = Buffer.from('\r\n');
const BLANK_LINE = Buffer.from('\r\n\r\n');
const STATUS_PREFIX = 'SPAMD/';
const MAX_STATUS_LINE = 1024;
/** Verbs whose replies carry a body and therefore (protocol ≥ 1.3) a Content-length. */
const BODY_VERBS: ReadonlySet<SpamdVerb> = new Set([
  'SYMBOLS',
  'REPORT',
  'REPORT_IFSPAM',
  'PROCESS',
  'HEADERS',
]);

/** Builds one request: request line, headers, blank line, body (deflated when asked). */
export function buildRequest(
  verb: SpamdVerb,
  body: Buffer,
  headers: SpamdRequestHeaders = {},
): Buffer {
  // PING (and SKIP) take no headers, but protocol 1.5 wants the blank line.
  if (verb === 'PING') return Buffer.from(`${verb} ${SPAMC_VERSION}\r\n\r\n`, 'latin1');
  const payload = headers.compress === true ? deflateSync(body) : body;
  const lines = [`${verb} ${SPAMC_VERSION}`];
  const user = headers.user;
  if (user !== undefined && user !== '') {
    if (/\p{Cc}/u.test(user))
      throw new RangeError('spamd User must not contain control characters');
    lines.push(`${SpamdHeader.User}: ${Buffer.from(user, 'utf8').toString('latin1')}`);
  }
  if (headers.compress === true) lines.push(`${SpamdHeader.Compress}: ${COMPRESS_ZLIB}`);
  if (verb === 'TELL') lines.push(...tellHeaders(headers));
  lines.push(`${SpamdHeader.ContentLength}: ${payload.length}`);
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  return Buffer.concat([head, payload]);
}

function tellHeaders(headers: SpamdRequestHeaders): string[] {
  const set = headers.set ?? [];
  const remove = headers.remove ?? [];
  if (set.length === 0 && remove.length === 0) throw new RangeError('TELL needs Set or Remove');
  if (set.some((target) => remove.includes(target))) {
    throw new RangeError('TELL cannot set and remove the same database');
  }
  const lines: string[] = [];
  if (set.length > 0) {
    if (headers.messageClass === undefined) throw new RangeError('TELL Set needs a Message-class');
    lines.push(`${SpamdHeader.MessageClass}: ${headers.messageClass}`);
    lines.push(`${SpamdHeader.Set}: ${set.join(', ')}`);
  }
  if (remove.length > 0) lines.push(`${SpamdHeader.Remove}: ${remove.join(', ')}`);
  return lines;
}

/**
 * Parses one whole reply to `verb`. Error status lines become ServerError; anything malformed
 * BadResponseError (TruncatedReplyError when the bytes simply stop early).
 * e.g. `SPAMD/1.1 0 EX_OK\r\nContent-length: 27\r\nSpam: True ; 1000.0 / 5.0\r\n\r\nGTUBE,NO_RECEIVED,NO_RELAYS`
 */
export function parseReply(verb: SpamdVerb, bytes: Buffer, scanner = 'spamd'): SpamdReply {
  const statusEnd = bytes.indexOf(CRLF);
  if (statusEnd < 0) {
    const start = bytes.subarray(0, STATUS_PREFIX.length).toString('latin1');
    if (!STATUS_PREFIX.startsWith(start) || bytes.length > MAX_STATUS_LINE) {
      throw new BadResponseError(scanner, `not a spamd status line: ${excerpt(bytes)}`);
    }
    throw new TruncatedReplyError(scanner, 'no end of status line', bytes.length);
  }
  const status = parseStatusLine(bytes.subarray(0, statusEnd), scanner);
  if (status.code !== SysExit.EX_OK) {
    const name = sysExitName(status.code);
    const detail = name === undefined ? status.text : `${status.text} (${name})`;
    throw new ServerError(scanner, status.code, detail, isRetryableStatus(status.code));
  }
  if (verb === 'PING') {
    if (status.text !== 'PONG')
      throw new BadResponseError(scanner, `PING answered "${status.text}"`);
    if (bytes.length > statusEnd + 2) throw new BadResponseError(scanner, 'bytes after PONG');
    return { kind: 'pong', status };
  }
  if (status.text !== 'EX_OK') throw new BadResponseError(scanner, `status "${status.text}"`);
  const headerEnd = bytes.indexOf(BLANK_LINE, statusEnd);
  if (headerEnd < 0) throw new TruncatedReplyError(scanner, 'no end of headers', bytes.length);
  const headers = parseHeaderLines(bytes.subarray(statusEnd + 2, headerEnd), scanner);
  const body = checkBody(verb, headers, bytes, headerEnd + 4, scanner);
  if (verb === 'TELL') {
    const didSet = parseTellTargets(headers.get(SpamdHeader.DidSet), scanner);
    const didRemove = parseTellTargets(headers.get(SpamdHeader.DidRemove), scanner);
    return { kind: 'tell', status, didSet, didRemove, headers };
  }
  const spamValue = headers.get(SpamdHeader.Spam);
  if (spamValue === undefined) throw new BadResponseError(scanner, `${verb} reply without Spam:`);
  return { kind: 'scan', status, spam: parseSpamHeader(spamValue, scanner), headers, body };
}

/**
 * Parses a status line without its CRLF.
 * e.g. `SPAMD/1.1 0 EX_OK`, `SPAMD/1.5 0 PONG`, `SPAMD/1.0 76 Bad header line: FOO SPAMC/1.5`
 */
export function parseStatusLine(line: Buffer, scanner = 'spamd'): SpamdStatus {
  const match = /^SPAMD\/(\d+\.\d+) (\d{1,3}) ([\x20-\x7e]*)$/.exec(line.toString('latin1'));
  if (match === null) throw new BadResponseError(scanner, `bad status line: ${excerpt(line)}`);
  const [, version = '', code = '', text = ''] = match;
  return { version, code: Number(code), text };
}

/**
 * Parses the value of `Spam:` (True/False from most verbs, Yes/No from REPORT_IFSPAM).
 * e.g. `True ; 1000.0 / 5.0`, `False ; -0.0 / 5.0`, `Yes ; 1000.0 / 5.0`
 */
export function parseSpamHeader(value: string, scanner = 'spamd'): SpamHeader {
  const number = '(-?\\d+(?:\\.\\d+)?)';
  const match = new RegExp(`^(True|False|Yes|No) ; ${number} / ${number}$`).exec(value);
  if (match === null)
    throw new BadResponseError(scanner, `bad Spam header: ${JSON.stringify(value)}`);
  const [, flag = '', score = '', required = ''] = match;
  // `+ 0` turns spamd's `-0.0` into 0.
  return {
    isSpam: flag === 'True' || flag === 'Yes',
    score: Number(score) + 0,
    required: Number(required) + 0,
  };
}

/**
 * Parses `DidSet:` / `DidRemove:` (absent = nothing done).
 * e.g. `local`, `local,remote`
 */
export function parseTellTargets(value: string | undefined, scanner = 'spamd'): TellTarget[] {
  if (value === undefined) return [];
  const targets: TellTarget[] = [];
  for (const item of value.split(',')) {
    const name = item.trim();
    if (name !== TellTarget.Local && name !== TellTarget.Remote) {
      throw new BadResponseError(scanner, `bad TELL result: ${JSON.stringify(value)}`);
    }
    targets.push(name);
  }
  return targets;
}

/**
 * Splits the header block (between the status line and the blank line) into exact names.
 * e.g. `Content-length: 27\r\nSpam: True ; 1000.0 / 5.0`
 */
function parseHeaderLines(block: Buffer, scanner: string): Map<string, string> {
  const headers = new Map<string, string>();
  if (block.length === 0) return headers;
  for (const line of block.toString('latin1').split('\r\n')) {
    const match = /^([!-9;-~]+):[ \t]*([^\r\n]*)$/.exec(line);
    if (match === null)
      throw new BadResponseError(scanner, `bad header line: ${JSON.stringify(line)}`);
    const [, name = '', value = ''] = match;
    if (headers.has(name)) throw new BadResponseError(scanner, `duplicate ${name} header`);
    headers.set(name, value);
  }
  return headers;
}

/** Checks the body against Content-length (required for verbs with a body) and returns it. */
function checkBody(
  verb: SpamdVerb,
  headers: ReadonlyMap<string, string>,
  bytes: Buffer,
  start: number,
  scanner: string,
): Buffer {
  const body = bytes.subarray(start);
  const declared = headers.get(SpamdHeader.ContentLength);
  if (declared === undefined) {
    if (BODY_VERBS.has(verb))
      throw new BadResponseError(scanner, `${verb} reply without Content-length`);
    if (verb === 'TELL') return checkTellBody(body, bytes.length, scanner);
    if (body.length > 0)
      throw new BadResponseError(scanner, `${body.length} bytes after the headers`);
    return body;
  }
  if (!/^\d{1,15}$/.test(declared))
    throw new BadResponseError(scanner, `bad Content-length "${declared}"`);
  const length = Number(declared);
  if (body.length < length) {
    throw new TruncatedReplyError(
      scanner,
      `body has ${body.length} of ${length} bytes`,
      bytes.length,
    );
  }
  if (body.length > length) {
    throw new BadResponseError(
      scanner,
      `${body.length - length} bytes after the ${length}-byte body`,
    );
  }
  return body;
}

/**
 * TELL replies end with a stray CRLF after the blank line (spamd prints "\r\n\r\n" after its
 * headers). e.g. `SPAMD/1.1 0 EX_OK\r\nDidSet: local\r\n\r\n\r\n`
 */
function checkTellBody(body: Buffer, total: number, scanner: string): Buffer {
  const text = body.toString('latin1');
  if (text === '' || text === '\r\n') return body;
  if (text === '\r')
    throw new TruncatedReplyError(scanner, 'TELL reply cut in its last line', total);
  throw new BadResponseError(scanner, `${body.length} unexpected bytes after the TELL headers`);
}

/** A short printable excerpt of bytes for error messages. */
function excerpt(bytes: Buffer): string {
  const text = bytes.subarray(0, 60).toString('latin1');
  return JSON.stringify(bytes.length > 60 ? `${text}…` : text);
}
