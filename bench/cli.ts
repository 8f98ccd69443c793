/**
 * Small command-line helpers the bench entry points share: checking a numeric option, splitting
 * a space-separated option (such as `--node-flags=…`) into words, and a progress line on stderr
 * (stdout carries the Markdown).
 */

/** `text` as a positive integer, or a RangeError naming the option `--name`. */
export function positive(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1)
    throw new RangeError(`--${name}: ${text} is not a positive integer`);
  return n;
}

/** The words of a space-separated option value; none for an empty or blank one. */
export function words(text: string): string[] {
  return text.split(/\s+/).filter((w) => w !== '');
}

/** Writes one progress line to stderr. */
export function say(text: string): void {
  process.stderr.write(`${text}\n`);
}
