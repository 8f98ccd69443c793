/**
 * Regression cases found by fuzzing, kept as plain examples so they run even if the
 * generators change.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WISHES } from '../../src/daemon/daemon.ts';
import { UnexpectedCommandError } from '../../src/milter/errors.ts';
import { MilterSession } from '../../src/milter/session.ts';

describe('fuzzing regressions', () => {
  it('refuses end-of-message before OPTNEG instead of asking for a filter run it cannot answer', () => {
    // Found by "session on random command sequences": [eob] alone gave a 'filter' step, and the
    // decide() that must follow it threw, after the filter had already run.
    const session = new MilterSession({ wishes: WISHES, maxBodyBytes: 1024 });
    assert.throws(
      () => session.handle({ kind: 'eob', chunk: Buffer.from('body') }),
      UnexpectedCommandError,
    );
    assert.equal(session.inTransaction, false);
    assert.throws(
      () => session.decide({ verdict: { kind: 'accept' }, modifications: [] }),
      UnexpectedCommandError,
    );
  });
});
