/**
 * Several servers behind one Scanner: failover by priority or round-robin, rmilter-style health,
 * and a concurrency cap per server. A scan moves to the next server only when a server failed
 * in a way another might not (refused, reset, temporary error, full); a verdict is final.
 */
import { AllServersDownError, OverloadedError, ScanAbortedError, ScannerError } from './errors.ts';
import { DEFAULT_HEALTH, Health, type HealthOptions } from './health.ts';
import { FULL, Limiter } from './limiter.ts';
import type { LearnKind, LearnResult, Scanner, ScanRequest } from './scanner.ts';
import type { Verdict } from './verdict.ts';

/** How servers are ordered for each request. */
export const Strategy = { Failover: 'failover', RoundRobin: 'round-robin' } as const;
/** One of the strategies. */
export type Strategy = (typeof Strategy)[keyof typeof Strategy];

/** One member of the pool. */
export interface PoolMember {
  readonly scanner: Scanner;
  /** Lower is preferred (failover); ignored by round-robin. */
  readonly priority?: number;
}

/** Pool settings. */
export interface PoolOptions {
  readonly strategy: Strategy;
  readonly health?: HealthOptions;
  /** Scans running at once per server. */
  readonly maxConcurrent: number;
  /** Scans waiting per server beyond that; more are refused with OverloadedError. */
  readonly maxQueue: number;
  /** Clock, for tests. */
  readonly now?: () => number;
}

/** What the pool reports about a server (for metrics and the dashboard). */
export interface MemberState {
  readonly url: string;
  readonly dead: boolean;
  readonly deadUntil: number;
  readonly running: number;
  readonly queued: number;
}

/** Called when a server is marked dead, so the daemon can log it (the pool never logs). */
export type DeadListener = (url: string, cause: ScannerError) => void;

interface Member {
  readonly scanner: Scanner;
  readonly priority: number;
  readonly index: number;
  readonly health: Health;
  readonly limiter: Limiter;
}

/** A Scanner made of several servers. */
export class ScannerPool implements Scanner {
  readonly url: string;
  readonly #members: readonly Member[];
  readonly #strategy: Strategy;
  #next = 0;
  #onDead: DeadListener | undefined;

  constructor(members: readonly PoolMember[], options: PoolOptions) {
    if (members.length === 0) throw new RangeError('a scanner pool needs at least one server');
    const now = options.now ?? Date.now;
    this.#strategy = options.strategy;
    this.#members = members.map((m, index) => ({
      scanner: m.scanner,
      priority: m.priority ?? 0,
      index,
      health: new Health(options.health ?? DEFAULT_HEALTH, now),
      limiter: new Limiter(options.maxConcurrent, options.maxQueue),
    }));
    this.url = `pool(${members.map((m) => m.scanner.url).join(',')})`;
  }

  /** Closes every server's scanner (those that hold something open). */
  async close(): Promise<void> {
    await Promise.allSettled(this.#members.map((m) => m.scanner.close?.()));
  }

  /** The servers' URLs (no credentials), in the order given. */
  get memberUrls(): readonly string[] {
    return this.#members.map((m) => m.scanner.url);
  }

  /** Registers the listener told when a server is marked dead. */
  onDead(listener: DeadListener): void {
    this.#onDead = listener;
  }

  /** Each server's health and load. */
  state(): MemberState[] {
    return this.#members.map((m) => ({
      url: m.scanner.url,
      dead: m.health.dead,
      deadUntil: m.health.deadUntil,
      running: m.limiter.running,
      queued: m.limiter.queued,
    }));
  }

  /** Scans on the first server that gives an answer, in strategy order. */
  scan(request: ScanRequest, signal: AbortSignal): Promise<Verdict> {
    return this.#run((scanner) => scanner.scan(request, signal), signal);
  }

  /** Resolves when any live server answers a ping. */
  ping(signal: AbortSignal): Promise<void> {
    return this.#run((scanner) => scanner.ping(signal), signal);
  }

  /** Teaches the first live server (servers of one pool are expected to share their database). */
  learn(kind: LearnKind, request: ScanRequest, signal: AbortSignal): Promise<LearnResult> {
    return this.#run((scanner) => scanner.learn(kind, request, signal), signal);
  }

  async #run<T>(call: (scanner: Scanner) => Promise<T>, signal: AbortSignal): Promise<T> {
    const order = this.#order();
    if (order.length === 0) throw new AllServersDownError(this.url);
    let lastError: ScannerError | undefined;
    let overloaded = 0;
    for (const member of order) {
      if (signal.aborted) throw new ScanAbortedError(this.url, { cause: signal.reason });
      const slot = member.limiter.tryAcquire(signal);
      if (slot === FULL) {
        overloaded++;
        lastError = new OverloadedError(
          member.scanner.url,
          member.limiter.maxConcurrent,
          member.limiter.queued,
        );
        continue;
      }
      let release: () => void;
      try {
        release = await slot;
      } catch (reason) {
        throw new ScanAbortedError(this.url, { cause: reason });
      }
      try {
        const result = await call(member.scanner);
        member.health.success();
        return result;
      } catch (error) {
        if (!(error instanceof ScannerError)) throw error;
        if (error instanceof ScanAbortedError) throw error;
        if (member.health.failure()) this.#onDead?.(member.scanner.url, error);
        if (!error.retryable) throw error;
        lastError = error;
      } finally {
        release();
      }
    }
    if (overloaded === order.length && lastError !== undefined) throw lastError;
    throw new AllServersDownError(this.url, { cause: lastError });
  }

  /** Live servers in the order to try them. */
  #order(): Member[] {
    const alive = this.#members.filter((m) => !m.health.dead);
    if (this.#strategy === Strategy.Failover) {
      return alive.sort((a, b) => a.priority - b.priority || a.index - b.index);
    }
    if (alive.length === 0) return alive;
    const start = this.#next++ % alive.length;
    return [...alive.slice(start), ...alive.slice(0, start)];
  }
}
