/**
 * Load runs for the comparison benchmark (bench/peers.ts). The milter side is bench/load-mta.ts's
 * loop with a chosen end-of-message check instead of the built-in engine's exact verdict:
 * `none` (a filter that changes nothing: CONTINUE or ACCEPT and no modification, as the C null
 * milter answers), `spamward` (Spamward with any scanner: exactly one `X-Spam-Checker-Version:
 * Spamward <version> …` stamp then CONTINUE, or a 5xx REPLYCODE counted as a reject), or another
 * milter's own judge (bench/peer-*.ts). Each run also counts the messages the milter marked as spam.
 * The scanner side drives a Spamward scanner client directly (raw spamd or rspamd) with the same
 * messages.
 *
 * Run alone: node --import tsx bench/peers-load.ts --port P --check none|spamward
 *   [--concurrency 4] [--count 2000] [--per-connection 1]
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { Response } from '../src/milter/responses.ts';
import type { Scanner, ScanRequest } from '../src/scanners/scanner.ts';
import { type CorpusMessage, loadCorpus } from './corpus.ts';
import {
  type LoadResult,
  loadResult,
  packageVersion,
  queueId,
  runLoad,
  standardMessages,
} from './load-mta.ts';
import { shuffled } from './stats.ts';
import { describe, text } from './verdict.ts';

/** Which end-of-message answers count as right: built in, or a peer milter's own judge. */
export type Check = 'none' | 'spamward' | EomJudge;

/** How to judge another milter's end-of-message answers. */
export interface EomJudge {
  /** Null when right, 'reject' when right and a refusal, else why not. */
  check(replies: readonly Response[]): string | 'reject' | null;
  /** Whether a right answer marks the message as spam (tagged or refused). */
  spam(replies: readonly Response[]): boolean;
}

/** A load run plus how many of its right answers marked the message as spam. */
export interface CheckedLoadResult extends LoadResult {
  readonly spam: number;
}

/** One milter load run with a chosen check. */
export interface CheckedLoadOptions {
  readonly port: number;
  readonly concurrency: number;
  readonly messagesPerConnection: number;
  readonly count: number;
  /** Stop starting messages after this long. */
  readonly durationMs?: number;
  readonly messages: readonly CorpusMessage[];
  readonly check: Check;
  /** The Spamward version the stamp must name (check `spamward`). */
  readonly version: string;
  readonly timeoutMs?: number;
}

const MODIFICATIONS = new Set([
  'addheader',
  'insheader',
  'chgheader',
  'replbody',
  'addrcpt',
  'addrcpt_par',
  'delrcpt',
  'chgfrom',
  'quarantine',
]);

/** Null when the end-of-message replies pass `check`; 'reject' for a 5xx; else why not. */
export function checkEom(
  replies: readonly Response[],
  check: Check,
  version: string,
): string | 'reject' | null {
  if (typeof check === 'object') return check.check(replies);
  const last = replies.at(-1);
  if (check === 'none') {
    const changed = replies.some((r) => MODIFICATIONS.has(r.kind));
    if (!changed && (last?.kind === 'continue' || last?.kind === 'accept')) return null;
    return `expected no modification, then continue or accept: ${describe(replies)}`;
  }
  if (replies.length === 1 && last?.kind === 'replycode' && text(last.text).startsWith('5'))
    return 'reject';
  const stamps = replies.filter(
    (r) =>
      r.kind === 'addheader' &&
      text(r.name) === 'X-Spam-Checker-Version' &&
      text(r.value).trim().startsWith(`Spamward ${version} `),
  );
  if (last?.kind === 'continue' && stamps.length === 1) return null;
  return `expected one Spamward ${version} stamp, then continue: ${describe(replies)}`;
}

/** Whether right end-of-message replies mark the message as spam (the null milter never does). */
export function isSpam(replies: readonly Response[], check: Check): boolean {
  if (typeof check === 'object') return check.spam(replies);
  if (check === 'none') return false;
  return replies.some(
    (r) =>
      (r.kind === 'replycode' && text(r.text).startsWith('5')) ||
      (r.kind === 'addheader' &&
        text(r.name) === 'X-Spam-Flag' &&
        text(r.value).trim().toUpperCase() === 'YES'),
  );
}

