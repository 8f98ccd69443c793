/**
 * The built-in engine's token stores: one contract suite run against SQLite (temp dir) and Redis
 * (a private redis-server from test/support/redis-server.ts), then each store's failure modes:
 * a corrupt or locked SQLite file, an unreachable or vanished Redis, foreign data at our keys.
 */
import assert from 'node:assert/strict';
import {
  closeSync,
  mkdtempSync,
  openSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import { StoreError, StoreUnavailableError } from '../../src/scanners/builtin/errors.ts';
import { RedisTokenStore } from '../../src/scanners/builtin/store/redis-store.ts';
import { SQLITE_FILE, SqliteTokenStore } from '../../src/scanners/builtin/store/sqlite-store.ts';
import type { TokenStore } from '../../src/scanners/builtin/store/token-store.ts';
import { ConnectionError, ScannerError } from '../../src/scanners/errors.ts';
import { freeTcpPort } from '../support/processes.ts';
import { type RedisServer, redisAvailable, startRedis } from '../support/redis-server.ts';
import { requireComponent } from '../support/require-component.ts';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'spamward-store-'));
  dirs.push(dir);
  return dir;
}

let redis: RedisServer | undefined;
let prefixes = 0;
const missingRedis = redisAvailable();
before(async () => {
  if (missingRedis === null) redis = await startRedis();
});
after(async () => {
  await redis?.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

type Factory = (t: TestContext) => TokenStore | undefined;

const FACTORIES: Record<string, Factory> = {
  sqlite: () => new SqliteTokenStore({ scanner: 'builtin://test', dataDir: tempDir() }),
  redis: (t) => {
    if (!requireComponent(t, 'redis-server', missingRedis) || redis === undefined) return undefined;
    prefixes++;
    return new RedisTokenStore({
      scanner: 'builtin+redis://test',
      host: redis.host,
      port: redis.port,
      prefix: `test${prefixes}:`,
    });
  },
};

const A = [1, 2, 3];
const B = [3, 4];

for (const [name, make] of Object.entries(FACTORIES)) {
  describe(`token store contract: ${name}`, () => {
    /** Runs `body` with a fresh store, closed afterwards; skipped when the store is missing. */
    const withStore = async (t: TestContext, body: (s: TokenStore) => Promise<void>) => {
      const store = make(t);
      if (store === undefined) return;
      try {
        await body(store);
      } finally {
        await store.close();
      }
    };

    it('starts empty', (t) =>
      withStore(t, async (s) => {
        assert.deepEqual(await s.totals(), { spam: 0, ham: 0 });
        assert.deepEqual(await s.lookup(A), {
          totals: { spam: 0, ham: 0 },
          counts: [undefined, undefined, undefined],
        });
        await s.ping();
      }));

    it('counts a learned message once, however often it is learned', (t) =>
      withStore(t, async (s) => {
        assert.equal(await s.learn('m1', 'spam', A), true);
        assert.equal(await s.learn('m1', 'spam', A), false);
        assert.equal(await s.learnedAs('m1'), 'spam');
        assert.deepEqual(await s.lookup([...A, 9]), {
          totals: { spam: 1, ham: 0 },
          counts: [{ spam: 1, ham: 0 }, { spam: 1, ham: 0 }, { spam: 1, ham: 0 }, undefined],
        });
      }));

    it('moves a message learned as the other class', (t) =>
      withStore(t, async (s) => {
        await s.learn('m1', 'spam', A);
        await s.learn('m2', 'spam', B);
        assert.equal(await s.learn('m1', 'ham', A), true);
        assert.equal(await s.learnedAs('m1'), 'ham');
        const { totals, counts } = await s.lookup([1, 3, 4]);
        assert.deepEqual(totals, { spam: 1, ham: 1 });
        assert.deepEqual(counts, [
          { spam: 0, ham: 1 },
          { spam: 1, ham: 1 },
          { spam: 1, ham: 0 },
        ]);
      }));

    it('forgets a message, and only a known one', (t) =>
      withStore(t, async (s) => {
        assert.equal(await s.learn('m1', 'forget', A), false);
        await s.learn('m1', 'ham', A);
        await s.learn('m2', 'ham', B);
        assert.equal(await s.learn('m1', 'forget', A), true);
        assert.equal(await s.learn('m1', 'forget', A), false);
        assert.equal(await s.learnedAs('m1'), undefined);
        const { totals, counts } = await s.lookup([1, 2, 3, 4]);
        assert.deepEqual(totals, { spam: 0, ham: 1 });
        // Tokens no message uses any more are gone, not kept at zero.
        assert.deepEqual(counts, [undefined, undefined, { spam: 0, ham: 1 }, { spam: 0, ham: 1 }]);
      }));

    it('never counts below zero when the tokens changed since learning', (t) =>
      withStore(t, async (s) => {
        await s.learn('m1', 'spam', [1]);
        await s.learn('m1', 'forget', [1, 2]);
        await s.learn('m2', 'ham', [2]);
        assert.deepEqual((await s.lookup([1, 2])).counts, [undefined, { spam: 0, ham: 1 }]);
        assert.deepEqual(await s.totals(), { spam: 0, ham: 1 });
      }));

    it('looks up thousands of tokens in one call, up to 2^52', (t) =>
      withStore(t, async (s) => {
        const many = Array.from({ length: 3000 }, (_, i) => 2 ** 52 - 1 - i * 7919);
        await s.learn(
          'big',
          'spam',
          many.filter((_, i) => i % 2 === 0),
        );
        const { counts } = await s.lookup(many);
        assert.equal(counts.length, 3000);
        counts.forEach((c, i) => {
          assert.deepEqual(c, i % 2 === 0 ? { spam: 1, ham: 0 } : undefined, `token ${i}`);
        });
      }));

    it('fails with a ScannerError once closed', (t) =>
      withStore(t, async (s) => {
        await s.close();
        await assert.rejects(s.lookup(A), ScannerError);
      }));
  });
}

describe('SQLite store failures', () => {
  it('reports a file that is not a database as corrupt', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, SQLITE_FILE), Buffer.alloc(8192, 'garbage!'));
    const store = new SqliteTokenStore({ scanner: 'builtin://test', dataDir: dir });
    await assert.rejects(
      store.lookup(A),
      (e: unknown) =>
        e instanceof StoreError && e.failure === 'corrupt' && e.code === 'SCANNER_STORE_FAILED',
    );
    await assert.rejects(store.ping(), StoreError);
    await store.close();
  });

  it('reports damaged pages inside a valid database as corrupt', async () => {
    const dir = tempDir();
    const store = new SqliteTokenStore({ scanner: 'builtin://test', dataDir: dir });
    const tokens = Array.from({ length: 20_000 }, (_, i) => i * 104_729);
    await store.learn('m', 'spam', tokens);
    await store.close(); // checkpoints the WAL into the file
    const file = join(dir, SQLITE_FILE);
    const size = statSync(file).size;
    const fd = openSync(file, 'r+');
    // Overwrite every page but the first (the header and schema) with noise.
    for (let at = 4096; at < size; at += 4096) writeSync(fd, Buffer.alloc(4096, 0xa5), 0, 4096, at);
    closeSync(fd);
    const reopened = new SqliteTokenStore({ scanner: 'builtin://test', dataDir: dir });
    await assert.rejects(
      reopened.lookup(tokens.slice(0, 500)),
      (e: unknown) => e instanceof StoreError && e.failure === 'corrupt',
    );
    await reopened.close();
  });

  it('reports a database locked by another writer as unavailable, while reads go on', async () => {
    const dir = tempDir();
    const store = new SqliteTokenStore({
      scanner: 'builtin://test',
      dataDir: dir,
      busyTimeoutMs: 50,
    });
    await store.learn('m1', 'spam', A);
    const other = new Database(join(dir, SQLITE_FILE));
    other.exec('BEGIN EXCLUSIVE');
    try {
      await assert.rejects(
        store.learn('m2', 'ham', B),
        (e: unknown) =>
          e instanceof StoreUnavailableError && e instanceof ConnectionError && e.retryable,
      );
      assert.deepEqual((await store.lookup([1])).counts, [{ spam: 1, ham: 0 }]);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    assert.equal(await store.learn('m2', 'ham', B), true);
    await store.close();
  });
});

