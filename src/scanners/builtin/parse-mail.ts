/**
 * The parts of a message the engine looks at, decoded by postal-mime: header fields with encoded
 * words decoded, the text/plain and text/html bodies (transfer encodings and charsets undone),
 * and the attachments' types. A message postal-mime cannot parse is still scanned: its raw
 * header block and body are used as they are, so a malformed message is never an error.
 */
import PostalMime, { decodeWords, type Email } from 'postal-mime';
import { htmlToText } from './html-text.ts';

/** One header field: lower-case name, unfolded value with encoded words decoded. */
export interface MailHeader {
  readonly name: string;
  readonly value: string;
}

/** A parsed message, as the tokenizer and the rules need it. */
export interface ParsedMail {
  readonly headers: readonly MailHeader[];
  /** The text/plain bodies (empty when there is none). */
  readonly text: string;
  /** The text/html bodies as markup (empty when there is none). */
  readonly html: string;
  /** What a reader sees: the plain text, else the HTML rendered as text. */
  readonly visibleText: string;
  /** Attachment MIME types and file names. */
  readonly attachments: readonly { readonly mimeType: string; readonly filename: string }[];
  /** False when postal-mime failed and the raw message was used instead. */
  readonly parsed: boolean;
}

/** Upper bound on the body text handed on: enough for any classifier, cheap for huge mails. */
export const MAX_TEXT_CHARS = 200_000;

/** Parses a whole message (headers and body). */
export async function parseMail(message: Buffer): Promise<ParsedMail> {
  let email: Email;
  try {
    email = await PostalMime.parse(message, { attachmentEncoding: 'arraybuffer' });
  } catch {
    return rawMail(message);
  }
  const text = clip(email.text ?? '');
  const html = clip(email.html ?? '');
  return {
    headers: email.headers.map((h) => ({ name: h.key, value: decodeHeader(h.value) })),
    text,
    html,
    visibleText: text.trim() === '' && html !== '' ? htmlToText(html) : text,
    attachments: email.attachments.map((a) => ({
      mimeType: a.mimeType,
      filename: a.filename ?? '',
    })),
    parsed: true,
  };
}

/** The fallback for a message postal-mime rejects: raw header fields and body as latin1 text. */
function rawMail(message: Buffer): ParsedMail {
  const raw = message.toString('latin1');
  const split = /\r?\n\r?\n/.exec(raw);
  const head = split === null ? raw : raw.slice(0, split.index);
  const body = split === null ? '' : clip(raw.slice(split.index + split[0].length));
  const headers: MailHeader[] = [];
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) {
      headers.push({
        name: line.slice(0, colon).trim().toLowerCase(),
        value: line.slice(colon + 1).trim(),
      });
    }
  }
  return { headers, text: body, html: '', visibleText: body, attachments: [], parsed: false };
}

function decodeHeader(value: string): string {
  if (!value.includes('=?')) return value;
  try {
    return decodeWords(value);
  } catch {
    return value;
  }
}

function clip(text: string): string {
  return text.length > MAX_TEXT_CHARS ? text.slice(0, MAX_TEXT_CHARS) : text;
}

/** The value of the first header field named `name` (lower case), or undefined. */
export function header(mail: ParsedMail, name: string): string | undefined {
  return mail.headers.find((h) => h.name === name)?.value;
}