/** Runs one milter load run with load-mta.ts's loop and `check` at end-of-message. */
export async function runCheckedLoad(options: CheckedLoadOptions): Promise<CheckedLoadResult> {
  let spam = 0;
  const result = await runLoad({
    ...options,
    timeoutMs: options.timeoutMs ?? 30_000,
    check: (replies) => {
      const bad = checkEom(replies, options.check, options.version);
      if ((bad === null || bad === 'reject') && isSpam(replies, options.check)) spam++;
      return bad;
    },
  });
  return { ...result, spam };
}

/** Scans `count` messages (round-robin) with `scanner`, `concurrency` at a time, timing each. */
export async function runScannerLoad(
  scanner: Scanner,
  messages: readonly CorpusMessage[],
  concurrency: number,
  count: number,
): Promise<CheckedLoadResult> {
  const samples: number[] = [];
  const errorSamples = new Set<string>();
  let errors = 0;
  let rejected = 0;
  let spam = 0;
  let claimed = 0;
  const signal = new AbortController().signal;
  const requests = messages.map(scanRequest);
  const started = performance.now();
  const cpuStart = process.cpuUsage();
  const worker = async (): Promise<void> => {
    while (claimed < count) {
      const i = claimed++;
      const from = performance.now();
      try {
        const verdict = await scanner.scan(requests[i % requests.length] as ScanRequest, signal);
        samples.push(performance.now() - from);
        if (verdict.action === 'reject') rejected++;
        if (verdict.isSpam) spam++;
      } catch (error) {
        errors++;
        if (errorSamples.size < 5)
          errorSamples.add(error instanceof Error ? error.message : String(error));
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsedMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuStart);
  return { ...loadResult(samples, errors, errorSamples, rejected, 0, elapsedMs, cpu), spam };
}

/**
 * The message as Spamward hands it to a scanner: header fields as received (folds with CRLF),
 * a blank line, the body; the envelope the load generator's Postfix side announces.
 */
export function scanRequest(message: CorpusMessage): ScanRequest {
  const head = message.headers.map(([name, value]) =>
    Buffer.concat([
      name,
      Buffer.from(':'),
      Buffer.from(value.toString('latin1').replace(/\n/g, '\r\n'), 'latin1'),
      CRLF,
    ]),
  );
  return {
    message: Buffer.concat([...head, CRLF, message.body]),
    envelope: {
      clientAddress: '192.0.2.7',
      // The verified name the load MTA announces (CONNECT, {client_name}): without it rspamd
      // scores an unknown host name and the raw side would judge other messages than the milters.
      clientName: 'client.example.org',
      helo: 'client.example.org',
      sender: 'sender@example.org',
      recipients: ['rcpt@example.net'],
      queueId: queueId(),
      mtaName: 'mx.example.net',
    },
  };
}

/** The first `n` corpus messages in the fixed shuffled order, without GTUBE, each under `maxBytes`. */
export async function scanMessages(n: number, maxBytes = 512 * 1024): Promise<CorpusMessage[]> {
  const fits = (m: CorpusMessage): boolean =>
    m.body.length + m.headers.reduce((s, [a, b]) => s + a.length + b.length + 3, 0) < maxBytes;
  return shuffled(await loadCorpus(), 6)
    .filter(fits)
    .slice(0, n);
}

const CRLF = Buffer.from('\r\n');

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      check: { type: 'string', default: 'spamward' },
      concurrency: { type: 'string', default: '4' },
      count: { type: 'string', default: '2000' },
      'per-connection': { type: 'string', default: '1' },
    },
  });
  if (values.port === undefined) throw new Error('--port is required');
  if (values.check !== 'none' && values.check !== 'spamward')
    throw new Error('--check must be none or spamward');
  const run = await runCheckedLoad({
    port: Number(values.port),
    concurrency: Number(values.concurrency),
    messagesPerConnection: Number(values['per-connection']),
    count: Number(values.count),
    messages: await standardMessages(),
    check: values.check,
    version: packageVersion(),
  });
  process.stdout.write(`${JSON.stringify(run, null, 2)}\n`);
  process.exitCode = run.errors > 0 ? 1 : 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`peers-load: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
