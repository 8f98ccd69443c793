/**
 * Issue 6 fault matrix, built-in engine with its Redis store (`builtin+redis://`): the REAL daemon
 * process, our fake MTA and a real redis-server on a fixed port, which each row makes unreachable,
 * hang (SIGSTOP), answer garbage (a fake on its port) or die with scans in flight (SIGKILL), and
 * then brings back on the SAME port. What a row checks is as in fault-matrix-spamd.test.ts: the
 * failure policy's action for the class (the policies give the three classes three different
 * actions), the timing, the unscanned stamp, exact counter changes, the `message filtered` line
 * and recovery to a real verdict: the engine's own, with BAYES_NOT_READY, which only a working
 * store gives (a GTUBE message would not touch the store, so none is sent).
 *
 * Rows that do not apply: oversized (the store reads Redis replies without a cap: nothing to
 * exceed) and slow drip (ioredis bounds each command as a whole, as for the stall row).
 *
 * What the store does differently from spamd/rspamd, as found here:
 *  - every other store failure is `unavailable` (StoreUnavailableError is a ConnectionError), garbage
 *    included: ioredis drops a connection that answers garbage and the scan finds no connection;
 *  - a hung Redis is cut by scanner.scanTimeoutMs as a `timeout`, as a hung spamd or rspamd is
 *    (ioredis' own command timeout is set just behind it, as a backstop);
 *  - recovery: after a reload (each row reloads: a fresh pool and store) the store connects on its
 *    first scan; after a failure ioredis reconnects in the background with a growing back-off
 *    (200 ms steps, at most 5 s). Rows wait until Redis lists the daemon's connection again
 *    before the recovery message, so no extra failure is counted.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertFailed, assertScanned, type HealthyVerdict } from '../support/fault-assertions.ts';
import {
  countDead,
  type FailurePolicy,
  type MatrixDaemon,
  POLICIES,
  startMatrixDaemon,
} from '../support/fault-daemon.ts';
import { allDown, TIMEOUT_MARGIN_MS } from '../support/fault-rows.ts';
import { GARBAGE } from '../support/fault-scanner.ts';
import { counterDeltas, failureDeltas, readCounters } from '../support/metrics-counters.ts';
import { freeTcpPort } from '../support/processes.ts';
import { type RedisAtPort, redisAtPort } from '../support/redis-at-port.ts';
import { redisAvailable } from '../support/redis-server.ts';
import { requireComponent } from '../support/require-component.ts';

/** scanner.scanTimeoutMs here: below ioredis' default 2 s command timeout, to tell them apart. */
const SCAN_TIMEOUT_MS = 1_000;
const missing = redisAvailable();

