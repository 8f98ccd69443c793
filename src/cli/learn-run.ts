/**
 * The learning loop of `spamward learn`: reads each job's file (one message or an mbox), skips
 * messages the ledger knows, teaches the rest with a few learn calls in flight, and moves a file
 * into its --move-to folder once all its messages are learned or known. A scanner that is down,
 * cannot learn, or whose store is broken stops the run: nothing more is taken on, files already
 * learned are still moved, nothing unlearned is. A message the scanner refuses is reported and
 * the run goes on.
 */

import { fromFsError, MailboxErrorCode } from '../mailbox/errors.ts';
import type { Ledger } from '../mailbox/ledger.ts';
import { fingerprint } from '../mailbox/ledger.ts';
import { moveToFolder } from '../mailbox/maildir.ts';
import { type FileMessage, looksLikeMessage, readMessages } from '../mailbox/read.ts';
import { normalizeRawMessage } from '../message/normalize.ts';
import { ScanAbortedError, ScannerError } from '../scanners/errors.ts';
import type { Envelope, LearnKind, Scanner } from '../scanners/scanner.ts';
import { startDeadline } from '../shared/deadline.ts';
import { LearnExit, type LearnTally, mailboxExit } from './learn-summary.ts';

/** Learn calls in flight at once. */
export const LEARN_CONCURRENCY = 4;

/** One file to learn from. */
export interface LearnJob {
  readonly path: string;
  /** The folder (or command-line path) it is counted under. */
  readonly folder: string;
  readonly kind: LearnKind;
  /** Where to move the file once learned: `folder` of the Maildir `root`. */
  readonly moveTo?: { readonly root: string; readonly folder: string };
}

/** Progress, reported after each message and file. */
export interface LearnProgress {
  readonly filesDone: number;
  readonly filesTotal: number;
  readonly learned: number;
  readonly skipped: number;
  readonly failed: number;
  readonly moved: number;
}

/** How to run. */
export interface LearnRunOptions {
  readonly scanner: Scanner;
  /** The scanner as the ledger knows it (URL without credentials). */
  readonly scannerId: string;
  readonly ledger?: Ledger | undefined;
  readonly concurrency?: number;
  /** Per learn call. */
  readonly timeoutMs: number;
  /** Aborting stops the run (Ctrl-C): in-flight calls are cancelled, nothing more is started. */
  readonly signal?: AbortSignal;
  readonly envelope?: Envelope;
  readonly onProgress?: (progress: LearnProgress) => void;
}

/** What a failed learn call means for the run. */
export interface LearnFailure {
  readonly code: string;
  readonly message: string;
  readonly exit: LearnExit;
  /** True when the run must stop (the next message would fail the same way). */
  readonly fatal: boolean;
}

const UNAVAILABLE = new Set([
  'SCANNER_CONNECT_TIMEOUT',
  'SCANNER_CONNECTION_FAILED',
  'SCANNER_SCAN_TIMEOUT',
  'SCANNER_ALL_DOWN',
  'SCANNER_OVERLOADED',
]);

/** Classifies a learn call's failure (`timedOut`: our own per-call deadline fired). */
export function classifyLearnError(error: unknown, timedOut: boolean): LearnFailure {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof ScanAbortedError || (timedOut && !(error instanceof ScannerError)))
    return { code: 'LEARN_TIMEOUT', message, exit: LearnExit.TempFail, fatal: true };
  if (!(error instanceof ScannerError))
    return { code: 'INTERNAL_ERROR', message, exit: LearnExit.Software, fatal: false };
  if (error.code === 'SCANNER_LEARN_UNSUPPORTED')
    return { code: error.code, message, exit: LearnExit.Config, fatal: true };
  if (error.code === 'SCANNER_STORE_FAILED')
    return { code: error.code, message, exit: LearnExit.IoErr, fatal: true };
  if (error.retryable || UNAVAILABLE.has(error.code))
    return { code: error.code, message, exit: LearnExit.TempFail, fatal: true };
  return { code: error.code, message, exit: LearnExit.DataErr, fatal: false };
}

interface FileState {
  readonly job: LearnJob;
  pending: number;
  readDone: boolean;
  ok: boolean;
}

