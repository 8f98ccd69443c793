/**
 * `npm run bench:sessions`: the daemon's memory with 500 concurrent milter sessions under
 * scanning load (issue 6: RSS ≤ 120 MB). Prints a Markdown section for BENCHMARKS.md.
 *
 * For each scanner (`builtin`: the built-in engine, untrained, SQLite; `rspamd`: a private rspamd
 * from test/support/rspamd-server.ts; `noop`: no scan at all, the protocol-only lower bound) and
 * each variant of V8 heap flags (deployment knobs, not fixes), a fresh daemon gets `--sessions` connections at once from the
 * load MTA (bench/load-mta.ts); each negotiates and sends `--per-session` full corpus messages,
 * one after the other, to end-of-message, and must get a verdict. That is one round; `--rounds`
 * rounds follow each other on the same daemon. The daemon's RSS (VmRSS, RssAnon, RssFile) and
 * open sockets are read every 100 ms, VmHWM is reset before and read after, and `--trace-gc`
 * gives the V8 heap at the peak.
 *
 * So that every message waits for its scan instead of being refused, the scanner pool's queue is
 * raised to the number of sessions (`SPAMWARD_SCANNER_MAX_QUEUE`, `--max-queue`; the default 32
 * would answer most of them at once with the `unavailable` failure policy). Scans at once stay at
 * the default 8 per server (`--max-concurrent`).
 *
 * Options: --sessions N (500), --per-session N (4), --rounds N (3), --scanners builtin,rspamd,noop,
 * --variants LIST (`;`-separated sets of V8 heap flags, one daemon each, `default` for none;
 * default `default;--max-semi-space-size=4;--max-semi-space-size=4 --max-old-space-size=96`),
 * --max-queue N (default: --sessions), --max-concurrent N, --snapshot (per scanner, one more
 * daemon, one round, with a heap snapshot once 90 % of the sessions are open: live objects by
 * constructor; apart, since writing a snapshot costs the daemon tens of MB of RSS itself),
 * --keep-snapshot DIR (copy that snapshot there),
 * --node-flags=… (extra daemon flags, space separated), --tsx.
 */
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
} from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { Response } from '../src/milter/responses.ts';
import { startRspamd } from '../test/support/rspamd-server.ts';
import type { CorpusMessage } from './corpus.ts';
import { type BenchDaemon, distIsStale, revision, startDaemon } from './daemon.ts';
import {
  type ClassStats,
  largest,
  parseGcLine,
  readSnapshot,
  snapshotFlags,
  summarize,
  takeSnapshot,
  totalSize,
} from './heap-snapshot.ts';
import {
  type EomCheck,
  openSession,
  packageVersion,
  queueId,
  runLoad,
  runSteps,
  standardMessages,
} from './load-mta.ts';
import { ABORT_PACKET, QUIT_PACKET } from './postfix.ts';
import { cpuMs, machine, resetPeak } from './proc.ts';
import { latency } from './stats.ts';

/** What one scanner/setting measured. */
export interface SessionsResult {
  readonly scanner: string;
  /** The variant's Node flags, space separated (`default`: none). */
  readonly variant: string;
  readonly sessions: number;
  readonly perSession: number;
  readonly rounds: readonly RoundResult[];
  /** KiB. */
  readonly beforeKb: number;
  readonly beforeAnonKb: number;
  readonly beforeFileKb: number;
  readonly peakKb: number;
  readonly peakAnonKb: number;
  readonly peakFileKb: number;
  readonly hwmKb: number;
  readonly afterKb: number;
  /** Most sockets the daemon had open at once (the listener included). */
  readonly maxSockets: number;
  /** Highest V8 heap used before a GC, and the highest after a full GC, MB (`--trace-gc`). */
  readonly heapPeakMb: number;
  readonly heapFloorPeakMb: number;
  readonly heapCommittedPeakMb: number;
  readonly daemonCpuUsPerMsg: number;
  /** With `snapshot`: what a heap snapshot showed with the sessions open. */
  readonly snapshot?: SnapshotAtPeak;
  readonly problems: readonly string[];
  readonly command: string;
}

