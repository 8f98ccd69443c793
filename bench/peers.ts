/**
 * The comparison benchmark (issue 6): Spamward against reference points on the same machine, with
 * the same load generator, printed as a Markdown section for BENCHMARKS.md.
 *
 * 1. `null`: Spamward with the `noop` scanner against a C libmilter filter that does nothing
 *    (bench/null-milter.c, built here with cc), one message per connection and 10 per
 *    connection, at each concurrency. Target: noop ≥ 0.8× the C null milter.
 * 2. `spamd` / `rspamd`: the scanner driven directly by Spamward's own client against Spamward
 *    (milter) → the same scanner, over the same corpus messages. Targets: ≥ 0.97× raw spamd,
 *    ≥ 0.9× raw rspamd; ≤ 1 ms added median latency at concurrency 1.
 * Runs of the two sides alternate, so drift in other work on the machine hits both alike.
 *
 * Options: --parts null,spamd,rspamd, --repeat 3, --count 2000 (messages per null run),
 * --concurrency 1,4,16, --modes 1,10, --scan-count 400 (messages per scanner run at
 * --scan-concurrency 4), --latency-count 100 (messages per concurrency-1 scanner run), --tsx.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createScanner } from '../src/scanners/factory.ts';
import type { Scanner } from '../src/scanners/scanner.ts';
import { startRspamd } from '../test/support/rspamd-server.ts';
import { startSpamd } from '../test/support/spamd-server.ts';
import type { CorpusMessage } from './corpus.ts';
import {
  type BenchDaemon,
  distIsStale,
  freePort,
  ROOT,
  revision,
  startDaemon,
  waitForPort,
} from './daemon.ts';
import { type LoadResult, packageVersion, standardMessages } from './load-mta.ts';
import { type Check, runCheckedLoad, runScannerLoad, scanMessages } from './peers-load.ts';
import { cpuMs, machine } from './proc.ts';

const { values } = parseArgs({
  options: {
    parts: { type: 'string', default: 'null,spamd,rspamd' },
    repeat: { type: 'string', default: '3' },
    count: { type: 'string', default: '2000' },
    warmup: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '1,4,16' },
    modes: { type: 'string', default: '1,10' },
    'scan-count': { type: 'string', default: '400' },
    'scan-concurrency': { type: 'string', default: '4' },
    'latency-count': { type: 'string', default: '100' },
    tsx: { type: 'boolean', default: false },
  },
});

const parts = new Set(values.parts.split(','));
const repeat = positive('repeat', values.repeat);
const count = positive('count', values.count);
const warmup = Number(values.warmup);
const levels = values.concurrency.split(',').map((c) => positive('concurrency', c));
const modes = values.modes.split(',').map((m) => positive('modes', m));
const scanCount = positive('scan-count', values['scan-count']);
const scanConcurrency = positive('scan-concurrency', values['scan-concurrency']);
const latencyCount = positive('latency-count', values['latency-count']);
/** A milter run stops starting messages after this long (null part; scanner runs get 10 min). */
const RUN_CAP_MS = 60_000;
const SCAN_RUN_CAP_MS = 600_000;

/** Several runs of one side at one setting. */
interface Side {
  readonly label: string;
  readonly runs: {
    readonly result: LoadResult;
    readonly serverCpuUs: number | undefined;
    readonly daemonCpuUs: number | undefined;
  }[];
}

/** A pair of sides measured alternately at one setting. */
interface Pair {
  readonly setting: string;
  readonly concurrency: number;
  readonly base: Side;
  readonly ours: Side;
}

function positive(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1)
    throw new RangeError(`--${name}: ${text} is not a positive integer`);
  return n;
}

function say(text: string): void {
  process.stderr.write(`${text}\n`);
}

/** One side of a pair: how to run it once, and whose CPU to charge. */
interface Runner {
  readonly label: string;
  run(): Promise<LoadResult>;
  /** CPU ms so far of the process(es) serving this side (milter or scanner), when known. */
  cpu?(): number;
  /** CPU ms so far of the Spamward daemon in front of a scanner, when there is one. */
  daemonCpu?(): number;
}

