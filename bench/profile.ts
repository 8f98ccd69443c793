/**
 * `npm run bench:profile`: where the daemon's CPU goes per message. Starts the scanner (noop,
 * built-in, or a real spamd / rspamd from the test harness), the built daemon under `--cpu-prof`,
 * sends corpus messages one per connection, reads the daemon's user and system CPU from /proc
 * over the measured part, and prints the busiest functions (self and inclusive) as Markdown.
 *
 * Options: --scanner noop|builtin|spamd|rspamd (rspamd), --count N (1000), --warmup N (200),
 * --concurrency N (4), --top N (20), --tsx (run src/ instead of dist/).
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startRspamd } from '../test/support/rspamd-server.ts';
import { startSpamd } from '../test/support/spamd-server.ts';
import { positive } from './cli.ts';
import { type ProfileEntry, summariseProfile } from './cpu-profile.ts';
import { distIsStale, revision, startDaemon } from './daemon.ts';
import { packageVersion } from './load-mta.ts';
import { runCheckedLoad, scanMessages } from './peers-load.ts';
import { cpuTimes } from './proc.ts';

const { values } = parseArgs({
  options: {
    scanner: { type: 'string', default: 'rspamd' },
    count: { type: 'string', default: '1000' },
    warmup: { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '4' },
    top: { type: 'string', default: '20' },
    tsx: { type: 'boolean', default: false },
  },
});

/** A scanner for the daemon to use: its URL and extra settings, and how to stop it. */
interface Target {
  readonly url: string;
  readonly env: Record<string, string>;
  stop(): Promise<void>;
}

async function target(kind: string): Promise<Target> {
  switch (kind) {
    case 'noop':
      return { url: 'noop', env: {}, stop: async () => {} };
    case 'builtin':
      return { url: 'builtin', env: {}, stop: async () => {} };
    case 'spamd': {
      const server = await startSpamd();
      return {
        url: server.tcpUrl,
        env: { SPAMWARD_SCANNER_SPAMD_VERB: 'CHECK' },
        stop: () => server.stop(),
      };
    }
    case 'rspamd': {
      const server = await startRspamd();
      return { url: server.url, env: {}, stop: () => server.stop() };
    }
    default:
      throw new RangeError(`--scanner: ${kind} is not noop, builtin, spamd or rspamd`);
  }
}

function table(entries: readonly ProfileEntry[], perMessage: (ms: number) => string): string {
  return [
    '| function | ms | share of busy | µs/msg |',
    '|---|--:|--:|--:|',
    ...entries.map(
      (e) =>
        `| \`${e.where}\` | ${e.ms.toFixed(0)} | ${(e.share * 100).toFixed(1)} % | ${perMessage(e.ms)} |`,
    ),
  ].join('\n');
}

async function main(): Promise<void> {
  const count = positive('count', values.count);
  const warmup = Number(values.warmup); // 0: no warm-up
  const concurrency = positive('concurrency', values.concurrency);
  const top = positive('top', values.top);
  const load = loadavg()[0] ?? 0;
  const scanner = await target(values.scanner);
  const dir = mkdtempSync(join(tmpdir(), 'spamward-profile-'));
  Object.assign(process.env, { SPAMWARD_SCANNER_URLS: scanner.url, ...scanner.env });
  const daemon = await startDaemon({ tsx: values.tsx, cpuProfDir: dir });
  try {
    const messages = await scanMessages(400);
    const run = (n: number) =>
      runCheckedLoad({
        port: daemon.port,
        concurrency,
        messagesPerConnection: 1,
        count: n,
        messages,
        check: 'spamward',
        version: packageVersion(),
      });
    if (warmup > 0) await run(warmup);
    const before = cpuTimes(daemon.pid);
    const result = await run(count);
    const after = cpuTimes(daemon.pid);
    await daemon.stop();
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (file === undefined) throw new Error(`no CPU profile in ${dir}`);
    const summary = summariseProfile(join(dir, file), top);
    const n = result.ok + result.errors;
    const userUs = ((after.userMs - before.userMs) * 1000) / n;
    const systemUs = ((after.systemMs - before.systemMs) * 1000) / n;
    // The profile covers start-up and warm-up too: per-message figures divide by every message.
    const perMessage = (ms: number): string => ((ms * 1000) / (n + warmup)).toFixed(0);
    process.stdout.write(
      [
        `### ${new Date().toISOString().slice(0, 10)}: daemon CPU profile, scanner \`${values.scanner}\``,
        '',
        `- Code: ${revision()}${values.tsx ? ' (src/ through tsx)' : distIsStale() ? ' (**dist/ older than src/**)' : ' (dist/)'}; load average ${load.toFixed(2)} at the start.`,
        `- Command: \`node --import tsx bench/profile.ts ${process.argv.slice(2).join(' ')}\`.`,
        `- ${n} messages (one per connection) at concurrency ${concurrency} after ${warmup} of warm-up: ${Math.round(result.rate)} msg/s, p50 ${result.latency.p50.toFixed(2)} ms, ${result.errors} errors${result.errorSamples.length > 0 ? ` (${result.errorSamples[0]})` : ''}.`,
        `- Daemon CPU per message (/proc): user ${userUs.toFixed(0)} µs, system ${systemUs.toFixed(0)} µs.`,
        `- Profile (main thread, start-up included): busy ${summary.busyMs.toFixed(0)} ms, idle ${summary.idleMs.toFixed(0)} ms. Sample time is wall time: syscalls that wake the peer (socket writes, connects) look dearer than their CPU cost when the cores are shared.`,
        '',
        'Self time:',
        '',
        table(summary.self, perMessage),
        '',
        'Inclusive time:',
        '',
        table(summary.inclusive, perMessage),
        '',
      ].join('\n'),
    );
  } finally {
    await daemon.stop();
    await scanner.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `profile: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});