/** A heap snapshot taken with (nearly) every session open. */
export interface SnapshotAtPeak {
  /** Sockets open when it was taken. */
  readonly sockets: number;
  /** RSS and RssAnon just before (KiB). */
  readonly rssKb: number;
  readonly anonKb: number;
  readonly liveMb: number;
  readonly top: [string, ClassStats][];
}

/** One round: every session sends its messages. */
export interface RoundResult {
  readonly messages: number;
  /** Sessions open at once (negotiated, past HELO) before the messages started. */
  readonly opened: number;
  readonly openMs: number;
  readonly rate: number;
  readonly elapsedMs: number;
  readonly scanned: number;
  readonly rejected: number;
  readonly unavailable: number;
  readonly errors: number;
  readonly errorSamples: readonly string[];
  readonly peakKb: number;
  readonly p50: number;
  readonly p99: number;
}

/** How one daemon is set up. */
export interface SessionsOptions {
  readonly scanner: 'builtin' | 'rspamd' | 'noop';
  /** Its URL (rspamd), else the name. */
  readonly url: string;
  readonly variant: string;
  readonly sessions: number;
  readonly perSession: number;
  readonly rounds: number;
  readonly maxQueue: number;
  readonly maxConcurrent?: number;
  readonly snapshot: boolean;
  /** Copy the snapshot file into this directory. */
  readonly keepSnapshot?: string;
  readonly nodeFlags: readonly string[];
  readonly tsx: boolean;
  readonly messages: readonly CorpusMessage[];
}

interface Reading {
  readonly rssKb: number;
  readonly anonKb: number;
  readonly fileKb: number;
}

function readMemory(pid: number): Reading | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const field = (name: string): number =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return { rssKb: field('VmRSS'), anonKb: field('RssAnon'), fileKb: field('RssFile') };
}

function hwmKb(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

function socketCount(pid: number): number {
  let n = 0;
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) n++;
      } catch {
        // Closed meanwhile.
      }
    }
  } catch {
    return 0;
  }
  return n;
}

function text(value: string | Uint8Array): string {
  return typeof value === 'string' ? value : Buffer.from(value).toString('latin1');
}

/** What one round of the session driver measured. */
interface RoundLoad {
  readonly ok: number;
  readonly errors: number;
  readonly errorSamples: readonly string[];
  /** Sessions that got past HELO. */
  readonly opened: number;
  /** From the first connect until every session is open. */
  readonly openMs: number;
  /** From then until the last message is answered. */
  readonly elapsedMs: number;
  readonly samples: readonly number[];
}

/**
 * One round: opens `sessions` connections (each negotiated, CONNECT and HELO answered) and only
 * when all are open lets each send `perSession` messages in turn (ABORT after each, QUIT at the
 * end), so the daemon holds every session, and at first every message, at once.
 */
async function sessionsRound(
  port: number,
  sessions: number,
  perSession: number,
  messages: readonly CorpusMessage[],
  first: number,
  check: EomCheck,
  timeoutMs: number,
): Promise<RoundLoad> {
  const samples: number[] = [];
  const errorSamples = new Set<string>();
  let errors = 0;
  const fail = (error: unknown, lost = 1): void => {
    errors += lost;
    if (errorSamples.size < 5)
      errorSamples.add(error instanceof Error ? error.message : String(error));
  };
  const began = performance.now();
  const opened = await Promise.allSettled(
    Array.from({ length: sessions }, () => openSession(port, '127.0.0.1', timeoutMs)),
  );
  const open = opened.flatMap((r) => {
    if (r.status === 'fulfilled') return [r.value];
    fail(r.reason, perSession);
    return [];
  });
  const started = performance.now();
  let next = first;
  await Promise.all(
    open.map(async ({ conn, peer, env }) => {
      let k = 0;
      try {
        for (; k < perSession; k++) {
          const message = messages[next++ % messages.length] as CorpusMessage;
          const from = performance.now();
          const replies = await runSteps(
            conn,
            peer.messageSteps(message, { ...env, queueId: queueId() }),
          );
          const bad = check(replies, message);
          if (bad === null || bad === 'reject') samples.push(performance.now() - from);
          else fail(`${message.name}: ${bad}`);
          conn.write([ABORT_PACKET]);
        }
        await conn.finish(QUIT_PACKET, timeoutMs);
      } catch (error) {
        conn.destroy();
        fail(error, perSession - k);
      }
    }),
  );
  return {
    ok: samples.length,
    errors,
    errorSamples: [...errorSamples],
    opened: open.length,
    openMs: started - began,
    elapsedMs: performance.now() - started,
    samples,
  };
}

