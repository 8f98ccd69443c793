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
 *
 * This file reads the options and runs the rows; one row is bench/sessions-measure.ts, the
 * Markdown bench/sessions-report.ts.
 */
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { startRspamd } from '../test/support/rspamd-server.ts';
import { words } from './cli.ts';
import { distIsStale } from './daemon.ts';
import { standardMessages } from './load-mta.ts';
import { machine } from './proc.ts';
import type { SessionsOptions } from './sessions-daemon.ts';
import { measureSessions, type SessionsResult } from './sessions-measure.ts';
import { sessionsSection } from './sessions-report.ts';

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
      nodeFlags: words(values['node-flags']),
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
  process.stdout.write(
    `${sessionsSection({ sessions, host, loadStart, staleDist, began, results, diagnostics })}\n`,
  );
  const ok = results.every((r) => r.rounds.every((x) => x.errors === 0));
  return ok ? 0 : 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href)
  process.exitCode = await main();
