/**
 * Short seeded run of the codec fuzz properties (part of `npm test`; deterministic in CI).
 * The long run (`test/fuzz/long-run.ts`) runs the same properties with millions of inputs.
 */
import { describe, it } from 'node:test';
import { CODEC_PROPERTIES } from './codec-properties.ts';
import { assertProperty } from './run-property.ts';

// Fixed so CI is deterministic; FUZZ_SEED explores other inputs locally.
const SEED = Number(process.env['FUZZ_SEED'] ?? 20240611);
const RUNS = 1000;

describe('milter codec under fuzzing', () => {
  for (const property of CODEC_PROPERTIES) {
    it(property.name, () => assertProperty(property, SEED, RUNS));
  }
});
