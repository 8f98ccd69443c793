import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hashTokens, TOKEN_HASH_MAX, tokenHash } from './token-hash.ts';

describe('tokenHash', () => {
  it('is a deterministic non-negative integer of at most 52 bits', () => {
    for (const token of ['', 'a', 'viagra', 'subject:free', 'ü€𝄞', 'x'.repeat(500)]) {
      const h = tokenHash(token);
      assert.ok(Number.isSafeInteger(h) && h >= 0 && h <= TOKEN_HASH_MAX, `${token}: ${h}`);
      assert.equal(tokenHash(token), h);
    }
  });

  it('has no collisions among 200,000 similar tokens', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 100_000; i++) {
      seen.add(tokenHash(`w${i}`));
      seen.add(tokenHash(`subject:w${i}`));
    }
    assert.equal(seen.size, 200_000);
  });

  it('spreads over the high and the low bits', () => {
    const high = new Set<number>();
    const low = new Set<number>();
    for (let i = 0; i < 4096; i++) {
      const h = tokenHash(`t${i}`);
      high.add(Math.floor(h / 2 ** 44));
      low.add(h % 256);
    }
    // 4096 draws into 256 buckets leave (practically) none empty when the bits are mixed.
    assert.equal(high.size, 256);
    assert.equal(low.size, 256);
  });

  it('hashTokens drops duplicates and keeps the first-seen order', () => {
    assert.deepEqual(hashTokens(['b', 'a', 'b']), [tokenHash('b'), tokenHash('a')]);
  });
});