/** Runs the daemon set up by `o` through its rounds. */
export async function measureSessions(o: SessionsOptions): Promise<SessionsResult> {
  const version = packageVersion();
  const snapDir = mkdtempSync(join(tmpdir(), 'spamward-sessions-'));
  let heapPeakMb = 0;
  let heapFloorPeakMb = 0;
  let heapCommittedPeakMb = 0;
  const env: Record<string, string> = {
    SPAMWARD_SCANNER_MAX_QUEUE: String(o.maxQueue),
    ...(o.scanner === 'builtin' ? {} : { SPAMWARD_SCANNER_URLS: o.url }),
    ...(o.maxConcurrent === undefined
      ? {}
      : { SPAMWARD_SCANNER_MAX_CONCURRENT: String(o.maxConcurrent) }),
  };
  const daemon = await daemonWith(env, {
    tsx: o.tsx,
    logLevel: 'warn',
    nodeFlags: [
      '--trace-gc',
      ...(o.variant === 'default' ? [] : o.variant.split(/\s+/).filter((f) => f !== '')),
      ...(o.snapshot ? snapshotFlags(snapDir) : []),
      ...o.nodeFlags,
    ],
    onStdoutLine: (line) => {
      const gc = parseGcLine(line);
      if (gc === undefined) return;
      heapPeakMb = Math.max(heapPeakMb, gc.beforeMb);
      heapCommittedPeakMb = Math.max(heapCommittedPeakMb, gc.committedMb);
      if (gc.major && gc.reason !== 'heap profiler')
        heapFloorPeakMb = Math.max(heapFloorPeakMb, gc.afterMb);
    },
  });
  const command = `${Object.entries(env)
    .map(([k, v]) => `${k}=${v.replace(/:\d+$/, ':PORT')}`)
    .join(' ')} ${daemon.command.replace(snapDir, '<tmp>').replace(/inet:\d+@/, 'inet:PORT@')}`;
  const counts = { scanned: 0, rejected: 0, unavailable: 0 };
  // A verdict is the scanner's stamp then CONTINUE, or a 5xx; `unavailable` (the failure policy's
  // stamp) is counted apart; anything else is an error.
  const check: EomCheck = (replies: readonly Response[]) => {
    const last = replies.at(-1);
    if (replies.length === 1 && last?.kind === 'replycode' && text(last.text).startsWith('5')) {
      counts.rejected++;
      return 'reject';
    }
    const headers = replies.flatMap((r) =>
      r.kind === 'addheader' ? [[text(r.name), text(r.value).trim()] as const] : [],
    );
    if (last?.kind !== 'continue')
      return `no final continue: ${replies.map((r) => r.kind).join(', ')}`;
    if (headers.some(([n, v]) => n === 'X-Spam-Checker' && v.startsWith('unavailable'))) {
      counts.unavailable++;
      return null;
    }
    if (
      headers.filter(
        ([n, v]) => n === 'X-Spam-Checker-Version' && v.startsWith(`Spamward ${version} `),
      ).length === 1
    ) {
      counts.scanned++;
      return null;
    }
    return `no verdict stamp: ${headers.map(([n, v]) => `${n}: ${v.slice(0, 60)}`).join('; ')}`;
  };
  let peak: Reading = { rssKb: 0, anonKb: 0, fileKb: 0 };
  let roundPeakKb = 0;
  let maxSockets = 0;
  let snapshot: SessionsResult['snapshot'];
  let snapshotWanted = o.snapshot;
  let snapshotTaking: Promise<void> | undefined;
  const rounds: RoundResult[] = [];
  let problems: readonly string[] = [];
  let before: Reading = { rssKb: 0, anonKb: 0, fileKb: 0 };
  let afterKb = 0;
  let hwm = 0;
  let cpuPerMsg = 0;
  try {
    await sleep(1000);
    before = readMemory(daemon.pid) ?? before;
    // A short warm-up so the JIT, the store and the scanner connections exist before the peak.
    await runLoad({
      port: daemon.port,
      concurrency: 4,
      messagesPerConnection: 1,
      count: 40,
      messages: o.messages,
      version,
      timeoutMs: 120_000,
      check,
    });
    counts.scanned = 0;
    counts.rejected = 0;
    counts.unavailable = 0;
    await sleep(500);
    resetPeak(daemon.pid);
    const sampler = setInterval(() => {
      const m = readMemory(daemon.pid);
      if (m === undefined) return;
      if (m.rssKb > peak.rssKb) peak = m;
      roundPeakKb = Math.max(roundPeakKb, m.rssKb);
      const sockets = socketCount(daemon.pid);
      maxSockets = Math.max(maxSockets, sockets);
      if (snapshotWanted && sockets >= o.sessions * 0.9) {
        snapshotWanted = false;
        snapshotTaking = (async () => {
          await sleep(500);
          const at = readMemory(daemon.pid) ?? { rssKb: 0, anonKb: 0 };
          const open = socketCount(daemon.pid);
          const file = await takeSnapshot(daemon.pid, snapDir);
          if (o.keepSnapshot !== undefined) {
            mkdirSync(o.keepSnapshot, { recursive: true });
            copyFileSync(file, join(o.keepSnapshot, `${o.scanner}-${basename(file)}`));
          }
          const summary = summarize(readSnapshot(file));
          snapshot = {
            sockets: open,
            rssKb: at.rssKb,
            anonKb: at.anonKb,
            liveMb: totalSize(summary) / 2 ** 20,
            top: largest(summary, 12),
          };
        })();
      }
    }, 100);
    const cpuBefore = cpuMs(daemon.pid);
    let total = 0;
    try {
      for (let r = 0; r < o.rounds; r++) {
        roundPeakKb = 0;
        const before = { ...counts };
        const result = await sessionsRound(
          daemon.port,
          o.sessions,
          o.perSession,
          o.messages,
          r * o.sessions * o.perSession,
          check,
          120_000,
        );
        total += result.ok + result.errors;
        const lat = latency(result.samples);
        rounds.push({
          messages: result.ok + result.errors,
          opened: result.opened,
          openMs: result.openMs,
          rate: (result.ok * 1000) / result.elapsedMs,
          elapsedMs: result.elapsedMs,
          scanned: counts.scanned - before.scanned,
          rejected: counts.rejected - before.rejected,
          unavailable: counts.unavailable - before.unavailable,
          errors: result.errors,
          errorSamples: result.errorSamples,
          peakKb: roundPeakKb,
          p50: lat.p50,
          p99: lat.p99,
        });
        process.stderr.write(
          `sessions: ${o.scanner} [${o.variant}] round ${r + 1}: ${result.opened} open, ${Math.round((result.ok * 1000) / result.elapsedMs)} msg/s, peak ${(roundPeakKb / 1024).toFixed(1)} MB, ${result.errors} errors\n`,
        );
      }
    } finally {
      clearInterval(sampler);
      await snapshotTaking;
    }
    cpuPerMsg = ((cpuMs(daemon.pid) - cpuBefore) * 1000) / Math.max(1, total);
    hwm = hwmKb(daemon.pid);
    await sleep(1000);
    afterKb = readMemory(daemon.pid)?.rssKb ?? 0;
  } finally {
    problems = daemon.problems().filter((l) => !l.includes('running as root'));
    await daemon.stop();
    rmSync(snapDir, { recursive: true, force: true });
  }
  return {
    scanner: o.scanner,
    variant: o.variant,
    sessions: o.sessions,
    perSession: o.perSession,
    rounds,
    beforeKb: before.rssKb,
    beforeAnonKb: before.anonKb,
    beforeFileKb: before.fileKb,
    peakKb: peak.rssKb,
    peakAnonKb: peak.anonKb,
    peakFileKb: peak.fileKb,
    hwmKb: hwm,
    afterKb,
    maxSockets,
    heapPeakMb,
    heapFloorPeakMb,
    heapCommittedPeakMb,
    daemonCpuUsPerMsg: cpuPerMsg,
    ...(snapshot === undefined ? {} : { snapshot }),
    problems,
    command,
  };
}

