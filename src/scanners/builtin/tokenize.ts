/**
 * The tokenizer: turns a parsed message into the set of features the Bayes classifier counts.
 * Body words are bare (`viagra`); everything from a header carries the header's name as a prefix
 * (`subject:viagra`, `from:dom:example.com`), so a word in a Subject and the same word in the body
 * are different evidence. URLs, Received hops, addresses and the MIME layout get their own
 * families. Only the set matters: a token counts once per message, as in SpamAssassin's Bayes.
 */
import type { ParsedMail } from './parse-mail.ts';
import { headerTokens } from './tokenize-headers.ts';
import { urlTokens, wordTokens } from './tokenize-words.ts';

/** Only this much visible text is tokenized: the start of a message carries the signal. */
const MAX_BODY_CHARS = 100_000;

const URL = /\b(?:https?:\/\/|www\.)[^\s"'<>()]+/gi;
const EMAIL = /[\w.+-]+@([\w-]+(?:\.[\w-]+)+)/g;
const HREF = /\b(?:href|src|action)\s*=\s*["']?([^"'\s>]+)/gi;

/** Every token of a message, as strings (hash them with hashTokens before storing). */
export function tokenize(mail: ParsedMail): Set<string> {
  const out = new Set<string>();
  headerTokens(mail, out);
  const text = mail.visibleText.slice(0, MAX_BODY_CHARS);
  wordTokens(text, '', out);
  for (const match of text.matchAll(URL)) urlTokens(match[0], out);
  for (const match of mail.html.slice(0, MAX_BODY_CHARS).matchAll(HREF)) {
    const link = match[1] ?? '';
    if (/^(?:https?:|www\.)/i.test(link)) urlTokens(link, out);
    else if (/^mailto:/i.test(link)) out.add('url:mailto');
  }
  htmlTokens(mail.html.slice(0, MAX_BODY_CHARS), out);
  for (const match of text.matchAll(EMAIL)) out.add(`email:${(match[1] ?? '').toLowerCase()}`);
  layoutTokens(mail, out);
  return out;
}

/** The markup of the HTML body: its tag names (`html:font`). */
function htmlTokens(html: string, out: Set<string>): void {
  for (const match of html.matchAll(/<([a-z][a-z0-9]*)\b/gi)) {
    const tag = (match[1] ?? '').toLowerCase();
    out.add(`html:${tag}`);
  }
}

/** The MIME layout: which kinds of body parts there are, and attachment types. */
function layoutTokens(mail: ParsedMail, out: Set<string>): void {
  const hasText = mail.text.trim() !== '';
  const hasHtml = mail.html.trim() !== '';
  out.add(`mime:${hasText ? 'text' : 'notext'}:${hasHtml ? 'html' : 'nohtml'}`);
  for (const attachment of mail.attachments) {
    out.add(`mime:att:${attachment.mimeType}`);
    const ext = /\.([a-z0-9]{1,8})$/i.exec(attachment.filename)?.[1];
    if (ext !== undefined) out.add(`mime:ext:${ext.toLowerCase()}`);
  }
}
