import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BAYES_BANDS, bayesBand, bayesSymbol } from './bayes-bands.ts';

describe('Bayes bands', () => {
  it('cover 0..1 in increasing order with non-decreasing scores', () => {
    assert.equal(BAYES_BANDS[0]?.from, 0);
    for (let i = 1; i < BAYES_BANDS.length; i++) {
      const [prev, cur] = [BAYES_BANDS[i - 1], BAYES_BANDS[i]];
      assert.ok(prev !== undefined && cur !== undefined);
      assert.ok(cur.from > prev.from && cur.score >= prev.score, cur.name);
    }
  });

  it('put each probability in the band whose range holds it, lower bound included', () => {
    assert.equal(bayesBand(0).name, 'BAYES_00');
    assert.equal(bayesBand(0.0099).name, 'BAYES_00');
    assert.equal(bayesBand(0.01).name, 'BAYES_05');
    assert.equal(bayesBand(0.5).name, 'BAYES_50');
    assert.equal(bayesBand(0.97).name, 'BAYES_95');
    assert.equal(bayesBand(0.9989).name, 'BAYES_99');
    assert.equal(bayesBand(1).name, 'BAYES_999');
  });

  it('reach the required 5.0 only when Bayes is near certain', () => {
    assert.ok(bayesSymbol(0.995).score >= 5);
    assert.ok(bayesSymbol(0.98).score < 5);
  });

  it('describe the band and carry the probability as an option', () => {
    const symbol = bayesSymbol(0.9712);
    assert.equal(symbol.description, 'Bayes spam probability is 95 to 99%');
    assert.deepEqual(symbol.options, ['0.9712']);
    assert.equal(bayesSymbol(0.9999).description, 'Bayes spam probability is 99.9 to 100%');
  });
});
