/**
 * HTML → plain text for the tokenizer: drops scripts, styles and comments, turns block tags into
 * line breaks and the rest into nothing, and decodes character references. Not a renderer: the
 * goal is the words a reader would see, cheaply, from possibly broken markup.
 */

/** Named character references common in mail; any other named reference becomes a space. */
const NAMED: Readonly<Record<string, string>> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  copy: '©',
  reg: '®',
  trade: '™',
  euro: '€',
  pound: '£',
  yen: '¥',
  cent: '¢',
  middot: '·',
  bull: '•',
  hellip: '…',
  mdash: '—',
  ndash: '–',
  lsquo: '‘',
  rsquo: '’',
  ldquo: '“',
  rdquo: '”',
};

const INVISIBLE = /<(script|style|head|title)\b[^>]*>[\s\S]*?<\/\1\s*>|<!--[\s\S]*?(?:-->|$)/gi;
const BLOCK = /<\/?(?:p|div|br|tr|td|th|li|ul|ol|table|h[1-6]|blockquote|center|hr|body)\b[^>]*>/gi;
const TAG = /<[^>]*>/g;
const REFERENCE = /&(?:#(\d{1,7})|#x([0-9a-f]{1,6})|([a-z][a-z0-9]{1,31}));?/gi;

/** The visible text of an HTML document or fragment. */
export function htmlToText(html: string): string {
  return decodeReferences(
    html.replace(INVISIBLE, ' ').replace(BLOCK, '\n').replace(TAG, ''),
  ).replace(/[ \t\r\f\v\u00a0]+/g, ' ');
}

/** Decodes `&name;`, `&#NN;` and `&#xHH;` references (a missing `;` is tolerated, as browsers do). */
export function decodeReferences(text: string): string {
  return text.replace(REFERENCE, (_, dec?: string, hex?: string, name?: string) => {
    if (name !== undefined) return NAMED[name.toLowerCase()] ?? ' ';
    const code = dec === undefined ? Number.parseInt(hex ?? '', 16) : Number(dec);
    // Invalid code points (surrogates, beyond U+10FFFF, NUL) decode to nothing visible.
    if (code <= 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return ' ';
    return String.fromCodePoint(code);
  });
}
