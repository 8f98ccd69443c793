/**
 * A server's health as rmilter judged it: `maxErrors` failures within `errorTimeMs` mark it dead
 * for `deadTimeMs`; after that it is tried again. A success clears the count.
 */

/** Health settings. */
export interface HealthOptions {
  readonly maxErrors: number;
  readonly errorTimeMs: number;
  readonly deadTimeMs: number;
}

/** Sensible defaults: 3 errors in 10 s → dead for 30 s. */
export const DEFAULT_HEALTH: HealthOptions = {
  maxErrors: 3,
  errorTimeMs: 10_000,
  deadTimeMs: 30_000,
};

/** One server's error history. `now` is injected so tests control time. */
export class Health {
  readonly #options: HealthOptions;
  readonly #now: () => number;
  #errors: number[] = [];
  #deadUntil = 0;

  constructor(options: HealthOptions, now: () => number) {
    this.#options = options;
    this.#now = now;
  }

  /** True while the server is marked dead. */
  get dead(): boolean {
    return this.#now() < this.#deadUntil;
  }

  /** When the server will be tried again (0 if alive). */
  get deadUntil(): number {
    return this.dead ? this.#deadUntil : 0;
  }

  /** Records a failure; returns true when this failure marked the server dead. */
  failure(): boolean {
    // Requests that were already running when the server was marked dead fail too; they say
    // nothing new and must not push the retry time further out.
    if (this.dead) return false;
    const now = this.#now();
    this.#errors = this.#errors.filter((t) => now - t < this.#options.errorTimeMs);
    this.#errors.push(now);
    if (this.#errors.length < this.#options.maxErrors) return false;
    this.#errors = [];
    this.#deadUntil = now + this.#options.deadTimeMs;
    return true;
  }

  /** Records a success. */
  success(): void {
    this.#errors = [];
  }
}
