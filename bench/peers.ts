/**
 * The comparison benchmark (issue 6): Spamward against reference points on the same machine, with
 * the same load generator, printed as a Markdown section for BENCHMARKS.md.
 *
 * 1. `null`: Spamward with the `noop` scanner against a C libmilter filter that does nothing
 *    (bench/null-milter.c, built here with cc), one message per connection and 10 per
 *    connection, at each concurrency. Target: noop ≥ 0.8× the C null milter.
 * 2. `spamd` / `rspamd`: the scanner driven directly by Spamward's own client against Spamward
 *    (milter) → the same scanner, over the same corpus messages. Targets: ≥ 0.97× raw spamd,
 *    ≥ 0.9× raw rspamd; ≤ 1 ms added median latency at concurrency 1. Then the other milters in
 *    front of the same scanner against Spamward: spamass-milter → spamd (bench/peer-spamass-milter.ts,
 *    target ≥ 1.1×) and rspamd's proxy worker as a self-scanning milter (bench/peer-rspamd-proxy.ts,
 *    target ≥ 1.0×), at each --peer-concurrency.
 * Runs of the two sides alternate, so drift in other work on the machine hits both alike.
 *
 * Options: --parts null,spamd,rspamd, --repeat 3, --count 2000 (messages per null run),
 * --concurrency 1,4,16, --modes 1,10, --scan-count 400 (messages per scanner run at
 * --scan-concurrency 4), --latency-count 100 (messages per concurrency-1 scanner run),
 * --peer-concurrency 4,16 (empty: no peer milters), --tsx (run src/ through tsx, not dist/).
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
import { packageVersion, standardMessages } from './load-mta.ts';
import { measure, type Pair, type PeerMilter, type Runner } from './peer-measure.ts';
import { childrenNamed, treeCpuMs } from './peer-proc.ts';
import { rspamdProxyPeer } from './peer-rspamd-proxy.ts';
import { spamassMilterAvailable, startSpamassMilter } from './peer-spamass-milter.ts';
import { addedLatency, table } from './peer-table.ts';
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
    'peer-concurrency': { type: 'string', default: '4,16' },
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
const peerLevels = values['peer-concurrency']
  .split(',')
  .filter((c) => c !== '')
  .map((c) => positive('peer-concurrency', c));
/** A milter run stops starting messages after this long (null part; scanner runs get 10 min). */
const RUN_CAP_MS = 60_000;
const SCAN_RUN_CAP_MS = 600_000;

function positive(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1)
    throw new RangeError(`--${name}: ${text} is not a positive integer`);
  return n;
}

function say(text: string): void {
  process.stderr.write(`${text}\n`);
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
            repeat,
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
    `- Per row ${repeat} runs of ${count} messages each side, alternating, after ${warmup} messages of warm-up per mode; corpus as in \`npm run bench\` (noop answers GTUBE as ham, so nothing is rejected). "server CPU" is the milter process's CPU time per message (the daemon's, for Spamward; the "milter CPU" and "marked spam" columns are for the scanner tables).`,
    '',
    table(pairs, 0.8),
    '',
  );
}

/** One scanner part: the scanner, how Spamward reaches it, and the peer milter in front of it. */
interface ScannerSetup {
  readonly kind: 'spamd' | 'rspamd';
  readonly url: string;
  readonly daemonEnv: Record<string, string>;
  readonly settings: Parameters<typeof createScanner>[1];
  /** CPU ms so far of the scanner's processes (without a peer milter's own). */
  readonly serverCpu: () => number;
  readonly target: number;
  /** The peer milter and its target, or why it cannot run here. */
  readonly peer: { readonly start: () => Promise<PeerMilter>; readonly target: number } | string;
}

