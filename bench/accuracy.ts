/**
 * Accuracy of the built-in engine on the SpamAssassin public corpus: trains a fresh store on the
 * train split (70 %, by file-name hash), classifies the test split, and prints accuracy, false
 * positive and false negative rates (hard ham separately) and the learning and classification
 * speed of this one process (one core). The store is SQLite in a temp dir, or a private Redis.
 *
 *   node --import tsx bench/accuracy.ts [--store sqlite|redis] [--json] [--misses]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BuiltinScanner } from '../src/scanners/builtin/scanner.ts';
import { RedisTokenStore } from '../src/scanners/builtin/store/redis-store.ts';
import { SqliteTokenStore } from '../src/scanners/builtin/store/sqlite-store.ts';
import type { TokenStore } from '../src/scanners/builtin/store/token-store.ts';
import { startRedis } from '../test/support/redis-server.ts';
import { isTrain, type LabelledMessage, loadLabelled } from './accuracy-corpus.ts';
import { type AccuracyResults, markdown, type Outcome, summarise } from './accuracy-report.ts';
import { say } from './cli.ts';

const { values } = parseArgs({
  options: {
    store: { type: 'string', default: 'sqlite' },
    json: { type: 'boolean', default: false },
    misses: { type: 'boolean', default: false },
  },
});

const corpus = await loadLabelled();
const train = corpus.filter((m) => isTrain(m.name));
const test = corpus.filter((m) => !isTrain(m.name));
say(`accuracy: ${corpus.length} messages: ${train.length} train, ${test.length} test`);

const cleanups: (() => Promise<void>)[] = [];
let store: TokenStore;
if (values.store === 'redis') {
  const redis = await startRedis();
  cleanups.push(redis.stop);
  store = new RedisTokenStore({
    scanner: 'builtin+redis://bench',
    host: redis.host,
    port: redis.port,
  });
} else if (values.store === 'sqlite') {
  const dir = mkdtempSync(join(tmpdir(), 'spamward-accuracy-'));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  store = new SqliteTokenStore({ scanner: 'builtin://bench', dataDir: dir });
} else {
  throw new Error(`--store must be sqlite or redis, not ${values.store}`);
}
const scanner = new BuiltinScanner({ url: `builtin (${values.store})`, store });
const signal = new AbortController().signal;
const request = (m: LabelledMessage) => ({ message: m.message, envelope: { recipients: [] } });

try {
  let started = performance.now();
  for (const m of train) await scanner.learn(m.spam ? 'spam' : 'ham', request(m), signal);
  const learnSeconds = (performance.now() - started) / 1000;
  say(`accuracy: learned ${train.length} messages in ${learnSeconds.toFixed(1)} s`);

  const outcomes: Outcome[] = [];
  started = performance.now();
  for (const m of test) {
    const verdict = await scanner.scan(request(m), signal);
    outcomes.push({
      group: m.group,
      name: m.name,
      spam: m.spam,
      flagged: verdict.isSpam,
      score: verdict.score,
      symbols: verdict.symbols.map((s) => s.name),
    });
  }
  const scanSeconds = (performance.now() - started) / 1000;

  const results: AccuracyResults = {
    ...summarise(outcomes),
    store: values.store,
    train: train.length,
    test: test.length,
    learnPerSecond: train.length / learnSeconds,
    scanPerSecond: test.length / scanSeconds,
    node: process.version,
  };
  if (values.misses) {
    for (const o of outcomes.filter((x) => x.flagged !== x.spam)) {
      say(`miss: ${o.spam ? 'FN' : 'FP'} ${o.group}/${o.name} ${o.score} ${o.symbols.join(',')}`);
    }
  }
  process.stdout.write(
    values.json ? `${JSON.stringify(results, null, 2)}\n` : `${markdown(results)}\n`,
  );
} finally {
  await scanner.close();
  for (const cleanup of cleanups) await cleanup();
}
