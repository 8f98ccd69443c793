/**
 * A fuzz property as a named, seedable runner, shared by the short seeded tests and the long run.
 */
import fc from 'fast-check';

/** The outcome of one seeded run of a property. */
export interface RunSummary {
  /** Inputs actually tried. */
  readonly runs: number;
  /** fast-check's report with the shrunk counterexample and the seed, when it failed. */
  readonly failure: string | undefined;
}

/** A property under a stable name. */
export interface FuzzProperty {
  readonly name: string;
  /** Share of the long run's inputs, relative to the other properties. */
  readonly weight: number;
  run(seed: number, numRuns: number): RunSummary;
}

/** Wraps a fast-check property as a FuzzProperty. */
export function fuzzProperty<Ts>(
  name: string,
  weight: number,
  property: fc.IProperty<Ts>,
): FuzzProperty {
  return {
    name,
    weight,
    run(seed, numRuns) {
      const details = fc.check(property, { seed, numRuns });
      return {
        runs: details.numRuns,
        failure: details.failed ? report(name, details) : undefined,
      };
    },
  };
}

/** Runs a property and throws its report if it failed (for node:test). */
export function assertProperty(property: FuzzProperty, seed: number, numRuns: number): void {
  const { failure } = property.run(seed, numRuns);
  if (failure !== undefined) throw new Error(failure);
}

function report<Ts>(name: string, details: fc.RunDetails<Ts>): string {
  const error = details.errorInstance;
  const cause = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return `${name}: ${fc.defaultReportMessage(details)}\nError: ${cause}`;
}