async function scannerPart(out: string[], setup: ScannerSetup): Promise<void> {
  const { kind, url, daemonEnv, serverCpu } = setup;
  const messages = await scanMessages(scanCount);
  const scanner: Scanner = createScanner(url, setup.settings);
  const daemon = await daemonWith({ SPAMWARD_SCANNER_URLS: url, ...daemonEnv });
  const pairs: Pair[] = [];
  const peerPairs: Pair[] = [];
  let peer: PeerMilter | undefined;
  let latencyPair: Pair | undefined;
  try {
    const raw = (c: number, n: number): Runner => ({
      label: `raw ${kind}`,
      run: () => runScannerLoad(scanner, messages, c, n),
      cpu: serverCpu,
    });
    const milter = (label: string, port: number, check: Check, cpu: () => number) => {
      return (c: number, n: number): Runner => ({
        ...milterRunner(label, port, 0, check, messages, c, 1, n, SCAN_RUN_CAP_MS),
        cpu: serverCpu,
        milterCpu: cpu,
      });
    };
    const through = milter(`Spamward → ${kind}`, daemon.port, 'spamward', () => cpuMs(daemon.pid));
    // Warm-up: rule compilation, caches, the daemon's JIT.
    await raw(scanConcurrency, 40).run();
    await through(scanConcurrency, 40).run();
    pairs.push(
      await measure(
        `${messages.length} messages`,
        scanConcurrency,
        raw(scanConcurrency, scanCount),
        through(scanConcurrency, scanCount),
        repeat,
      ),
    );
    latencyPair = await measure(
      `${latencyCount} messages`,
      1,
      raw(1, latencyCount),
      through(1, latencyCount),
      repeat,
    );
    pairs.push(latencyPair);
    if (peerLevels.length > 0 && typeof setup.peer !== 'string') {
      peer = await setup.peer.start();
      const theirs = milter(peer.label, peer.port, peer.judge, peer.cpu);
      await theirs(scanConcurrency, 40).run();
      for (const c of peerLevels) {
        peerPairs.push(
          await measure(
            `${messages.length} messages`,
            c,
            theirs(c, scanCount),
            through(c, scanCount),
            repeat,
          ),
        );
      }
    }
  } finally {
    const problems = daemon.problems().filter((l) => !l.includes('running as root'));
    await daemon.stop();
    await scanner.close?.();
    if (problems.length > 0) say(`peers: daemon problems:\n${problems.join('\n')}`);
    if (peer !== undefined && peer.problems().length > 0)
      say(`peers: ${peer.label} said:\n${peer.problems().join('\n')}`);
    await peer?.stop();
  }
  const port = (u: string): string => u.replace(/:\d+$/, ':PORT');
  out.push(
    `#### ${kind}: raw client vs Spamward → ${kind}`,
    '',
    `- Raw: Spamward's own ${kind} client (\`createScanner('${port(url)}'${kind === 'spamd' ? ", { spamdVerb: 'CHECK' }" : ''})\`) called directly with the message as Spamward would pass it, N at a time.`,
    `- Through Spamward: the load generator (one message per connection) → \`SPAMWARD_SCANNER_URLS=${port(url)}${Object.entries(
      daemonEnv,
    )
      .map(([k, v]) => ` ${k}=${v}`)
      .join('')}\` → the same ${kind}.`,
    `- The first ${messages.length} corpus messages in the fixed shuffled order (no GTUBE), ${repeat} runs each side alternating; "server CPU" is ${kind}'s CPU per message (all its processes${kind === 'rspamd' && peer !== undefined ? ' but the proxy worker' : ''}), "milter CPU" the daemon's; "marked spam" the share of messages answered as spam (tagged or refused; in brackets those at reject: a 5xx from a milter, the scanner's reject action for the raw client).`,
    '',
    table(pairs, setup.target),
    '',
    `Added median latency at concurrency 1 (target ≤ 1 ms): ${latencyPair === undefined ? 'not measured' : addedLatency(latencyPair)}.`,
    '',
  );
  if (peerLevels.length === 0) return;
  const peerTitle = kind === 'spamd' ? 'spamass-milter' : 'rspamd proxy milter';
  out.push(`#### ${kind}: ${peerTitle} vs Spamward → ${kind}`, '');
  if (typeof setup.peer === 'string' || peer === undefined) {
    out.push(`Not measured: ${typeof setup.peer === 'string' ? setup.peer : 'not started'}.`, '');
    return;
  }
  out.push(
    ...peer.notes,
    `- Spamward: the same daemon and ${kind} as above, the same ${messages.length} messages, one per connection, ${repeat} runs each side alternating at each concurrency, after 40 messages of warm-up for the peer.`,
    '',
    table(peerPairs, setup.peer.target),
    '',
  );
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
      const missing = spamassMilterAvailable();
      await scannerPart(out, {
        kind: 'spamd',
        url: server.tcpUrl,
        daemonEnv: { SPAMWARD_SCANNER_SPAMD_VERB: 'CHECK' },
        settings: { spamdVerb: 'CHECK' },
        serverCpu: () => treeCpuMs(Number(readFileSync(pidFile, 'utf8').trim())),
        target: 0.97,
        peer: missing ?? { start: () => startSpamassMilter(server.tcpUrl), target: 1.1 },
      });
    } finally {
      await server.stop();
    }
  }
  if (parts.has('rspamd')) {
    const server = await startRspamd({ proxyMilter: peerLevels.length > 0 });
    try {
      const rspamd = childrenNamed('rspamd');
      const proxy =
        server.proxyMilterPort === undefined
          ? undefined
          : rspamdProxyPeer(rspamd[0] as number, server.proxyMilterPort);
      await scannerPart(out, {
        kind: 'rspamd',
        url: server.url,
        daemonEnv: {},
        settings: {},
        // The proxy worker is a milter: its CPU goes to the milter column, not the scanner's.
        serverCpu: () => rspamd.reduce((s, p) => s + treeCpuMs(p), 0) - (proxy?.cpu() ?? 0),
        target: 0.9,
        peer: proxy === undefined ? 'no proxy worker' : { start: async () => proxy, target: 1.0 },
      });
    } finally {
      await server.stop();
    }
  }
  const date = new Date().toISOString().slice(0, 10);
  const text = [
    `### ${date}: comparison with reference points (issue 6)`,
    '',
    `- Machine: ${host.cpu}, ${host.cores} cores, ${host.memoryGb} GB RAM, Linux ${host.kernel}, Node ${host.node}; load average ${host.load.toFixed(2)} at the start, ${(loadavg()[0] ?? 0).toFixed(2)} at the end (other work was running on the same 2 cores).`,
    `- Code: ${revision()}${staleDist ? ' (**dist/ older than src/**)' : ''}; Spamward ran ${values.tsx ? 'from src/ through tsx' : 'from the built dist/'}.`,
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