/** Runs the jobs, recording outcomes in `tally`. */
export async function runLearn(
  jobs: readonly LearnJob[],
  tally: LearnTally,
  options: LearnRunOptions,
): Promise<void> {
  const interrupt = options.signal ?? new AbortController().signal;
  const stopped = () => tally.stopped || interrupt.aborted;
  let filesDone = 0;
  const settling = new Set<Promise<void>>();
  const progress = () =>
    options.onProgress?.({ filesDone, filesTotal: jobs.length, ...tally.totals() });

  const settle = async (state: FileState): Promise<void> => {
    const { job } = state;
    if (state.ok && job.moveTo !== undefined) {
      try {
        await moveToFolder(job.path, job.moveTo.root, job.moveTo.folder);
        tally.moved(job.folder, job.kind);
      } catch (error) {
        const e = fromFsError(job.path, error);
        tally.error(job.path, e.code, e.message, mailboxExit(e.code));
      }
    }
    filesDone++;
    progress();
  };
  const maybeSettle = (state: FileState) => {
    if (!state.readDone || state.pending > 0) return;
    const p = settle(state).finally(() => settling.delete(p));
    settling.add(p);
  };

  async function* produce(): AsyncGenerator<{ state: FileState; message: FileMessage }> {
    for (const job of jobs) {
      if (stopped()) return;
      const state: FileState = { job, pending: 0, readDone: false, ok: true };
      try {
        for await (const message of readMessages(job.path)) {
          state.pending++;
          yield { state, message };
          if (stopped()) return;
        }
      } catch (error) {
        const e = fromFsError(job.path, error);
        state.ok = false;
        tally.count(job.folder, job.kind, 'failed');
        tally.error(job.path, e.code, e.message, mailboxExit(e.code));
      }
      state.readDone = true;
      maybeSettle(state);
    }
  }

  const learnOne = async ({ state, message }: { state: FileState; message: FileMessage }) => {
    const { job } = state;
    const ok = await learnMessage(job, message, tally, options, interrupt);
    if (!ok) state.ok = false;
    state.pending--;
    progress();
    maybeSettle(state);
  };

  const source = produce();
  const worker = async () => {
    while (!stopped()) {
      const next = await source.next();
      if (next.done === true) return;
      await learnOne(next.value);
    }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency ?? LEARN_CONCURRENCY }, worker));
  } finally {
    await source.return(undefined);
    while (settling.size > 0) await Promise.all(settling);
  }
  if (interrupt.aborted && !tally.stopped)
    tally.stop('INTERRUPTED', 'interrupted; run again to finish', LearnExit.TempFail);
}

/** Learns one message; true when it is now known to the scanner (learned or already known). */
async function learnMessage(
  job: LearnJob,
  message: FileMessage,
  tally: LearnTally,
  options: LearnRunOptions,
  interrupt: AbortSignal,
): Promise<boolean> {
  const bytes = normalizeRawMessage(message.bytes);
  if (!looksLikeMessage(bytes)) {
    const error = `${message.source}: not an e-mail message (no header on the first line)`;
    tally.count(job.folder, job.kind, 'failed');
    tally.error(message.source, MailboxErrorCode.NotAMessage, error, LearnExit.DataErr);
    return false;
  }
  const print = fingerprint(bytes);
  if (options.ledger?.knows(options.scannerId, job.kind, print) === true) {
    tally.count(job.folder, job.kind, 'skipped');
    return true;
  }
  const deadline = startDeadline({
    ms: options.timeoutMs,
    reason: () => new Error(`no answer within ${options.timeoutMs} ms`),
    follow: [interrupt],
  });
  let learned: boolean;
  try {
    const request = { message: bytes, envelope: options.envelope ?? { recipients: [] } };
    ({ learned } = await options.scanner.learn(job.kind, request, deadline.signal));
  } catch (error) {
    if (interrupt.aborted) return false; // Ctrl-C: not a failure of this message
    const failure = classifyLearnError(error, deadline.timedOut);
    tally.count(job.folder, job.kind, 'failed');
    tally.error(message.source, failure.code, failure.message, failure.exit);
    if (failure.fatal) tally.stop(failure.code, failure.message, failure.exit);
    return false;
  } finally {
    deadline.dispose();
  }
  tally.count(job.folder, job.kind, learned ? 'learned' : 'skipped');
  try {
    await options.ledger?.record(options.scannerId, job.kind, print);
  } catch (error) {
    const detail = `cannot write the ledger: ${(error as Error).message}`;
    tally.error(message.source, 'LEDGER_WRITE_FAILED', detail, LearnExit.IoErr);
    tally.stop('LEDGER_WRITE_FAILED', detail, LearnExit.IoErr);
  }
  return true;
}