describe('Redis store failures', () => {
  it('reports an unreachable Redis as unavailable, quickly', async () => {
    const port = await freeTcpPort();
    const store = new RedisTokenStore({ scanner: 'builtin+redis://test', host: '127.0.0.1', port });
    try {
      for (const call of [
        () => store.lookup(A),
        () => store.learn('m', 'spam', A),
        () => store.ping(),
      ]) {
        await assert.rejects(
          call(),
          (e: unknown) => e instanceof StoreUnavailableError && e.retryable,
        );
      }
    } finally {
      await store.close();
    }
  });

  it('reports foreign data at its keys as corrupt', async (t) => {
    if (!requireComponent(t, 'redis-server', missingRedis) || redis === undefined) return;
    const raw = new Redis(redis.port, redis.host);
    await raw.set('foreign:spam', 'not a hash');
    await raw.quit();
    const store = new RedisTokenStore({
      scanner: 'builtin+redis://test',
      host: redis.host,
      port: redis.port,
      prefix: 'foreign:',
    });
    try {
      await assert.rejects(
        store.lookup(A),
        (e: unknown) => e instanceof StoreError && e.failure === 'corrupt',
      );
    } finally {
      await store.close();
    }
  });

  it('fails over to unavailable when Redis goes away mid-run', async (t) => {
    if (!requireComponent(t, 'redis-server', missingRedis)) return;
    const own = await startRedis();
    const store = new RedisTokenStore({
      scanner: 'builtin+redis://test',
      host: own.host,
      port: own.port,
    });
    try {
      assert.equal(await store.learn('m', 'spam', A), true);
      await own.stop();
      await assert.rejects(store.lookup(A), (e: unknown) => e instanceof StoreUnavailableError);
    } finally {
      await store.close();
      await own.stop();
    }
  });
});
