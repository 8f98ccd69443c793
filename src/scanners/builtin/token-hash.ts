/**
 * Token hashing: every token is stored as a 52-bit integer instead of its text. That keeps the
 * SQLite table a plain rowid table (the fastest lookup it has) and Redis fields short, and it
 * keeps message text out of the store. Not cryptographic: two tokens that collide just share
 * their counts, which at 2^52 values and a few million tokens practically never happens.
 */

/** Largest value tokenHash can return (2^52 − 1): still an exact JavaScript number. */
export const TOKEN_HASH_MAX = 2 ** 52 - 1;

/** The 52-bit hash of one token. */
export function tokenHash(token: string): number {
  // Two 32-bit FNV-1a style lanes with different primes, each finished with an avalanche mix;
  // 32 bits of one and 20 of the other make the result. A JS loop beats node:crypto here: a
  // scan hashes hundreds of short strings and createHash() costs far more per call than that.
  let a = 0x811c9dc5;
  let b = 0x2545f491;
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  b ^= a >>> 7;
  a ^= a >>> 16;
  a = Math.imul(a, 0x7feb352d);
  a ^= a >>> 15;
  a = Math.imul(a, 0x846ca68b);
  a ^= a >>> 16;
  b ^= b >>> 15;
  b = Math.imul(b, 0x2c1b3c6d);
  b ^= b >>> 12;
  b = Math.imul(b, 0x297a2d39);
  b ^= b >>> 15;
  return (b >>> 0) * 2 ** 20 + (a >>> 12);
}

/** The distinct hashes of `tokens`, in first-seen order. */
export function hashTokens(tokens: Iterable<string>): number[] {
  const seen = new Set<number>();
  for (const token of tokens) seen.add(tokenHash(token));
  return [...seen];
}
