/**
 * A raw RFC 5322 message (a file, a pipe) turned into the `Message` the milter session would
 * build from the same mail: header fields with the bytes after the colon and LF-joined folds,
 * a CRLF body cut at the session's cap, and the envelope and macros an MTA would pass.
 */
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import type { ClientInfo, EnvelopeAddress, HeaderField, Message } from './message.ts';
import { normalizeRawMessage } from './normalize.ts';

/** What the MTA would know of the SMTP session that carried the message. */
export interface RawEnvelope {
  /** The client's IP address (`[…]` and `IPv6:` allowed); anything else is an unknown client. */
  readonly clientAddress: string;
  /** The verified client host name; Postfix's `[ip]` when absent. */
  readonly clientName?: string | undefined;
  readonly helo?: string | undefined;
  /** The envelope sender, with or without angle brackets; empty for the null sender. */
  readonly sender: string;
  readonly recipients: readonly string[];
  /** The SMTP AUTH user (macro `auth_authen`), if the client authenticated. */
  readonly authUser?: string | undefined;
  /** The MTA queue id (macro `i`); without it the id is made up as the session would. */
  readonly queueId?: string | undefined;
  /** The MTA's own host name (macro `j`). */
  readonly mtaName?: string | undefined;
}

/** The header fields and the whole body of a raw message. */
export interface RawParts {
  readonly headers: HeaderField[];
  /** The whole body, CRLF line ends (what the MTA delivers, whatever the scan cap). */
  readonly body: Buffer;
}

const FIELD = /^([\x21-\x39\x3b-\x7e]+)[ \t]*:/;

/**
 * Splits a raw message into header fields and body. An mbox `From ` line is dropped and bare LF
 * become CRLF first. The header block ends at the first empty line, or (as in Postfix) at the
 * first line that is neither a field nor a continuation, which then starts the body.
 */
export function splitRawMessage(raw: Buffer): RawParts {
  const bytes = normalizeRawMessage(raw);
  const text = bytes.toString('latin1');
  const headers: { name: string; value: string }[] = [];
  let at = 0;
  while (at < text.length) {
    const eol = text.indexOf('\r\n', at);
    const end = eol === -1 ? text.length : eol;
    const line = text.slice(at, end);
    const next = eol === -1 ? text.length : eol + 2;
    if (line === '') return finish(headers, bytes.subarray(next));
    const last = headers.at(-1);
    if (/^[ \t]/.test(line) && last !== undefined) last.value += `\n${line}`;
    else {
      const field = FIELD.exec(line);
      if (field === null) break;
      headers.push({ name: field[1] as string, value: line.slice(field[0].length) });
    }
    at = next;
  }
  return finish(headers, bytes.subarray(at));
}

function finish(fields: readonly { name: string; value: string }[], body: Buffer): RawParts {
  const headers = fields.map(({ name, value }) => ({ name, value: Buffer.from(value, 'latin1') }));
  return { headers, body };
}

/** `a@b` → `<a@b>`; `<a@b>` stays; empty and `<>` → `<>` (the null sender). */
export function angleAddress(address: string): string {
  const text = address.trim();
  if (text.startsWith('<') && text.endsWith('>')) return text;
  return `<${text}>`;
}

function envelopeAddress(address: string): EnvelopeAddress {
  const text = angleAddress(address);
  return { address: text, raw: Buffer.from(text, 'utf8'), args: [] };
}

/** The client as the session records it at CONNECT and HELO. */
export function clientInfo(
  envelope: Pick<RawEnvelope, 'clientAddress' | 'clientName' | 'helo'>,
): ClientInfo {
  let address = envelope.clientAddress.trim();
  if (address.startsWith('[') && address.endsWith(']')) address = address.slice(1, -1);
  if (/^ipv6:/i.test(address)) address = address.slice(5);
  const version = isIP(address);
  const family = version === 4 ? '4' : version === 6 ? '6' : 'U';
  const known = family === 'U' ? '' : address;
  return {
    hostname: envelope.clientName ?? (known === '' ? 'unknown' : `[${known}]`),
    family,
    address: known,
    port: 0,
    helo: envelope.helo,
  };
}

/**
 * The Message the milter session would hand the filter: `maxBodyBytes` is the session's body cap
 * (`scan.maxScanBytes`); a longer body is cut there and marked truncated, as in the session.
 */
export function messageFromRaw(
  raw: Buffer,
  envelope: RawEnvelope,
  maxBodyBytes: number,
): { readonly message: Message; readonly parts: RawParts } {
  const parts = splitRawMessage(raw);
  const sender = envelopeAddress(envelope.sender);
  const client = clientInfo(envelope);
  const macros: Record<string, string> = {
    client_addr: client.address,
    client_name: client.hostname,
    mail_addr: sender.address.slice(1, -1),
  };
  if (envelope.queueId !== undefined) macros['i'] = envelope.queueId;
  if (envelope.mtaName !== undefined) macros['j'] = envelope.mtaName;
  if (envelope.authUser !== undefined && envelope.authUser !== '')
    macros['auth_authen'] = envelope.authUser;
  const truncated = parts.body.length > maxBodyBytes;
  const message: Message = {
    id: envelope.queueId ?? `sw-${randomBytes(6).toString('hex')}`,
    client,
    sender,
    recipients: envelope.recipients.map(envelopeAddress),
    headers: parts.headers,
    body: truncated ? Buffer.from(parts.body.subarray(0, maxBodyBytes)) : parts.body,
    bodyBytes: parts.body.length,
    bodyTruncated: truncated,
    macros,
  };
  return { message, parts };
}
