/**
 * The accuracy benchmark side by side: the built-in engine, spamd and rspamd, each started
 * privately, trained on the same train split and measured on the same test split (see
 * accuracy-corpus.ts). spamd and rspamd are also measured before training (rules only), which
 * costs one more pass over the test set each.
 *
 *   node --import tsx bench/accuracy-peers.ts [--engines builtin,spamd,rspamd] [--concurrency 2]
 *     [--spamd-learn sa-learn|tell] [--no-untrained] [--json] [--out FILE] [--sample N]
 *     [--misses]
 *
 * spamd: `spamd -L` (local tests only) from test/support/spamd-server.ts, scanned with SYMBOLS
 * (same work as CHECK, plus the rule names, so Bayes hits can be counted); spam = spamd's own
 * `Spam: True` (score ≥ required_score 5). Trained by default with `sa-learn --dbpath` as the
 * spamd user on the train messages written to a temp dir; `--spamd-learn tell` uses TELL instead.
 * rspamd: test/support/rspamd-server.ts (stock config, Redis for Bayes, DNS answered NXDOMAIN,
 * min_learns 1), trained through the controller (/learnspam, /learnham) as Spamward's client does
 * it, so rspamd's stock learn condition applies: a message Bayes already puts in its class with
 * ≥ 95 % confidence is refused (counted as "refused", not learned). Spam = the action is reject,
 * rewrite subject or add header (score ≥ 6 with the stock actions), as the milter treats it;
 * greylist (score 4–6) is ham. The built-in engine runs in this process, one message at a time.
 * Classification speed is wall-clock with `--concurrency` requests in flight; "engine CPU" is the
 * user + system time of the engine's processes (spamd and its children; rspamd, its workers and
 * its Redis; this process for the built-in engine) per test message, steadier on a shared box.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BuiltinScanner } from '../src/scanners/builtin/scanner.ts';
import { SqliteTokenStore } from '../src/scanners/builtin/store/sqlite-store.ts';
import { LearnUnsupportedError } from '../src/scanners/errors.ts';
import { createScanner } from '../src/scanners/factory.ts';
import type { LearnKind, Scanner, ScanRequest } from '../src/scanners/scanner.ts';
import type { Verdict } from '../src/scanners/verdict.ts';
import { childPids, findBinary } from '../test/support/processes.ts';
import { startRspamd } from '../test/support/rspamd-server.ts';
import { SPAMD_USER, spamdOwner } from '../test/support/spamd-config.ts';
import { startSpamd } from '../test/support/spamd-server.ts';
import { isTrain, type LabelledMessage, loadLabelled } from './accuracy-corpus.ts';
import { type Outcome, type PeerRow, peersMarkdown, summarise } from './accuracy-report.ts';
import { processCpuMs } from './proc.ts';

/** The engines this benchmark knows. */
export const ENGINES = ['builtin', 'spamd', 'rspamd'] as const;

/** One of ENGINES. */
export type EngineName = (typeof ENGINES)[number];

/** How one engine was trained. */
export interface Training {
  readonly method: string;
  readonly seconds: number;
  /** Messages the engine reports as newly learned (sa-learn's count, or learn calls that learned). */
  readonly learned: number;
  /** Learn calls the engine refused by its own learn condition (rspamd: already in class). */
  readonly denied: number;
  /** Learn calls that failed otherwise (counted, not fatal). */
  readonly failed: number;
}

/** A started engine: its scanner, how to train it, the CPU its server has used, and stop. */
interface Engine {
  readonly name: EngineName;
  readonly scanner: Scanner;
  /** Whether a pass before training says something (rules only). */
  readonly untrainedRow: boolean;
  /** Concurrency of classification (the built-in engine is in-process: 1). */
  readonly concurrency: number;
  /** What decides "spam", for the report. */
  readonly spamRule: string;
  /** Milliseconds of CPU time the engine's processes have used so far. */
  cpuMs(): number;
  train(messages: readonly LabelledMessage[]): Promise<Training>;
  stop(): Promise<void>;
}

