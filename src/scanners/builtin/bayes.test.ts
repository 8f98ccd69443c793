import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { BAYES_DEFAULTS, chi2Q, classify, combine, tokenProbability } from './bayes.ts';

const totals = { spam: 100, ham: 100 };
/** Robinson's plain prior, so the expected values below are easy to check by hand. */
const PLAIN = { ...BAYES_DEFAULTS, s: 1, x: 0.5 };

describe('tokenProbability (Robinson f(w))', () => {
  it('is x for a token never seen, and moves toward the evidence as n grows', () => {
    assert.equal(tokenProbability({ spam: 0, ham: 0 }, totals, PLAIN), 0.5);
    const once = tokenProbability({ spam: 1, ham: 0 }, totals, PLAIN);
    const often = tokenProbability({ spam: 50, ham: 0 }, totals, PLAIN);
    assert.equal(once, 0.75); // (1·0.5 + 1·1) / (1 + 1)
    assert.ok(often > once && often < 1);
    assert.ok(tokenProbability({ spam: 0, ham: 50 }, totals, PLAIN) < 0.02);
  });

  it('uses message ratios, so an unbalanced training set does not bias it', () => {
    const f = tokenProbability({ spam: 10, ham: 40 }, { spam: 100, ham: 400 }, PLAIN);
    assert.ok(Math.abs(f - 0.5) < 1e-12);
  });

  it('stays strictly between 0 and 1', () => {
    fc.assert(
      fc.property(
        fc.nat(10_000),
        fc.nat(10_000),
        fc.integer({ min: 1, max: 10_000 }),
        (s, h, t) => {
          const f = tokenProbability({ spam: s, ham: h }, { spam: t, ham: t }, PLAIN);
          return f > 0 && f < 1;
        },
      ),
    );
  });
});

describe('chi2Q', () => {
  it('matches known values of the chi-square upper tail', () => {
    assert.ok(Math.abs(chi2Q(2, 2) - Math.exp(-1)) < 1e-12);
    assert.ok(Math.abs(chi2Q(9.487729, 4) - 0.05) < 1e-6); // 95th percentile, 4 dof
    assert.equal(chi2Q(0, 10), 1);
    assert.ok(chi2Q(10_000, 300) < 1e-100);
  });
});

describe('combine (chi-square combining)', () => {
  it('is 0.5 without evidence and for evenly balanced evidence', () => {
    assert.equal(combine([]), 0.5);
    assert.ok(Math.abs(combine([0.99, 0.01]) - 0.5) < 1e-9);
  });

  it('goes to the extremes for consistent evidence', () => {
    assert.ok(combine(Array(20).fill(0.99)) > 0.999);
    assert.ok(combine(Array(20).fill(0.01)) < 0.001);
  });

  it('is symmetric: mirrored probabilities give a mirrored result', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0.001, max: 0.999, noNaN: true }), { maxLength: 150 }),
        (ps) => {
          const a = combine(ps);
          const b = combine(ps.map((p) => 1 - p));
          return a >= 0 && a <= 1 && Math.abs(a + b - 1) < 1e-9;
        },
      ),
    );
  });
});

describe('classify', () => {
  it('skips unknown and indecisive tokens, and caps the number used', () => {
    const counts = [
      undefined,
      { spam: 0, ham: 0 },
      { spam: 10, ham: 10 }, // f = 0.5: not decisive
      ...Array.from({ length: 200 }, () => ({ spam: 30, ham: 1 })),
    ];
    const result = classify(counts, totals, { ...PLAIN, maxTokens: 150 });
    assert.equal(result.unknown, 2);
    assert.equal(result.used.length, 150);
    assert.ok(result.used.every((u) => u.index >= 3));
    assert.ok(result.probability > 0.99);
  });

  it('picks the most decisive tokens first', () => {
    const counts = [
      { spam: 3, ham: 1 },
      { spam: 0, ham: 80 },
      { spam: 40, ham: 0 },
    ];
    const result = classify(counts, totals, { ...PLAIN, maxTokens: 2 });
    assert.deepEqual(
      result.used.map((u) => u.index),
      [1, 2],
    );
  });
});
