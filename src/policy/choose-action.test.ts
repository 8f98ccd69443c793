import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigSchema } from '../config/schema.ts';
import type { ScanAction, Verdict } from '../scanners/verdict.ts';
import { chooseAction, thresholdScore } from './choose-action.ts';

const verdict = (score: number, action: ScanAction = 'no action', required = 5): Verdict => ({
  scanner: 'spamd://x',
  score,
  required,
  isSpam: score >= required,
  action,
  symbols: [],
  addHeaders: [],
  removeHeaders: [],
});
const actions = (input: Record<string, unknown> = {}) =>
  ConfigSchema.parse({ actions: input }).actions;

describe('thresholdScore', () => {
  it('reads absolute and relative thresholds', () => {
    assert.equal(thresholdScore(12, 5), 12);
    assert.equal(thresholdScore('required + 5', 5), 10);
    assert.equal(thresholdScore('required-2.5', 5), 2.5);
    assert.equal(thresholdScore(null, 5), undefined);
  });
});

describe('chooseAction', () => {
  it('tags spam and accepts ham by default (nothing is rejected unless configured)', () => {
    assert.equal(chooseAction(verdict(1), actions()).kind, 'accept');
    assert.equal(chooseAction(verdict(7), actions()).kind, 'tag');
    assert.equal(
      chooseAction(verdict(1000, 'reject'), actions()).kind,
      'tag',
      'followScanner is off by default',
    );
  });

  it('applies thresholds, the strongest winning', () => {
    const a = actions({ quarantine: 'required + 0', reject: 'required + 10', discard: 30 });
    assert.equal(chooseAction(verdict(6), a).kind, 'quarantine');
    assert.equal(chooseAction(verdict(15), a).kind, 'reject');
    assert.equal(chooseAction(verdict(31), a).kind, 'reject', 'reject is stronger than discard');
    assert.match(chooseAction(verdict(15), a).reason, /reject threshold 15/);
  });

  it('thresholds are relative to each verdict’s own required score', () => {
    const a = actions({ reject: 'required + 3' });
    assert.equal(chooseAction(verdict(9, 'no action', 5), a).kind, 'reject');
    assert.equal(chooseAction(verdict(9, 'no action', 15), a).kind, 'accept');
  });

  it("follows the scanner's recommendation when asked", () => {
    const a = actions({ followScanner: true });
    assert.equal(chooseAction(verdict(20, 'reject', 15), a).kind, 'reject');
    assert.equal(chooseAction(verdict(4, 'soft reject', 15), a).kind, 'tempfail');
    assert.equal(chooseAction(verdict(4, 'greylist', 15), a).kind, 'tempfail');
    assert.equal(chooseAction(verdict(7, 'add header', 15), a).kind, 'tag');
    assert.equal(chooseAction(verdict(1, 'no action', 15), a).kind, 'accept');
  });
});