const { values } = parseArgs({
  options: {
    engines: { type: 'string', default: ENGINES.join(',') },
    concurrency: { type: 'string', default: '2' },
    'spamd-learn': { type: 'string', default: 'sa-learn' },
    'no-untrained': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    out: { type: 'string' },
    sample: { type: 'string' },
    misses: { type: 'boolean', default: false },
  },
});
const say = (text: string): void => {
  process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${text}\n`);
};

const engines = values.engines.split(',').map((name) => {
  if (!(ENGINES as readonly string[]).includes(name)) {
    throw new Error(`--engines: unknown engine "${name}" (known: ${ENGINES.join(', ')})`);
  }
  return name as EngineName;
});
const concurrency = Number(values.concurrency);
if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error('--concurrency: 1 or more');
const spamdLearn = values['spamd-learn'];
if (spamdLearn !== 'sa-learn' && spamdLearn !== 'tell') {
  throw new Error('--spamd-learn must be sa-learn or tell');
}

const request = (m: LabelledMessage): ScanRequest => ({
  message: m.message,
  envelope: { recipients: [] },
});
const kindOf = (m: LabelledMessage): LearnKind => (m.spam ? 'spam' : 'ham');

/** Runs `work` over `items` with at most `limit` in flight; results keep the input order. */
async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await work(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Calls `fn` up to three times; scanners on loopback should not fail, but a busy box may time out. */
async function retrying<R>(what: string, fn: () => Promise<R>): Promise<R> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt >= 3 || error instanceof LearnUnsupportedError) throw error;
      say(`${what}: attempt ${attempt} failed (${(error as Error).message}); retrying`);
    }
  }
}

/** CPU ms of a process tree: the root (with its reaped children) plus its live descendants. */
function treeCpuMs(root: number | undefined): number {
  if (root === undefined) return Number.NaN;
  let total = processCpuMs(root, true);
  const queue = childPids(root);
  while (queue.length > 0) {
    const pid = queue.pop() as number;
    total += processCpuMs(pid, false);
    queue.push(...childPids(pid));
  }
  return total;
}

/** The first child of this process whose command name is `comm` (rspamd writes no pid file with -f). */
function childNamed(comm: string): number | undefined {
  return childPids(process.pid).find((pid) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === comm;
    } catch {
      return false;
    }
  });
}

/** The pid in a pid file, if the file is there. */
function pidFromFile(path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** rspamd's answer when its learn condition refuses: Bayes already puts the message in that class. */
const DENIED = 'all learn conditions denied';

/**
 * Learns every message through `scanner.learn`, `limit` at a time. rspamd's stock learn condition
 * (lua_bayes_learn.can_learn) refuses a message Bayes already classifies with ≥ 95 % confidence;
 * those are counted as `denied`, not as failures.
 */
async function learnEach(
  scanner: Scanner,
  messages: readonly LabelledMessage[],
  limit: number,
  method: string,
): Promise<Training> {
  const signal = new AbortController().signal;
  let learned = 0;
  let denied = 0;
  let failed = 0;
  const started = performance.now();
  await mapLimit(messages, limit, async (m, i) => {
    try {
      const result = await retrying(`learn ${m.name}`, () =>
        scanner.learn(kindOf(m), request(m), signal),
      );
      if (result.learned) learned++;
    } catch (error) {
      if (error instanceof LearnUnsupportedError && error.message.includes(DENIED)) {
        denied++;
      } else {
        failed++;
        if (failed <= 5) say(`learn ${m.group}/${m.name} failed: ${(error as Error).message}`);
      }
    }
    if ((i + 1) % 1000 === 0) say(`  learned ${i + 1} of ${messages.length}`);
  });
  return { method, seconds: (performance.now() - started) / 1000, learned, denied, failed };
}

/** The built-in engine with a fresh SQLite store in a temp dir, in this process. */
function builtinEngine(): Engine {
  const dir = mkdtempSync(join(tmpdir(), 'spamward-accuracy-'));
  const store = new SqliteTokenStore({ scanner: 'builtin://bench', dataDir: dir });
  const scanner = new BuiltinScanner({ url: 'builtin (sqlite)', store });
  return {
    name: 'builtin',
    scanner,
    untrainedRow: false,
    concurrency: 1,
    spamRule: 'isSpam: score ≥ 5',
    cpuMs: () => {
      const usage = process.cpuUsage();
      return (usage.user + usage.system) / 1000;
    },
    train: (messages) => learnEach(scanner, messages, 1, 'learn() per message, in process'),
    async stop() {
      await scanner.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs a command to completion and returns its stdout and stderr; rejects on a non-zero exit. */
async function run(
  command: string,
  args: string[],
  options: { uid?: number; gid?: number; env: NodeJS.ProcessEnv },
): Promise<string> {
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${code}:\n${output}`);
  return output;
}

