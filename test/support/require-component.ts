import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';

/**
 * Skips the test (with a visible reason) when an external component is missing; under
 * `CI=true` a missing component fails the test instead. Returns true when the test may proceed.
 */
export function requireComponent(t: TestContext, name: string, missing: string | null): boolean {
  if (missing === null) return true;
  const reason = `${name} not installed: ${missing}`;
  if (process.env['CI'] === 'true') {
    assert.fail(`${reason} (CI=true: required test components must be installed)`);
  }
  t.skip(reason);
  return false;
}
