/**
 * A concurrency cap with a bounded wait queue: up to `maxConcurrent` holders at once, up to
 * `maxQueue` waiters in line, and anyone beyond that is refused at once (so an overloaded spamd
 * is not buried under connections it will only time out on).
 */

/** Returned by `tryAcquire` when both the slots and the queue are full. */
export const FULL = Symbol('full');

/** Releases a slot; calling it twice is harmless. */
export type Release = () => void;

interface Waiter {
  readonly grant: (release: Release) => void;
  readonly fail: (reason: unknown) => void;
}

/** One server's concurrency cap. */
export class Limiter {
  readonly maxConcurrent: number;
  readonly maxQueue: number;
  #running = 0;
  readonly #waiting: Waiter[] = [];

  constructor(maxConcurrent: number, maxQueue: number) {
    if (!Number.isInteger(maxConcurrent) || maxConcurrent < 1)
      throw new RangeError('maxConcurrent must be >= 1');
    if (!Number.isInteger(maxQueue) || maxQueue < 0) throw new RangeError('maxQueue must be >= 0');
    this.maxConcurrent = maxConcurrent;
    this.maxQueue = maxQueue;
  }

  /** Holders now. */
  get running(): number {
    return this.#running;
  }

  /** Waiters now. */
  get queued(): number {
    return this.#waiting.length;
  }

  /**
   * Takes a slot, waiting in line if needed; FULL when the line is full too. The wait ends
   * with `signal`'s reason if it aborts first (and the place in line is given up).
   */
  tryAcquire(signal: AbortSignal): Promise<Release> | typeof FULL {
    if (signal.aborted) return Promise.reject(signal.reason);
    if (this.#running < this.maxConcurrent) {
      this.#running++;
      return Promise.resolve(this.#releaser());
    }
    if (this.#waiting.length >= this.maxQueue) return FULL;
    return new Promise<Release>((resolve, reject) => {
      const onAbort = (): void => {
        const at = this.#waiting.indexOf(waiter);
        if (at !== -1) this.#waiting.splice(at, 1);
        reject(signal.reason);
      };
      const waiter: Waiter = {
        grant: (release) => {
          signal.removeEventListener('abort', onAbort);
          resolve(release);
        },
        fail: reject,
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(waiter);
    });
  }

  #releaser(): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      // Hand the slot straight to the next in line; the count stays the same.
      if (next !== undefined) next.grant(this.#releaser());
      else this.#running--;
    };
  }
}