/**
 * Trains spamd's Bayes DB with sa-learn: the messages (as delivered, CRLF) go to files in a temp
 * dir, then `sa-learn --local --dbpath BAYES --siteconfigpath SITE --spam DIR` (and `--ham`) runs
 * as the spamd user, the owner of the Bayes dir (files are created with bayes_file_mode 0777).
 */
async function saLearn(
  spamdDir: string,
  bayesPath: string,
  messages: readonly LabelledMessage[],
): Promise<Training> {
  const work = mkdtempSync(join(tmpdir(), 'spamward-salearn-'));
  try {
    chmodSync(work, 0o755); // sa-learn runs as the spamd user
    for (const kind of ['spam', 'ham'] as const) {
      mkdirSync(join(work, kind), { mode: 0o755 });
      for (const m of messages.filter((x) => kindOf(x) === kind)) {
        writeFileSync(join(work, kind, `${m.group}-${m.name}`), m.message, { mode: 0o644 });
      }
    }
    const owner = spamdOwner(); // null unless root
    const saLearnBin = findBinary('sa-learn') ?? 'sa-learn';
    const home = join(spamdDir, 'home');
    const common = [
      '--local',
      `--dbpath=${bayesPath}`,
      `--siteconfigpath=${join(spamdDir, 'site')}`,
    ];
    const options = {
      ...(owner === null ? {} : owner),
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: home, LANG: 'C' },
    };
    let learned = 0;
    const started = performance.now();
    for (const kind of ['spam', 'ham'] as const) {
      const output = await run(saLearnBin, [...common, `--${kind}`, join(work, kind)], options);
      say(`  sa-learn --${kind}: ${output.trim()}`);
      learned += Number(/Learned tokens from (\d+) message/.exec(output)?.[1] ?? 0);
    }
    const seconds = (performance.now() - started) / 1000;
    const user = owner === null ? 'this user' : SPAMD_USER;
    return { method: `sa-learn --dbpath (as ${user})`, seconds, learned, denied: 0, failed: 0 };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** A private `spamd -L` with Bayes in a temp dir, scanned with SYMBOLS. */
async function spamdEngine(): Promise<Engine> {
  const server = await startSpamd();
  const scanner = createScanner(server.tcpUrl, { spamdVerb: 'SYMBOLS', scanTimeoutMs: 120_000 });
  const pid = (): number | undefined => pidFromFile(join(server.dir, 'run', 'spamd.pid'));
  return {
    name: 'spamd',
    scanner,
    untrainedRow: true,
    concurrency,
    spamRule: '`Spam: True`: score ≥ 5',
    cpuMs: () => treeCpuMs(pid()),
    train: (messages) =>
      spamdLearn === 'tell'
        ? learnEach(scanner, messages, concurrency, 'TELL (Set: local) per message')
        : saLearn(server.dir, server.bayesPath, messages),
    stop: () => server.stop(),
  };
}

/** A private rspamd with Redis, trained through its controller. */
async function rspamdEngine(): Promise<Engine> {
  const server = await startRspamd();
  say(`  rspamd up in ${server.startupMs} ms`);
  const scanner = createScanner(server.url, {
    rspamdControllerUrl: server.controllerUrl,
    rspamdPassword: server.password,
    scanTimeoutMs: 120_000,
  });
  // rspamd's main process (its workers are its children) and the Redis that holds Bayes.
  const pids = [childNamed('rspamd'), childNamed('redis-server')];
  return {
    name: 'rspamd',
    scanner,
    untrainedRow: true,
    concurrency,
    spamRule: 'action add header, rewrite subject or reject: score ≥ 6',
    cpuMs: () => pids.reduce((sum: number, pid) => sum + treeCpuMs(pid), 0),
    train: (messages) =>
      learnEach(scanner, messages, concurrency, 'controller /learnspam, /learnham per message'),
    stop: () => server.stop(),
  };
}

/** Bayes symbols: SpamAssassin's and the built-in BAYES_00…BAYES_99, rspamd's BAYES_SPAM/BAYES_HAM. */
const BAYES_SYMBOL = /^BAYES_/;

/** Classifies the test set; one row of the report. */
async function classify(
  engine: Engine,
  label: string,
  test: readonly LabelledMessage[],
  training: Training | undefined,
): Promise<PeerRow> {
  const signal = new AbortController().signal;
  const actions = { ham: {} as Record<string, number>, spam: {} as Record<string, number> };
  let bayesVoted = 0;
  const cpuBefore = engine.cpuMs();
  const started = performance.now();
  const outcomes = await mapLimit(test, engine.concurrency, async (m, i): Promise<Outcome> => {
    const verdict: Verdict = await retrying(`scan ${m.name}`, () =>
      engine.scanner.scan(request(m), signal),
    );
    const byAction = m.spam ? actions.spam : actions.ham;
    byAction[verdict.action] = (byAction[verdict.action] ?? 0) + 1;
    if (verdict.symbols.some((s) => BAYES_SYMBOL.test(s.name))) bayesVoted++;
    if ((i + 1) % 250 === 0) {
      say(`  ${label}: classified ${i + 1} of ${test.length}, Bayes in ${bayesVoted}`);
    }
    if (values.misses && verdict.isSpam !== m.spam) {
      const top = verdict.symbols.filter((x) => x.score !== 0).slice(0, 8);
      say(
        `miss: ${label}: ${m.spam ? 'FN' : 'FP'} ${m.group}/${m.name} ${verdict.score.toFixed(1)} ` +
          `${verdict.action}: ${top.map((x) => `${x.name}=${x.score.toFixed(1)}`).join(' ')}`,
      );
    }
    return {
      group: m.group,
      name: m.name,
      spam: m.spam,
      flagged: verdict.isSpam,
      score: verdict.score,
      symbols: verdict.symbols.map((s) => s.name),
    };
  });
  const seconds = (performance.now() - started) / 1000;
  const cpuMs = engine.cpuMs() - cpuBefore;
  return {
    label,
    engine: engine.name,
    ...summarise(outcomes),
    spamRule: engine.spamRule,
    concurrency: engine.concurrency,
    scanSeconds: seconds,
    scanPerSecond: test.length / seconds,
    cpuMsPerMessage: Number.isFinite(cpuMs) ? cpuMs / test.length : null,
    bayesVoted,
    actions,
    training: training ?? null,
  };
}

const corpus = await loadLabelled();
// --sample N (for a quick trial only): about N messages of each split, every k-th one.
const sample = values.sample === undefined ? undefined : Number(values.sample);
if (sample !== undefined && !(Number.isInteger(sample) && sample > 0)) {
  throw new Error('--sample: a positive whole number');
}
const thin = (list: LabelledMessage[]): LabelledMessage[] => {
  if (sample === undefined) return list;
  const step = Math.max(1, Math.ceil(list.length / sample));
  return list.filter((_, i) => i % step === 0);
};
const train = thin(corpus.filter((m) => isTrain(m.name)));
const test = thin(corpus.filter((m) => !isTrain(m.name)));
say(`accuracy-peers: ${train.length} train, ${test.length} test; engines ${engines.join(', ')}`);

const rows: PeerRow[] = [];
const began = performance.now();
for (const name of engines) {
  say(`${name}: starting`);
  const engine =
    name === 'builtin'
      ? builtinEngine()
      : name === 'spamd'
        ? await spamdEngine()
        : await rspamdEngine();
  try {
    if (engine.untrainedRow && !values['no-untrained']) {
      say(`${name}: classifying untrained (rules only)`);
      const row = await classify(engine, `${name} (rules only)`, test, undefined);
      say(`  ${(row.accuracy * 100).toFixed(2)} % in ${row.scanSeconds.toFixed(0)} s`);
      rows.push(row);
    }
    say(`${name}: training on ${train.length} messages`);
    const training = await engine.train(train);
    say(`  ${training.method}: ${training.learned} learned in ${training.seconds.toFixed(1)} s`);
    say(`${name}: classifying trained`);
    const label = name === 'builtin' ? 'built-in (sqlite)' : `${name} + Bayes`;
    const row = await classify(engine, label, test, training);
    say(`  ${(row.accuracy * 100).toFixed(2)} % in ${row.scanSeconds.toFixed(0)} s`);
    rows.push(row);
  } finally {
    await engine.stop();
  }
}

const results = {
  train: train.length,
  test: test.length,
  node: process.version,
  concurrency,
  totalSeconds: (performance.now() - began) / 1000,
  rows,
};
const text = values.json ? `${JSON.stringify(results, null, 2)}\n` : `${peersMarkdown(rows)}\n`;
if (values.out !== undefined) writeFileSync(values.out, `${JSON.stringify(results, null, 2)}\n`);
process.stdout.write(text);
