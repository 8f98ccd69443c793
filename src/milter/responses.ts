/**
 * Milter → MTA replies as a discriminated union, with an encoder (our side) and a decoder (the
 * MTA side: the fake MTA and round-trip tests).
 */
import { assertNever } from '../shared/assert-never.ts';
import { MAX_CHUNK, Reply } from './constants.ts';
import { cstring, readCString, splitCStrings, toBytes, type WireText } from './cstring.ts';
import { MalformedPacketError, UnknownCommandError } from './errors.ts';
import { encodeFrame, type Frame } from './frame.ts';

/** Macro names requested per SMFIM_* stage in the OPTNEG reply, e.g. `{ 0: 'j {client_addr}' }`. */
export type MacroRequests = Readonly<Partial<Record<number, string>>>;

/** One reply from the milter. Text fields take a JS string (sent as UTF-8) or raw bytes. */
export type Response =
  | {
      readonly kind: 'optneg';
      readonly version: number;
      readonly actions: number;
      readonly protocol: number;
      readonly macros?: MacroRequests;
    }
  | { readonly kind: 'accept' }
  | { readonly kind: 'continue' }
  | { readonly kind: 'discard' }
  | { readonly kind: 'reject' }
  | { readonly kind: 'tempfail' }
  | { readonly kind: 'skip' }
  | { readonly kind: 'progress' }
  | { readonly kind: 'shutdown' }
  /** `text` is the whole SMTP reply, e.g. "550 5.7.1 No thanks"; build it with `formatReplyText`. */
  | { readonly kind: 'replycode'; readonly text: WireText }
  | { readonly kind: 'addheader'; readonly name: WireText; readonly value: WireText }
  | {
      readonly kind: 'insheader';
      readonly index: number;
      readonly name: WireText;
      readonly value: WireText;
    }
  /** An empty value deletes the header. */
  | {
      readonly kind: 'chgheader';
      readonly index: number;
      readonly name: WireText;
      readonly value: WireText;
    }
  | { readonly kind: 'addrcpt'; readonly rcpt: WireText }
  | { readonly kind: 'addrcpt_par'; readonly rcpt: WireText; readonly args: readonly WireText[] }
  | { readonly kind: 'delrcpt'; readonly rcpt: WireText }
  | { readonly kind: 'chgfrom'; readonly from: WireText; readonly args: readonly WireText[] }
  /** One piece of the replacement body, at most 65,535 bytes; see `replaceBody`. */
  | { readonly kind: 'replbody'; readonly chunk: Uint8Array }
  | { readonly kind: 'quarantine'; readonly reason: WireText };

/** The `kind` of a reply. */
export type ResponseKind = Response['kind'];

/** Replies that end a step: exactly one per reply-expecting command. */
export const FINAL_KINDS: ReadonlySet<ResponseKind> = new Set([
  'accept',
  'continue',
  'discard',
  'reject',
  'tempfail',
  'skip',
  'replycode',
]);

/** Encodes one reply as one packet. */
export function encodeResponse(response: Response): Buffer {
  switch (response.kind) {
    case 'optneg':
      return encodeOptNeg(response);
    case 'accept':
      return encodeFrame(Reply.Accept);
    case 'continue':
      return encodeFrame(Reply.Continue);
    case 'discard':
      return encodeFrame(Reply.Discard);
    case 'reject':
      return encodeFrame(Reply.Reject);
    case 'tempfail':
      return encodeFrame(Reply.Tempfail);
    case 'skip':
      return encodeFrame(Reply.Skip);
    case 'progress':
      return encodeFrame(Reply.Progress);
    case 'shutdown':
      return encodeFrame(Reply.Shutdown);
    case 'replycode':
      return encodeFrame(Reply.ReplyCode, cstring(response.text));
    case 'addheader':
      return encodeFrame(Reply.AddHeader, cstring(response.name), cstring(response.value));
    case 'insheader':
      return encodeFrame(
        Reply.InsHeader,
        u32(response.index),
        cstring(response.name),
        cstring(response.value),
      );
    case 'chgheader':
      return encodeFrame(
        Reply.ChgHeader,
        u32(response.index),
        cstring(response.name),
        cstring(response.value),
      );
    case 'addrcpt':
      return encodeFrame(Reply.AddRcpt, cstring(response.rcpt));
    case 'addrcpt_par':
      return encodeFrame(Reply.AddRcptPar, cstring(response.rcpt), ...response.args.map(cstring));
    case 'delrcpt':
      return encodeFrame(Reply.DelRcpt, cstring(response.rcpt));
    case 'chgfrom':
      return encodeFrame(Reply.ChgFrom, cstring(response.from), ...response.args.map(cstring));
    case 'replbody':
      if (response.chunk.byteLength > MAX_CHUNK) {
        throw new RangeError(
          `REPLBODY chunk of ${response.chunk.byteLength} bytes exceeds ${MAX_CHUNK}`,
        );
      }
      return encodeFrame(Reply.ReplBody, response.chunk);
    case 'quarantine':
      return encodeFrame(Reply.Quarantine, cstring(response.reason));
    default:
      return assertNever(response);
  }
}

// e.g. 'O' 00000006 00000011 001c00ff, then per stage: u32 stage + "j {client_addr}\0"
function encodeOptNeg(response: Extract<Response, { kind: 'optneg' }>): Buffer {
  const parts: Buffer[] = [u32(response.version), u32(response.actions), u32(response.protocol)];
  for (const [stage, names] of Object.entries(response.macros ?? {})) {
    if (names !== undefined) parts.push(u32(Number(stage)), cstring(names));
  }
  return encodeFrame(Reply.OptNeg, ...parts);
}

function u32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value, 0);
  return out;
}

