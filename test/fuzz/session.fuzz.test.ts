/**
 * Short seeded run of the session fuzz properties (part of `npm test`; deterministic in CI).
 * The long run (`test/fuzz/long-run.ts`) runs the same properties with millions of inputs.
 */
import { describe, it } from 'node:test';
import { assertProperty } from './run-property.ts';
import { SESSION_PROPERTIES } from './session-properties.ts';

// Fixed so CI is deterministic; FUZZ_SEED explores other inputs locally.
const SEED = Number(process.env['FUZZ_SEED'] ?? 20240611);
const RUNS = 600;

describe('milter session under fuzzing', () => {
  for (const property of SESSION_PROPERTIES) {
    it(property.name, () => assertProperty(property, SEED, RUNS));
  }
});