/** Starts the daemon with extra SPAMWARD_* settings (put into the environment it inherits). */
async function daemonWith(
  env: Record<string, string>,
  options: Parameters<typeof startDaemon>[0],
): Promise<BenchDaemon> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return await startDaemon(options);
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

const mb = (kb: number): string => (kb / 1024).toFixed(1);

/** The results as a Markdown table (one row per scanner and setting) and notes. */
export function sessionsTable(results: readonly SessionsResult[], limitMb = 120): string {
  const out = [
    '| scanner | V8 flags | sessions × msgs × rounds | msg/s (per round) | verdicts: scanned / rejected / unavailable / errors | RSS before MB (anon / file) | peak RSS MB (VmHWM) | peak RssAnon / RssFile MB | RSS after MB | V8 heap peak / post-GC max / committed MB | daemon CPU µs/msg | ≤ 120 MB |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|',
  ];
  for (const r of results) {
    const sum = (k: 'scanned' | 'rejected' | 'unavailable' | 'errors'): number =>
      r.rounds.reduce((n, x) => n + x[k], 0);
    const peakMb = Math.max(r.peakKb, r.hwmKb) / 1024;
    out.push(
      `| ${r.scanner} | ${r.variant === 'default' ? 'none' : `\`${r.variant}\``} | ${r.sessions} × ${r.perSession} × ${r.rounds.length} | ${r.rounds.map((x) => Math.round(x.rate)).join(', ')} | ${sum('scanned')} / ${sum('rejected')} / ${sum('unavailable')} / ${sum('errors')} | ${mb(r.beforeKb)} (${mb(r.beforeAnonKb)} / ${mb(r.beforeFileKb)}) | ${mb(r.peakKb)} (${mb(r.hwmKb)}) | ${mb(r.peakAnonKb)} / ${mb(r.peakFileKb)} | ${mb(r.afterKb)} | ${r.heapPeakMb.toFixed(1)} / ${r.heapFloorPeakMb.toFixed(1)} / ${r.heapCommittedPeakMb.toFixed(1)} | ${Math.round(r.daemonCpuUsPerMsg)} | ${peakMb <= limitMb ? 'met' : '**missed**'} |`,
    );
  }
  return out.join('\n');
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      sessions: { type: 'string', default: '500' },
      'per-session': { type: 'string', default: '4' },
      rounds: { type: 'string', default: '3' },
      scanners: { type: 'string', default: 'builtin,rspamd,noop' },
      variants: {
        type: 'string',
        default: 'default;--max-semi-space-size=4;--max-semi-space-size=4 --max-old-space-size=96',
      },
      'max-queue': { type: 'string' },
      'max-concurrent': { type: 'string' },
      snapshot: { type: 'boolean', default: false },
      'keep-snapshot': { type: 'string' },
      'node-flags': { type: 'string', default: '' },
      tsx: { type: 'boolean', default: false },
    },
  });
  const sessions = Number(values.sessions);
  const host = machine();
  const loadStart = loadavg();
  const staleDist = values.tsx ? false : distIsStale();
  if (staleDist) process.stderr.write('sessions: WARNING dist/ is older than src/\n');
  const messages = await standardMessages();
  const results: SessionsResult[] = [];
  const diagnostics: SessionsResult[] = [];
  const scanners = values.scanners.split(',') as SessionsOptions['scanner'][];
  const began = performance.now();
  for (const scanner of scanners) {
    if (!['builtin', 'rspamd', 'noop'].includes(scanner))
      throw new RangeError(`--scanners: ${scanner} is not builtin, rspamd or noop`);
    const rspamd = scanner === 'rspamd' ? await startRspamd() : undefined;
    const setup = (variant: string, snapshot: boolean): SessionsOptions => ({
      scanner,
      url: rspamd?.url ?? scanner,
      variant: variant.trim() === '' ? 'default' : variant.trim(),
      sessions,
      perSession: Number(values['per-session']),
      rounds: snapshot ? 1 : Number(values.rounds),
      maxQueue: Number(values['max-queue'] ?? sessions),
      ...(values['max-concurrent'] === undefined
        ? {}
        : { maxConcurrent: Number(values['max-concurrent']) }),
      snapshot,
      ...(values['keep-snapshot'] === undefined ? {} : { keepSnapshot: values['keep-snapshot'] }),
      nodeFlags: values['node-flags'].split(/\s+/).filter((f) => f !== ''),
      tsx: values.tsx,
      messages,
    });
    try {
      for (const variant of values.variants.split(';'))
        results.push(await measureSessions(setup(variant, false)));
      // Apart: writing a snapshot costs the daemon tens of MB of RSS itself.
      if (values.snapshot) diagnostics.push(await measureSessions(setup('default', true)));
    } finally {
      await rspamd?.stop();
    }
  }
  const lines = [
    `### ${new Date().toISOString().slice(0, 10)}: ${sessions} concurrent sessions under scanning load`,
    '',
    `- Machine: ${host.cpu}, ${host.cores} cores, ${host.memoryGb} GB RAM, Node ${process.version}; load average ${loadStart.map((l) => l.toFixed(2)).join(' / ')} (1/5/15 min) at the start, ${loadavg()
      .map((l) => l.toFixed(2))
      .join(
        ' / ',
      )} at the end. Code: ${revision()}${staleDist ? ' (**dist/ older than src/**)' : ''}.`,
    `- Daemons (a fresh one per row; a variant's flags go before the entry point): ${[
      ...new Set(results.filter((r) => r.variant === 'default').map((r) => `\`${r.command}\``)),
    ].join('; ')}.`,
    `- Whole run: ${((performance.now() - began) / 1000).toFixed(0)} s.`,
    '',
    sessionsTable(results),
    '',
  ];
  for (const r of results) {
    const bad = r.rounds.flatMap((x) => x.errorSamples);
    lines.push(
      `- ${r.scanner}, ${r.variant === 'default' ? 'no V8 flags' : r.variant}: sessions open before the messages started ${r.rounds.map((x) => `${x.opened} (in ${(x.openMs / 1000).toFixed(1)} s)`).join(', ')}; at most ${r.maxSockets} daemon sockets at once; rounds p50 / p99 latency ${r.rounds.map((x) => `${x.p50.toFixed(0)} / ${x.p99.toFixed(0)} ms`).join(', ')}; per-round peak RSS ${r.rounds.map((x) => mb(x.peakKb)).join(', ')} MB.${bad.length > 0 ? ` Errors: ${bad.slice(0, 3).join('; ')}.` : ''}${r.problems.length > 0 ? ` Daemon said: \`${r.problems[0]?.slice(0, 200)}\`.` : ''}`,
    );
  }
  for (const r of diagnostics) {
    const snap = r.snapshot;
    lines.push(
      snap === undefined
        ? `- ${r.scanner}: no heap snapshot (never ${Math.round(sessions * 0.9)} sockets open at once; at most ${r.maxSockets}).`
        : `- ${r.scanner}, heap snapshot (a separate run, 1 round) with ${snap.sockets} sockets open, RSS ${mb(snap.rssKb)} MB (RssAnon ${mb(snap.anonKb)}) just before: ${snap.liveMb.toFixed(1)} MB live (V8 heap objects and the native sizes V8 knows); largest: ${snap.top
            .map(([cls, s]) => `\`${cls}\` ${(s.size / 2 ** 20).toFixed(1)} MB (${s.count})`)
            .join(', ')}.`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  const ok = results.every((r) => r.rounds.every((x) => x.errors === 0));
  return ok ? 0 : 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href)
  process.exitCode = await main();
