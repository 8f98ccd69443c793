/**
 * The built-in scanner end to end on a real store: GTUBE, Bayes before and after enough
 * learning, idempotent learning, cancellation, store failures as typed errors that the failure
 * policy classes, and construction from its URLs (SQLite data dir; Redis when available).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { classifyFailure } from '../../src/policy/failure.ts';
import { createBuiltinScanner } from '../../src/scanners/builtin/create.ts';
import { StoreError, StoreUnavailableError } from '../../src/scanners/builtin/errors.ts';
import { BuiltinScanner } from '../../src/scanners/builtin/scanner.ts';
import { SQLITE_FILE, SqliteTokenStore } from '../../src/scanners/builtin/store/sqlite-store.ts';
import { ScanAbortedError } from '../../src/scanners/errors.ts';
import type { ScanRequest } from '../../src/scanners/scanner.ts';
import { freeTcpPort } from '../support/processes.ts';
import { redisAvailable, startRedis } from '../support/redis-server.ts';
import { requireComponent } from '../support/require-component.ts';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'spamward-builtin-'));
  dirs.push(dir);
  return dir;
}

const signal = (): AbortSignal => AbortSignal.timeout(10_000);
const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';

function request(id: string, subject: string, body: string): ScanRequest {
  const text =
    `Received: from mx.example.org ([192.0.2.1]) by mail.example.com; Mon, 2 Sep 2002 11:21:42 -0400\r\n` +
    `From: Sender <sender@example.org>\r\nTo: rcpt@example.com\r\nSubject: ${subject}\r\n` +
    `Date: Mon, 2 Sep 2002 11:21:40 -0400\r\nMessage-ID: <${id}@example.org>\r\n\r\n${body}\r\n`;
  return { message: Buffer.from(text), envelope: { recipients: ['rcpt@example.com'] } };
}
const spam = (i: number) =>
  request(
    `s${i}`,
    `Cheap pills offer ${i}`,
    `Buy cheap pills now, best offer, viagra discount ${i}, click to order.`,
  );
const ham = (i: number) =>
  request(
    `h${i}`,
    `Meeting notes ${i}`,
    `Hi team, the meeting notes for the project review ${i} are below. Regards, Alice`,
  );

function scanner(dataDir = tempDir()): BuiltinScanner {
  return new BuiltinScanner({
    url: 'builtin:///test',
    store: new SqliteTokenStore({ scanner: 'builtin:///test', dataDir }),
    minSpam: 3,
    minHam: 3,
  });
}

describe('built-in scanner', () => {
  it('scores GTUBE as spam, even when the store is broken', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, SQLITE_FILE), 'not a database at all, not even close to one');
    const s = scanner(dir);
    const verdict = await s.scan(request('g', 'test', `GTUBE: ${GTUBE}`), signal());
    assert.equal(verdict.isSpam, true);
    assert.equal(verdict.action, 'reject');
    assert.deepEqual(verdict.symbols[0], {
      name: 'GTUBE',
      score: 1000,
      description: 'Generic Test for Unsolicited Bulk Email',
    });
    assert.ok(verdict.score >= 1000);
    await s.close();
  });

  it('says Bayes is not ready before it learned enough, and Bayes adds nothing', async () => {
    const s = scanner();
    await s.learn('spam', spam(1), signal());
    const verdict = await s.scan(spam(2), signal());
    assert.deepEqual(
      verdict.symbols.map((x) => [x.name, x.score, x.options]),
      [['BAYES_NOT_READY', 0, ['learned 1 spam, 0 ham']]],
    );
    assert.equal(verdict.score, 0);
    assert.equal(verdict.isSpam, false);
    assert.equal(verdict.action, 'no action');
    assert.equal(verdict.scanner, 'builtin:///test');
    assert.equal(verdict.required, 5);
    assert.match(verdict.report ?? '', /0\.0 points, 5\.0 required[\s\S]*BAYES_NOT_READY/);
    await s.close();
  });

  it('tells learned spam from ham once trained, in the normalised Verdict form', async () => {
    const s = scanner();
    for (let i = 0; i < 4; i++) {
      await s.learn('spam', spam(i), signal());
      await s.learn('ham', ham(i), signal());
    }
    const bad = await s.scan(spam(99), signal());
    const good = await s.scan(ham(99), signal());
    assert.equal(bad.isSpam, true, bad.report);
    assert.equal(bad.action, 'reject');
    assert.match(bad.symbols.map((x) => x.name).join(), /BAYES_99/);
    assert.equal(good.isSpam, false, good.report);
    assert.equal(good.action, 'no action');
    assert.ok(
      good.symbols.some((x) => x.name === 'BAYES_00'),
      good.report,
    );
    for (const v of [bad, good]) {
      const sum = v.symbols.reduce((a, x) => a + x.score, 0);
      assert.ok(Math.abs(v.score - sum) < 0.001);
      assert.deepEqual(
        [...v.symbols].sort((a, b) => b.score - a.score),
        v.symbols,
      );
      assert.deepEqual([v.addHeaders, v.removeHeaders], [[], []]);
    }
    await s.close();
  });

  it('learns idempotently: twice counts once, relearning moves, forget removes', async () => {
    const s = scanner();
    const message = spam(7);
    const relayed: ScanRequest = {
      ...message,
      message: Buffer.concat([
        Buffer.from('Received: from relay by mx; Tue, 3 Sep 2002 10:00:00 +0000\r\n'),
        message.message,
      ]),
    };
    assert.deepEqual(await s.learn('spam', message, signal()), { learned: true });
    assert.deepEqual(await s.learn('spam', relayed, signal()), { learned: false });
    assert.deepEqual(await s.learn('ham', message, signal()), { learned: true });
    assert.deepEqual(await s.learn('forget', message, signal()), { learned: true });
    assert.deepEqual(await s.learn('forget', message, signal()), { learned: false });
    await s.close();
  });

  it('honours an aborted signal in scan, learn and ping', async () => {
    const s = scanner();
    const aborted = AbortSignal.abort(new Error('client left'));
    await assert.rejects(s.scan(ham(1), aborted), ScanAbortedError);
    await assert.rejects(s.learn('ham', ham(1), aborted), ScanAbortedError);
    await assert.rejects(s.ping(aborted), ScanAbortedError);
    await s.close();
  });

  it('turns store failures into typed errors the failure policy classes', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, SQLITE_FILE), Buffer.alloc(4096, 'x'));
    const broken = scanner(dir);
    const corrupt = await broken.scan(ham(1), signal()).catch((e: unknown) => e);
    assert.ok(corrupt instanceof StoreError, String(corrupt));
    assert.equal(classifyFailure(corrupt), 'error');
    await broken.close();

    const away = createBuiltinScanner(`builtin+redis://127.0.0.1:${await freeTcpPort()}`);
    const unavailable = await away.scan(ham(1), signal()).catch((e: unknown) => e);
    assert.ok(unavailable instanceof StoreUnavailableError, String(unavailable));
    assert.equal(classifyFailure(unavailable), 'unavailable');
    await away.close();
  });

  it('is built from builtin:///dir, and from builtin+redis:// against a real Redis', async (t) => {
    const local = createBuiltinScanner(`builtin://${tempDir()}`);
    await local.ping(signal());
    assert.equal((await local.scan(ham(1), signal())).symbols[0]?.name, 'BAYES_NOT_READY');
    await local.close();
    if (!requireComponent(t, 'redis-server', redisAvailable())) return;
    const server = await startRedis();
    const shared = createBuiltinScanner(
      `builtin+redis://${server.host}:${server.port}/0?prefix=t:`,
      { minSpam: 1, minHam: 1 },
    );
    try {
      assert.equal(shared.url, `builtin+redis://${server.host}:${server.port}/0`);
      await shared.learn('spam', spam(1), signal());
      await shared.learn('ham', ham(1), signal());
      assert.equal((await shared.scan(spam(2), signal())).isSpam, true);
    } finally {
      await shared.close();
      await server.stop();
    }
  });
});
