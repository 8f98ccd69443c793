/**
 * The long fuzz run's plan and messages, shared by the runner and its worker: every property
 * gets a share of the inputs by weight, cut into seeded batches run round-robin.
 */
import { CODEC_PROPERTIES } from './codec-properties.ts';
import type { FuzzProperty } from './run-property.ts';
import { SESSION_PROPERTIES } from './session-properties.ts';

/** Every fuzz property, codec first. */
export const ALL_PROPERTIES: readonly FuzzProperty[] = [...CODEC_PROPERTIES, ...SESSION_PROPERTIES];

/** One seeded batch of one property. */
export interface Batch {
  readonly property: string;
  readonly seed: number;
  readonly runs: number;
}

/** What the worker reports after each batch. */
export interface BatchReport {
  readonly batch: Batch;
  /** Inputs tried (fewer than asked when the batch failed). */
  readonly runs: number;
  readonly failure: string | undefined;
  /** The worker's V8 heap in use after the batch, in bytes. */
  readonly heapUsed: number;
}

/** Splits `total` inputs over the properties matching `only`, in batches of at most `size`. */
export function plan(total: number, seed: number, size: number, only: string | undefined): Batch[] {
  const chosen = ALL_PROPERTIES.filter((p) => only === undefined || p.name.includes(only));
  const weights = chosen.reduce((sum, p) => sum + p.weight, 0);
  const queues = chosen.map((p, i) => {
    const runs = Math.ceil((total * p.weight) / weights);
    return Array.from({ length: Math.ceil(runs / size) }, (_, k) => ({
      property: p.name,
      // fast-check seeds are 32-bit integers; each batch gets its own, reproducibly.
      seed: (seed + i * 1_000_003 + k * 7919) | 0,
      runs: Math.min(size, runs - k * size),
    }));
  });
  const batches: Batch[] = [];
  for (let k = 0; queues.some((q) => k < q.length); k++) {
    for (const queue of queues) {
      const batch = queue[k];
      if (batch !== undefined) batches.push(batch);
    }
  }
  return batches;
}
