import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { positive, say } from './cli.ts';
import { type BenchDaemon, distIsStale, ROOT, revision, startDaemon } from './daemon.ts';
import { idleProbe } from './idle-probe.ts';
import { type LoadResult, packageVersion, runLoad, standardMessages } from './load-mta.ts';
import { cpuMs, machine, machineCpuMs, memory, resetPeak, sampleRss } from './proc.ts';
import { idleTable, loadTable, type Results, type Row, section, writeSection } from './report.ts';

const { values } = parseArgs({
  options: {
    write: { type: 'boolean', default: false },
    count: { type: 'string', default: '2000' },
    repeat: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '1,4,16,64' },
    modes: { type: 'string', default: '1,10' },
    sessions: { type: 'string', default: '500' },
    tsx: { type: 'boolean', default: false },
    'log-level': { type: 'string', default: 'warn' },
    'cpu-prof': { type: 'string' },
  },
});

const count = positive('count', values.count);
const repeat = positive('repeat', values.repeat);
const warmup = Number(values.warmup);
const levels = values.concurrency.split(',').map((c) => positive('concurrency', c));
const modes = values.modes.split(',').map((m) => positive('modes', m));
const sessions = Number(values.sessions);
// Every run stops starting messages after this long, whatever its count: the bench always ends.
const RUN_CAP_MS = 30_000;

async function main(): Promise<void> {
  const began = performance.now();
  const host = machine();
  const version = packageVersion();
  const staleDist = values.tsx ? false : distIsStale();
  if (staleDist)
    say('bench: WARNING dist/ is older than src/; run `npm run build` to measure current code');
  const messages = await standardMessages();
  const daemonOptions = { tsx: values.tsx, logLevel: values['log-level'] };
  const daemon = await startDaemon({
    ...daemonOptions,
    ...(values['cpu-prof'] === undefined ? {} : { cpuProfDir: values['cpu-prof'] }),
  });
  say(
    `bench: ${daemon.command} (pid ${daemon.pid}); ${messages.length} messages in the send order`,
  );
  const rows: Row[] = [];
  let loadHwmKb = 0;
  let problems: readonly string[] = [];
  try {
    if (warmup > 0) {
      for (const perConnection of modes) {
        const w = await load(
          daemon,
          messages,
          version,
          16,
          perConnection,
          Math.ceil(warmup / modes.length),
        );
        say(
          `bench: warm-up ${perConnection} msg/conn: ${Math.round(w.rate)} msg/s, ${w.errors} errors`,
        );
      }
    }
    for (const perConnection of modes) {
      for (const concurrency of levels) {
        rows.push(await row(daemon, messages, version, concurrency, perConnection));
      }
    }
    loadHwmKb = memory(daemon.pid)?.hwmKb ?? 0;
  } finally {
    problems = daemon.problems();
    say(`bench: load daemon stopped (${await daemon.stop()})`);
  }
  say(`\n${loadTable(rows)}\n`);

  let idle: Results['idle'];
  if (sessions > 0) {
    const fresh = await startDaemon(daemonOptions);
    try {
      idle = await idleProbe(fresh.pid, fresh.port, sessions);
    } finally {
      problems = [...problems, ...fresh.problems()];
      await fresh.stop();
    }
    say(`${idleTable(idle)}\n`);
  }

  const results: Results = {
    date: new Date().toISOString().slice(0, 10),
    machine: host,
    revision: revision(),
    daemonCommand: daemon.command.replace(/inet:\d+@/, 'inet:PORT@'),
    staleDist,
    plan:
      `Load: per row ${repeat} runs of ${count} messages (the median run by msg/s is shown, with the ` +
      `min–max over the runs), after a warm-up of ${warmup} messages. Corpus: SpamAssassin ` +
      `easy-ham-1 + spam-1 (3,000 messages, shuffled), one GTUBE message after every 100.`,
    rows,
    idle,
    loadHwmKb,
    problems,
    totalSeconds: (performance.now() - began) / 1000,
  };
  const text = section(results);
  process.stdout.write(`${text}\n`);
  if (values.write) {
    writeSection(join(ROOT, 'BENCHMARKS.md'), results.date, text);
    say('bench: BENCHMARKS.md updated');
  }
  if (rows.some((r) => r.errors > 0) || (idle !== undefined && idle.opened < idle.sessions))
    process.exitCode = 1;
}

/** `repeat` runs at one setting; the row holds the median run. */
async function row(
  daemon: BenchDaemon,
  messages: Parameters<typeof load>[1],
  version: string,
  concurrency: number,
  perConnection: number,
): Promise<Row> {
  const runs: { result: LoadResult; daemonCpu: number; otherCpu: number }[] = [];
  let peakRssKb = 0;
  for (let i = 0; i < repeat; i++) {
    const reset = resetPeak(daemon.pid);
    const sampler = sampleRss(daemon.pid);
    const cpuBefore = cpuMs(daemon.pid);
    const machineBefore = machineCpuMs();
    const result = await load(daemon, messages, version, concurrency, perConnection, count);
    const daemonCpu = (cpuMs(daemon.pid) - cpuBefore) / result.elapsedMs;
    const machineAfter = machineCpuMs();
    // Everything else that ran meanwhile: kernel network softirqs, other processes, steal.
    const otherCpu =
      (machineAfter.busy - machineBefore.busy + machineAfter.steal - machineBefore.steal) /
        result.elapsedMs -
      daemonCpu -
      result.clientCpu;
    const sampled = sampler.stop();
    peakRssKb = Math.max(peakRssKb, sampled, reset ? (memory(daemon.pid)?.hwmKb ?? 0) : 0);
    runs.push({ result, daemonCpu, otherCpu: Math.max(0, otherCpu) });
  }
  runs.sort((a, b) => a.result.rate - b.result.rate);
  const mid = runs[Math.floor(runs.length / 2)] as (typeof runs)[number];
  const out: Row = {
    perConnection,
    concurrency,
    median: mid.result,
    minRate: (runs[0] as (typeof runs)[number]).result.rate,
    maxRate: (runs[runs.length - 1] as (typeof runs)[number]).result.rate,
    messages: runs.reduce((n, r) => n + r.result.ok + r.result.errors, 0),
    errors: runs.reduce((n, r) => n + r.result.errors, 0),
    daemonCpu: mid.daemonCpu,
    otherCpu: mid.otherCpu,
    peakRssKb,
  };
  say(
    `bench: ${perConnection} msg/conn c=${concurrency}: ${Math.round(mid.result.rate)} msg/s, ` +
      `p50 ${mid.result.latency.p50.toFixed(2)} ms, errors ${out.errors}`,
  );
  return out;
}

function load(
  daemon: BenchDaemon,
  messages: Awaited<ReturnType<typeof standardMessages>>,
  version: string,
  concurrency: number,
  perConnection: number,
  n: number,
): Promise<LoadResult> {
  return runLoad({
    port: daemon.port,
    concurrency,
    messagesPerConnection: perConnection,
    count: n,
    durationMs: RUN_CAP_MS,
    messages,
    version,
  });
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});