async function measure(
  setting: string,
  concurrency: number,
  base: Runner,
  ours: Runner,
): Promise<Pair> {
  const pair: Pair = {
    setting,
    concurrency,
    base: { label: base.label, runs: [] },
    ours: { label: ours.label, runs: [] },
  };
  for (let i = 0; i < repeat; i++) {
    for (const [runner, side] of [
      [base, pair.base],
      [ours, pair.ours],
    ] as const) {
      const before = [runner.cpu?.(), runner.daemonCpu?.()] as const;
      const result = await runner.run();
      const after = [runner.cpu?.(), runner.daemonCpu?.()] as const;
      const perMessage = (i: 0 | 1): number | undefined => {
        const [b, a] = [before[i], after[i]];
        return b === undefined || a === undefined
          ? undefined
          : ((a - b) * 1000) / Math.max(1, result.ok + result.errors);
      };
      side.runs.push({ result, serverCpuUs: perMessage(0), daemonCpuUs: perMessage(1) });
      say(
        `peers: ${setting} c=${concurrency} ${runner.label}: ${Math.round(result.rate)} msg/s, ` +
          `p50 ${result.latency.p50.toFixed(2)} ms, errors ${result.errors}` +
          (result.errorSamples.length > 0 ? ` (${result.errorSamples[0]})` : ''),
      );
    }
  }
  return pair;
}

const sorted = (xs: readonly number[]): number[] => [...xs].sort((a, b) => a - b);
const mid = (xs: readonly number[]): number => sorted(xs)[Math.floor(xs.length / 2)] as number;
const rates = (s: Side): number[] => s.runs.map((r) => r.result.rate);
const p50s = (s: Side): number[] => s.runs.map((r) => r.result.latency.p50);
const p99s = (s: Side): number[] => s.runs.map((r) => r.result.latency.p99);
const fmt = (x: number): string => x.toFixed(x < 10 ? 2 : 1);
const range = (xs: readonly number[], f: (x: number) => string): string => {
  const s = sorted(xs);
  return `${f(mid(xs))} (${f(s[0] as number)}–${f(s[s.length - 1] as number)})`;
};
const round = (x: number): string => String(Math.round(x));

function sideCells(s: Side): string {
  const known = (xs: readonly (number | undefined)[]): number[] =>
    xs.filter((x): x is number => x !== undefined);
  const cpu = known(s.runs.map((r) => r.serverCpuUs));
  const daemon = known(s.runs.map((r) => r.daemonCpuUs));
  const client = s.runs.map((r) => r.result.clientCpu);
  const errors = s.runs.reduce((n, r) => n + r.result.errors, 0);
  const total = s.runs.reduce((n, r) => n + r.result.ok + r.result.errors, 0);
  return [
    range(rates(s), round),
    range(p50s(s), fmt),
    range(p99s(s), fmt),
    cpu.length > 0 ? round(mid(cpu)) : '–',
    daemon.length > 0 ? round(mid(daemon)) : '–',
    `${Math.round(mid(client) * 100)} %`,
    `${errors} / ${total}`,
  ].join(' | ');
}

/** Table of pairs: both sides' rows, then the ratio of median rates (min–max over run pairs). */
function table(pairs: readonly Pair[], target: number | undefined): string {
  const out = [
    '| setting | conc. | side | msg/s median (min–max) | p50 ms | p99 ms | server CPU µs/msg | Spamward CPU µs/msg | client CPU | errors / msgs | ours ÷ base msg/s |',
    '|---|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const p of pairs) {
    const ratios = p.ours.runs.map(
      (r, i) => r.result.rate / (p.base.runs[i]?.result.rate ?? Number.NaN),
    );
    const ratio = mid(rates(p.ours)) / mid(rates(p.base));
    const verdict = target === undefined ? '' : ratio >= target ? ' ✅' : ' ❌';
    out.push(`| ${p.setting} | ${p.concurrency} | ${p.base.label} | ${sideCells(p.base)} | |`);
    out.push(
      `| ${p.setting} | ${p.concurrency} | ${p.ours.label} | ${sideCells(p.ours)} | ` +
        `**${ratio.toFixed(2)}**${verdict} (pairs ${range(ratios, (x) => x.toFixed(2))}) |`,
    );
  }
  return out.join('\n');
}