/** Splits a replacement body into REPLBODY replies of at most 65,535 bytes each, in order. */
export function replaceBody(body: Uint8Array): Response[] {
  const bytes = toBytes(body);
  const out: Response[] = [];
  for (let at = 0; at < bytes.length; at += MAX_CHUNK) {
    out.push({ kind: 'replbody', chunk: bytes.subarray(at, at + MAX_CHUNK) });
  }
  // An empty body still needs one (empty) REPLBODY to say "replace with nothing".
  if (out.length === 0) out.push({ kind: 'replbody', chunk: bytes });
  return out;
}

/**
 * Builds REPLYCODE text: `550 5.7.1 text`, or multi-line `550-5.7.1 a\r\n550 5.7.1 b`.
 * '%' is doubled because both MTAs treat the text as a format string.
 */
export function formatReplyText(
  code: number,
  enhanced: string | undefined,
  lines: readonly string[],
): string {
  if (!Number.isInteger(code) || code < 400 || code > 599)
    throw new RangeError(`reply code ${code} is not 4xx or 5xx`);
  if (
    enhanced !== undefined &&
    !new RegExp(`^${String(code)[0]}\\.\\d{1,3}\\.\\d{1,3}$`).test(enhanced)
  ) {
    throw new RangeError(`enhanced status ${enhanced} does not match reply code ${code}`);
  }
  if (lines.length === 0 || lines.length > 32) throw new RangeError('a reply has 1 to 32 lines');
  const prefix = enhanced === undefined ? '' : `${enhanced} `;
  return lines
    .map((line, i) => {
      if (/[\r\n\0]/.test(line)) throw new RangeError('a reply line may not contain CR, LF or NUL');
      const sep = i === lines.length - 1 ? ' ' : '-';
      const text = `${code}${sep}${prefix}${line.replaceAll('%', '%%')}`;
      if (text.length > 980) throw new RangeError('a reply line is longer than 980 characters');
      return text;
    })
    .join('\r\n');
}

/** Decodes one reply packet as the MTA reads it (fake MTA and tests). Text fields come back as Buffers. */
export function decodeResponse(frame: Frame): Response {
  const { code, payload } = frame;
  switch (code) {
    case Reply.OptNeg:
      return decodeOptNegReply(payload);
    case Reply.Accept:
      return { kind: 'accept' };
    case Reply.Continue:
      return { kind: 'continue' };
    case Reply.Discard:
      return { kind: 'discard' };
    case Reply.Reject:
      return { kind: 'reject' };
    case Reply.Tempfail:
      return { kind: 'tempfail' };
    case Reply.Skip:
      return { kind: 'skip' };
    case Reply.Progress:
      return { kind: 'progress' };
    case Reply.Shutdown:
      return { kind: 'shutdown' };
    case Reply.ReplyCode:
      return { kind: 'replycode', text: strings(code, payload, 1)[0] as Buffer };
    case Reply.AddHeader: {
      const [name, value] = strings(code, payload, 2) as [Buffer, Buffer];
      return { kind: 'addheader', name, value };
    }
    case Reply.InsHeader:
    case Reply.ChgHeader: {
      if (payload.length < 4) throw new MalformedPacketError(code, 'no header index');
      const [name, value] = strings(code, payload.subarray(4), 2) as [Buffer, Buffer];
      const index = payload.readUInt32BE(0);
      return code === Reply.InsHeader
        ? { kind: 'insheader', index, name, value }
        : { kind: 'chgheader', index, name, value };
    }
    case Reply.AddRcpt:
      return { kind: 'addrcpt', rcpt: strings(code, payload, 1)[0] as Buffer };
    case Reply.DelRcpt:
      return { kind: 'delrcpt', rcpt: strings(code, payload, 1)[0] as Buffer };
    case Reply.AddRcptPar: {
      const [rcpt, ...args] = strings(code, payload, -1);
      return { kind: 'addrcpt_par', rcpt: rcpt as Buffer, args };
    }
    case Reply.ChgFrom: {
      const [from, ...args] = strings(code, payload, -1);
      return { kind: 'chgfrom', from: from as Buffer, args };
    }
    case Reply.ReplBody:
      return { kind: 'replbody', chunk: payload };
    case Reply.Quarantine:
      return { kind: 'quarantine', reason: strings(code, payload, 1)[0] as Buffer };
    default:
      throw new UnknownCommandError(code);
  }
}

function decodeOptNegReply(payload: Buffer): Response {
  if (payload.length < 12)
    throw new MalformedPacketError(Reply.OptNeg, `needs 12 bytes, got ${payload.length}`);
  const macros: Record<number, string> = {};
  let at = 12;
  while (at < payload.length) {
    if (payload.length < at + 4)
      throw new MalformedPacketError(Reply.OptNeg, 'truncated macro list');
    const stage = payload.readUInt32BE(at);
    const names = readCString(payload, at + 4);
    if (names === null)
      throw new MalformedPacketError(Reply.OptNeg, 'macro list not NUL-terminated');
    macros[stage] = names.value.toString('latin1');
    at = names.next;
  }
  return {
    kind: 'optneg',
    version: payload.readUInt32BE(0),
    actions: payload.readUInt32BE(4),
    protocol: payload.readUInt32BE(8),
    macros,
  };
}

/** Splits exactly `count` NUL-terminated strings (at least one when count is -1). */
function strings(code: number, payload: Buffer, count: number): Buffer[] {
  const parts = splitCStrings(payload);
  if (parts === null || (count === -1 ? parts.length < 1 : parts.length !== count)) {
    throw new MalformedPacketError(
      code,
      `expected ${count === -1 ? 'one or more' : count} NUL-terminated strings`,
    );
  }
  return parts;
}