describe('fault matrix through the daemon: built-in engine, Redis store', () => {
  let redis: RedisAtPort;
  let daemon: MatrixDaemon;
  let url = '';
  let garbage: Server | undefined;
  let garbageSpoken = 0;
  const healthy = (): HealthyVerdict => ({
    scanner: url,
    score: 1.5, // MISSING_DATE + MISSING_MID of the plain test message
    spam: false,
    status: /tests=BAYES_NOT_READY,/,
  });

  before(async () => {
    if (missing !== null) return;
    const port = await freeTcpPort();
    url = `builtin+redis://127.0.0.1:${port}`;
    redis = redisAtPort(port);
    await redis.start();
    daemon = await startMatrixDaemon(url);
  });
  after(async () => {
    await daemon?.stop();
    await redis?.close();
    garbage?.close();
  });

  /** Waits until the daemon's store is connected to Redis again (its own back-off decides when). */
  const reconnected = async (): Promise<void> => {
    const until = performance.now() + 10_000;
    while ((await redis.clients()) < 1) {
      if (performance.now() > until) throw new Error('the store did not reconnect within 10 s');
      await sleep(50);
    }
  };

  interface Row {
    readonly name: string;
    readonly policy: FailurePolicy;
    /** Makes the store fail; `warm`: a message is scanned first, so the store is connected. */
    readonly warm: boolean;
    readonly inject: () => Promise<void>;
    /** The failure class and code; default unavailable / SCANNER_ALL_DOWN. */
    readonly expected?: { readonly failure: 'unavailable' | 'timeout'; readonly code: string };
    /** How long the failed message may take: [at least, less than] ms. */
    readonly within: readonly [number, number];
    /** Checks the fault was really met, if the row can tell. */
    readonly met?: () => void;
    readonly recover: () => Promise<void>;
  }

  const ROWS: readonly Row[] = [
    {
      name: 'unreachable (nothing listening), then Redis returns on the same port',
      policy: POLICIES.P1,
      warm: false,
      inject: () => redis.stop(),
      within: [0, SCAN_TIMEOUT_MS],
      recover: async () => {
        await redis.start();
        await reconnected();
      },
    },
    {
      name: 'stalled (SIGSTOP while connected): cut by scanner.scanTimeoutMs, then SIGCONT',
      policy: POLICIES.P3,
      warm: true,
      inject: async () => redis.pause(),
      expected: { failure: 'timeout', code: 'SCANNER_SCAN_TIMEOUT' },
      within: [SCAN_TIMEOUT_MS - 50, SCAN_TIMEOUT_MS + TIMEOUT_MARGIN_MS],
      recover: async () => redis.resume(),
    },
    {
      name: 'garbage (a non-Redis server on the port), then Redis again',
      policy: POLICIES.P2,
      warm: false,
      inject: async () => {
        await redis.stop();
        garbage = createServer((socket) => {
          socket.on('error', () => {});
          socket.on('data', () => {
            garbageSpoken++;
            socket.write(GARBAGE);
          });
        });
        garbage.listen(redis.port, '127.0.0.1');
        await once(garbage, 'listening');
      },
      // The failing scan's own connect met the garbage (its ready check was answered with it).
      met: () => assert.ok(garbageSpoken > 0, 'the store never spoke to the garbage server'),
      within: [0, SCAN_TIMEOUT_MS],
      recover: async () => {
        await new Promise<void>((resolve) => garbage?.close(() => resolve()));
        garbage = undefined;
        await redis.start();
        await reconnected();
      },
    },
  ];

  for (const [index, row] of ROWS.entries()) {
    it(row.name, async (t) => {
      if (!needsRedis(t)) return;
      const id = `BUILTIN${index}`;
      await daemon.configure(url, row.policy, { scanTimeoutMs: SCAN_TIMEOUT_MS });
      if (row.warm) await assertScanned(daemon, `${id}W`, healthy());
      await row.inject();
      const counters = await readCounters(daemon.metricsUrl);
      const sent = await daemon.send(`${id}F`);
      const expected = row.expected ?? { failure: 'unavailable', code: 'SCANNER_ALL_DOWN' };
      const reason =
        expected.failure === 'timeout'
          ? new RegExp(`: no answer within ${SCAN_TIMEOUT_MS} ms$`)
          : allDown(url);
      await assertFailed(daemon, sent, `${id}F`, { ...row, ...expected, reason });
      assert.deepEqual(
        counterDeltas(counters, await readCounters(daemon.metricsUrl)),
        failureDeltas(row.policy, expected.failure, expected.code),
      );
      const [least, most] = row.within;
      assert.ok(sent.ms >= least && sent.ms < most, `answered after ${Math.round(sent.ms)} ms`);
      row.met?.();
      await row.recover();
      await assertScanned(daemon, `${id}OK`, healthy());
    });
  }

  it('killed (SIGKILL) with three scans in flight, marked dead, back on the same port', async (t) => {
    if (!needsRedis(t)) return;
    const DEAD_MS = 4_000;
    // Long enough that only the kill can end the three hung scans.
    const KILL_SCAN_TIMEOUT_MS = 5_000;
    const policy = POLICIES.P1;
    const expected = {
      policy,
      failure: 'unavailable',
      code: 'SCANNER_ALL_DOWN',
      reason: allDown(url),
    } as const;
    await daemon.configure(url, policy, {
      scanTimeoutMs: KILL_SCAN_TIMEOUT_MS,
      deadTimeMs: DEAD_MS,
    });
    await assertScanned(daemon, 'KILLW', healthy()); // connected, so the scans reach Redis
    const counters = await readCounters(daemon.metricsUrl);
    const deadLines = countDead(daemon, url);
    redis.pause();
    // Each send notes when its answer came; none may come before the kill.
    const inFlight = ['KILL0', 'KILL1', 'KILL2'].map((id) =>
      daemon.send(id).then((sent) => ({ ...sent, at: performance.now() })),
    );
    await sleep(500); // time for the three scans to reach the hung Redis
    const killedAt = performance.now();
    await redis.kill();
    const diedAt = performance.now();
    for (const [i, sent] of (await Promise.all(inFlight)).entries()) {
      // Each waited on the hung Redis until the kill cut it, well before any timeout.
      const ms = Math.round(sent.ms);
      assert.ok(sent.at >= killedAt, `KILL${i} was answered before the kill`);
      assert.ok(sent.ms < KILL_SCAN_TIMEOUT_MS, `KILL${i} answered after ${ms} ms`);
      await assertFailed(daemon, sent, `KILL${i}`, expected);
    }
    for (let i = 0; countDead(daemon, url) !== deadLines + 1 && i < 200; i++) await sleep(25);
    assert.equal(countDead(daemon, url), deadLines + 1, 'not marked dead');

    // Back on the same port and reconnected, but inside deadTimeMs: the store is not asked.
    await redis.start();
    await reconnected();
    const lookups = await redis.calls('hmget');
    await assertFailed(daemon, await daemon.send('KILL3'), 'KILL3', expected);
    assert.ok(performance.now() - diedAt < DEAD_MS, 'the dead time ran out before KILL3');
    assert.equal(await redis.calls('hmget'), lookups, 'a store marked dead was read');
    assert.deepEqual(
      counterDeltas(counters, await readCounters(daemon.metricsUrl)),
      failureDeltas(policy, 'unavailable', 'SCANNER_ALL_DOWN', 4),
    );

    await sleep(Math.max(0, DEAD_MS + 200 - (performance.now() - diedAt)));
    await assertScanned(daemon, 'KILL4', healthy());
    assert.equal(await redis.calls('hmget'), lookups + 3, 'one lookup pipeline: three HMGETs');
  });
});

function needsRedis(t: TestContext): boolean {
  return requireComponent(t, 'redis-server', missing);
}
