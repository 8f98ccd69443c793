/**
 * The two tokenizers every token family builds on: words of free text, and the pieces of a URL.
 */

/** Tokens longer than this are summarised as `skip:<first char>:<length/10>`. */
const MAX_WORD = 20;
const MIN_WORD = 3;
// Characters that may stay inside a word: letters, digits, and the few that spammers lean on.
const EDGE = /^[^\p{L}\p{N}$]+|[^\p{L}\p{N}!%]+$/gu;

/** Word tokens of free text, each prefixed with `prefix` (empty for the body). */
export function wordTokens(text: string, prefix: string, out: Set<string>): void {
  for (const chunk of text.split(/[\s,;:"()<>[\]{}|=*]+/)) {
    if (chunk.length < MIN_WORD) continue;
    if (/^(?:https?:\/\/|www\.)/i.test(chunk)) continue;
    const word = chunk.replace(EDGE, '');
    if (word.length < MIN_WORD) continue;
    if (word.length > MAX_WORD) {
      out.add(`${prefix}skip:${word[0]?.toLowerCase()}:${Math.floor(word.length / 10)}`);
      continue;
    }
    out.add(prefix + word.toLowerCase());
  }
}

/** `url:` tokens of one link: its host and parent domains, and the pieces of its path. */
export function urlTokens(link: string, out: Set<string>): void {
  const text = link.toLowerCase().replace(/^https?:\/\//, '');
  const slash = text.search(/[/?#]/);
  const host = (slash === -1 ? text : text.slice(0, slash))
    .replace(/^[^@]*@/, '')
    .replace(/:\d+$/, '');
  if (/^\d+\.\d+\.\d+\.\d+$/.test(host)) out.add('url:ip-host');
  else {
    const labels = host.split('.').filter(Boolean);
    for (let i = Math.max(0, labels.length - 4); i < labels.length - 1; i++) {
      out.add(`url:${labels.slice(i).join('.')}`);
    }
  }
  if (slash === -1) return;
  for (const piece of text.slice(slash).split(/[/?#&=.\-_%+]+/)) {
    if (piece.length >= MIN_WORD && piece.length <= MAX_WORD) out.add(`url:path:${piece}`);
  }
}
