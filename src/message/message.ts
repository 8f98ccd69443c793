/**
 * A message as the filter sees it: the SMTP client, the envelope, the header fields and the body,
 * assembled by the milter session. Byte fields stay Buffers so nothing is re-encoded.
 */

/** The SMTP client, from CONNECT and HELO. */
export interface ClientInfo {
  /** The verified host name, or `[ip]` when the MTA has none (Postfix). */
  readonly hostname: string;
  /** `4`, `6`, `L` (unix socket) or `U` (unknown). */
  readonly family: '4' | '6' | 'L' | 'U';
  /** IP address text (Sendmail's `IPv6:` tag removed) or socket path; empty for `U`. */
  readonly address: string;
  /** Client port; 0 for unix sockets, unknown clients and Postfix's non-SMTP mail. */
  readonly port: number;
  /** The HELO/EHLO argument, if one was sent. */
  readonly helo: string | undefined;
}

/** A sender or recipient as the MTA passed it. */
export interface EnvelopeAddress {
  /** The address as text, usually with angle brackets: `<a@example.org>`, `<>`. */
  readonly address: string;
  /** The exact bytes, for sending back to the MTA (e.g. DELRCPT). */
  readonly raw: Buffer;
  /** ESMTP parameters, e.g. `SIZE=1000`, `BODY=8BITMIME`. */
  readonly args: readonly string[];
}

/** One header field. */
export interface HeaderField {
  /** The field name as sent, without the colon. */
  readonly name: string;
  /**
   * The bytes after the colon as they stood in the message: leading whitespace included,
   * continuation lines joined with bare LF (Postfix's folding). Never decoded.
   */
  readonly value: Buffer;
}

/** Everything known about one message at end-of-message. */
export interface Message {
  /** The MTA's queue id (macro `i`) or, when it did not send one, an id of ours. */
  readonly id: string;
  readonly client: ClientInfo;
  readonly sender: EnvelopeAddress | undefined;
  readonly recipients: readonly EnvelopeAddress[];
  readonly headers: readonly HeaderField[];
  /** The body as the MTA sent it (CRLF line ends), at most the session's body cap. */
  readonly body: Buffer;
  /** Body bytes the MTA sent in all (more than `body.length` when truncated). */
  readonly bodyBytes: number;
  /** True when the body was cut at the cap (or the rest skipped), so `body` is a prefix. */
  readonly bodyTruncated: boolean;
  /** Macros visible at end-of-message, names without braces (`client_addr`, `i`). */
  readonly macros: Readonly<Record<string, string>>;
}

const CRLF = Buffer.from('\r\n');

/** Renders the header block and body as one RFC 5322 message with CRLF line ends (for scanners). */
export function renderMessage(message: Pick<Message, 'headers' | 'body'>): Buffer {
  const parts: Buffer[] = [];
  for (const field of message.headers) {
    parts.push(Buffer.from(`${field.name}:`, 'latin1'), lfToCrlf(field.value), CRLF);
  }
  parts.push(CRLF, message.body);
  return Buffer.concat(parts);
}

function lfToCrlf(value: Buffer): Buffer {
  if (!value.includes(0x0a)) return value;
  return Buffer.from(value.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
}
