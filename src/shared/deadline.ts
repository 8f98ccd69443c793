/**
 * A deadline for one piece of work: an AbortController that aborts when `ms` pass or when a
 * signal it follows aborts, until `dispose()`. It is what `AbortSignal.any([outer,
 * AbortSignal.timeout(ms)])` would be, without their leftovers: on Node 20 `any()` leaves a record
 * on every source for good (a leak per call on a long-lived signal such as the daemon's stop), and
 * a `timeout()` timer lives on for its whole delay after the work is done.
 */

/** One deadline; `dispose()` when the work is over, whatever its outcome. */
export interface Deadline {
  readonly signal: AbortSignal;
  /** True once the time ran out (rather than a followed signal aborting first). */
  readonly timedOut: boolean;
  /** Clears the timer and stops following the signals. */
  dispose(): void;
}

/** What a deadline waits for. */
export interface DeadlineOptions {
  readonly ms: number;
  /** The abort reason when the time runs out. */
  readonly reason: () => unknown;
  /** Signals whose abort aborts the deadline too, with their reason. */
  readonly follow: readonly AbortSignal[];
  /** Abort this controller (which others may abort as well) instead of a new one. */
  readonly controller?: AbortController;
}

/** Starts a deadline now. */
export function startDeadline(options: DeadlineOptions): Deadline {
  const controller = options.controller ?? new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(options.reason());
  }, options.ms);
  const listeners = options.follow.map((source) => {
    const onAbort = (): void => controller.abort(source.reason);
    if (source.aborted) onAbort();
    else source.addEventListener('abort', onAbort, { once: true });
    return { source, onAbort };
  });
  return {
    signal: controller.signal,
    get timedOut() {
      return timedOut;
    },
    dispose() {
      clearTimeout(timer);
      for (const { source, onAbort } of listeners) source.removeEventListener('abort', onAbort);
    },
  };
}