/** Median-latency difference at concurrency 1: ours − base, with the min–max over run pairs. */
function addedLatency(p: Pair): string {
  const diffs = p.ours.runs.map(
    (r, i) => r.result.latency.p50 - (p.base.runs[i]?.result.latency.p50 ?? Number.NaN),
  );
  const added = mid(p50s(p.ours)) - mid(p50s(p.base));
  return `${added.toFixed(2)} ms${added <= 1 ? ' ✅' : ' ❌'} (pairs ${range(diffs, (x) => x.toFixed(2))})`;
}

/** Builds and starts the C null milter on a free loopback port. */
async function startNullMilter(): Promise<{
  child: ChildProcess;
  port: number;
  dir: string;
  command: string;
}> {
  const dir = mkdtempSync(join(tmpdir(), 'spamward-null-milter-'));
  const binary = join(dir, 'null-milter');
  const build = ['-O2', '-o', binary, join(ROOT, 'bench/null-milter.c'), '-lmilter', '-lpthread'];
  execFileSync('cc', build, { stdio: 'inherit' });
  const port = await freePort();
  const child = spawn(binary, [`inet:${port}@127.0.0.1`], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.on('data', (chunk: Buffer) => say(`null-milter: ${chunk.toString().trim()}`));
  process.once('exit', () => child.kill('SIGKILL'));
  const exited = new Promise<string>((resolve) =>
    child.once('exit', (code, signal) => resolve(`exit ${code ?? signal}`)),
  );
  await waitForPort(port, exited);
  return { child, port, dir, command: `cc ${build.join(' ')}`.replace(dir, '<tmp>') };
}

/** Starts the daemon with extra SPAMWARD_* settings (put into the environment it inherits). */
async function daemonWith(env: Record<string, string>): Promise<BenchDaemon> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return await startDaemon({ tsx: values.tsx, logLevel: 'warn' });
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

function milterRunner(
  label: string,
  port: number,
  pid: number,
  check: Check,
  messages: readonly CorpusMessage[],
  concurrency: number,
  perConnection: number,
  n: number,
  capMs = RUN_CAP_MS,
): Runner {
  return {
    label,
    run: () =>
      runCheckedLoad({
        port,
        concurrency,
        messagesPerConnection: perConnection,
        count: n,
        durationMs: capMs,
        messages,
        check,
        version: packageVersion(),
      }),
    cpu: () => cpuMs(pid),
  };
}

async function nullPart(out: string[]): Promise<void> {
  const messages = await standardMessages();
  const nm = await startNullMilter();
  const daemon = await daemonWith({ SPAMWARD_SCANNER_URLS: 'noop' });
  const nmPid = nm.child.pid as number;
  const pairs: Pair[] = [];
  try {
    if (warmup > 0) {
      for (const pc of modes) {
        await milterRunner('w', nm.port, nmPid, 'none', messages, 16, pc, warmup).run();
        await milterRunner(
          'w',
          daemon.port,
          daemon.pid,
          'spamward',
          messages,
          16,
          pc,
          warmup,
        ).run();
      }
    }
    for (const pc of modes) {
      for (const c of levels) {
        pairs.push(
          await measure(
            pc === 1 ? '1 msg/conn' : `${pc} msg/conn`,
            c,
            milterRunner('C null milter', nm.port, nmPid, 'none', messages, c, pc, count),
            milterRunner(
              'Spamward noop',
              daemon.port,
              daemon.pid,
              'spamward',
              messages,
              c,
              pc,
              count,
            ),
          ),
        );
      }
    }
  } finally {
    const problems = daemon.problems().filter((l) => !l.includes('running as root'));
    await daemon.stop();
    nm.child.kill('SIGTERM');
    rmSync(nm.dir, { recursive: true, force: true });
    if (problems.length > 0) say(`peers: daemon problems:\n${problems.join('\n')}`);
  }
  out.push(
    '#### Milter protocol ceiling: Spamward `noop` vs a C libmilter null milter',
    '',
    `- C null milter: \`${nm.command}\`, run as \`null-milter inet:PORT@127.0.0.1\`; it negotiates what Spamward does (no DATA, no replies to headers/EOH, SKIP), reads every stage and answers CONTINUE, at end-of-message too (no modification).`,
    `- Spamward: \`${daemon.command.replace(/inet:\d+@/, 'inet:PORT@')}\` with \`SPAMWARD_SCANNER_URLS=noop\` (it still builds the message and adds its headers).`,
    `- Per row ${repeat} runs of ${count} messages each side, alternating, after ${warmup} messages of warm-up per mode; corpus as in \`npm run bench\` (noop answers GTUBE as ham, so nothing is rejected). "server CPU" is the milter process's CPU time per message (the daemon's, for Spamward; the Spamward CPU column is for the scanner tables).`,
    '',
    table(pairs, 0.8),
    '',
  );
}

async function scannerPart(
  out: string[],
  kind: 'spamd' | 'rspamd',
  url: string,
  daemonEnv: Record<string, string>,
  settings: Parameters<typeof createScanner>[1],
  serverCpu: () => number,
  target: number,
): Promise<void> {
  const messages = await scanMessages(scanCount);
  const scanner: Scanner = createScanner(url, settings);
  const daemon = await daemonWith({ SPAMWARD_SCANNER_URLS: url, ...daemonEnv });
  const pairs: Pair[] = [];
  let latencyPair: Pair | undefined;
  try {
    const raw = (c: number, n: number): Runner => ({
      label: `raw ${kind}`,
      run: () => runScannerLoad(scanner, messages, c, n),
      cpu: serverCpu,
    });
    const through = (c: number, n: number): Runner => ({
      ...milterRunner(
        `Spamward → ${kind}`,
        daemon.port,
        daemon.pid,
        'spamward',
        messages,
        c,
        1,
        n,
        SCAN_RUN_CAP_MS,
      ),
      cpu: serverCpu,
      daemonCpu: () => cpuMs(daemon.pid),
    });
    // Warm-up: rule compilation, caches, the daemon's JIT.
    await raw(scanConcurrency, 40).run();
    await through(scanConcurrency, 40).run();
    pairs.push(
      await measure(
        `${messages.length} messages`,
        scanConcurrency,
        raw(scanConcurrency, scanCount),
        through(scanConcurrency, scanCount),
      ),
    );
    latencyPair = await measure(
      `${latencyCount} messages`,
      1,
      raw(1, latencyCount),
      through(1, latencyCount),
    );
    pairs.push(latencyPair);
  } finally {
    const problems = daemon.problems().filter((l) => !l.includes('running as root'));
    await daemon.stop();
    await scanner.close?.();
    if (problems.length > 0) say(`peers: daemon problems:\n${problems.join('\n')}`);
  }
  out.push(
    `#### ${kind}: raw client vs Spamward → ${kind}`,
    '',
    `- Raw: Spamward's own ${kind} client (\`createScanner('${url.replace(/:\d+$/, ':PORT')}'${kind === 'spamd' ? ", { spamdVerb: 'CHECK' }" : ''})\`) called directly with the message as Spamward would pass it, N at a time.`,
    `- Through Spamward: the load generator (one message per connection) → \`SPAMWARD_SCANNER_URLS=${url.replace(/:\d+$/, ':PORT')}${Object.entries(
      daemonEnv,
    )
      .map(([k, v]) => ` ${k}=${v}`)
      .join('')}\` → the same ${kind}.`,
    `- The first ${messages.length} corpus messages in the fixed shuffled order (no GTUBE), ${repeat} runs each side alternating; "server CPU" is ${kind}'s CPU per message (all its processes), "Spamward CPU" the daemon's.`,
    '',
    table(pairs, target),
    '',
    `Added median latency at concurrency 1 (target ≤ 1 ms): ${latencyPair === undefined ? 'not measured' : addedLatency(latencyPair)}.`,
    '',
  );
}

/**
 * CPU ms of a process and its live descendants, each with its reaped children's time (cutime,
 * cstime), so a scanner that recycles its workers (spamd after max-conn-per-child) is fully counted.
 */
function treeCpuMs(root: number): number {
  let total = 0;
  const walk = (pid: number): void => {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return;
    }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    total += [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0) * TICK_MS;
    let children = '';
    try {
      children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8');
    } catch {
      return;
    }
    for (const c of children.trim().split(/\s+/).filter(Boolean)) walk(Number(c));
  };
  walk(root);
  return total;
}

/** USER_HZ on mainstream Linux: /proc/PID/stat counts CPU time in 10 ms ticks. */
const TICK_MS = 10;

/** Pids of this process's direct children running `name`. */
function childrenNamed(name: string): number[] {
  const out = execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)], {
    encoding: 'utf8',
  });
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter(([, comm]) => comm?.startsWith(name) === true)
    .map(([pid]) => Number(pid));
}

async function main(): Promise<void> {
  const began = performance.now();
  const host = machine();
  const out: string[] = [];
  const staleDist = values.tsx ? false : distIsStale();
  if (staleDist) say('peers: WARNING dist/ is older than src/; run `npm run build` first');
  if (parts.has('null')) await nullPart(out);
  if (parts.has('spamd')) {
    const server = await startSpamd();
    try {
      const pidFile = join(server.dir, 'run', 'spamd.pid');
      await scannerPart(
        out,
        'spamd',
        server.tcpUrl,
        { SPAMWARD_SCANNER_SPAMD_VERB: 'CHECK' },
        { spamdVerb: 'CHECK' },
        () => treeCpuMs(Number(readFileSync(pidFile, 'utf8').trim())),
        0.97,
      );
    } finally {
      await server.stop();
    }
  }
  if (parts.has('rspamd')) {
    const server = await startRspamd();
    try {
      const rspamd = childrenNamed('rspamd');
      await scannerPart(
        out,
        'rspamd',
        server.url,
        {},
        {},
        () => rspamd.reduce((s, p) => s + treeCpuMs(p), 0),
        0.9,
      );
    } finally {
      await server.stop();
    }
  }
  const date = new Date().toISOString().slice(0, 10);
  const text = [
    `### ${date}: comparison with reference points (issue 6)`,
    '',
    `- Machine: ${host.cpu}, ${host.cores} cores, ${host.memoryGb} GB RAM, Linux ${host.kernel}, Node ${host.node}; load average ${host.load.toFixed(2)} at the start, ${(loadavg()[0] ?? 0).toFixed(2)} at the end (other work was running on the same 2 cores).`,
    `- Code: ${revision()}${staleDist ? ' (**dist/ older than src/**)' : ''}.`,
    `- Command: \`node --import tsx bench/peers.ts ${process.argv.slice(2).join(' ')}\`.`.replace(
      ' `.',
      '`.',
    ),
    '- The load client (Node, one process) runs on the same 2 cores as the milter and scanner: where its CPU column nears 100 %, it, not the milter, bounds msg/s, and the ratio understates the gap between the two servers (compare "server CPU µs/msg").',
    `- Whole run: ${Math.round((performance.now() - began) / 1000)} s.`,
    '',
    ...out,
  ].join('\n');
  process.stdout.write(`${text}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `peers: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});
