/**
 * What `spamward learn` did: counts overall and per folder, the errors, why it stopped early,
 * and the exit status that follows (sysexits codes; the most serious problem wins).
 */
import type { MailboxErrorCode } from '../mailbox/errors.ts';
import type { LearnKind } from '../scanners/scanner.ts';
import { assertNever } from '../shared/assert-never.ts';

/** The exit statuses of `spamward learn`. */
export const LearnExit = {
  /** Every message was learned or already known. */
  Ok: 0,
  /** Some messages were refused by the scanner, or are empty or not messages at all. */
  DataErr: 65,
  /** Some paths could not be read (missing, unreadable, a glob matched nothing). */
  NoInput: 66,
  /** An internal error. */
  Software: 70,
  /** A learned message could not be moved into the --move-to folder. */
  CantCreat: 73,
  /** The token store or the ledger failed (corrupt, read-only, disk full); stopped. */
  IoErr: 74,
  /** The scanner was unavailable or timed out (or the run was interrupted); stopped. */
  TempFail: 75,
  /** The scanner cannot learn (spamd without --allow-tell, no rspamd password); stopped. */
  Config: 78,
} as const;

/** One of the exit statuses. */
export type LearnExit = (typeof LearnExit)[keyof typeof LearnExit];

/** Most serious first: the exit status is the first of these that occurred. */
const SEVERITY: readonly LearnExit[] = [78, 75, 74, 70, 73, 66, 65];

/** How one message ended. */
export type Outcome = 'learned' | 'skipped' | 'failed';

/** Counts for one folder (or one command-line path). */
export interface FolderCounts {
  readonly kind: LearnKind;
  learned: number;
  skipped: number;
  failed: number;
  moved: number;
}

/** One problem, tied to a path (`file#N` for the N-th message of an mbox). */
export interface LearnErrorReport {
  readonly path: string;
  readonly code: string;
  readonly message: string;
}

/** The summary printed at the end (JSON on stdout unless a terminal is watching). */
export interface LearnSummary {
  readonly scanner: string;
  readonly learned: number;
  readonly skipped: number;
  readonly failed: number;
  readonly moved: number;
  /** Why the run stopped before the end, if it did. */
  readonly stopped: { readonly code: string; readonly message: string } | null;
  readonly byFolder: Readonly<Record<string, FolderCounts>>;
  readonly errors: readonly LearnErrorReport[];
  /** Errors beyond the first MAX_ERRORS, counted but not listed. */
  readonly errorsOmitted: number;
}

/** Errors listed in the summary; more are only counted. */
export const MAX_ERRORS = 1000;

/** The exit status for a mailbox failure. */
export function mailboxExit(code: MailboxErrorCode): LearnExit {
  switch (code) {
    case 'PATH_NOT_FOUND':
    case 'PATH_UNREADABLE':
    case 'NOT_A_MAILBOX':
    case 'NOT_A_MAILDIR':
    case 'NO_MATCH':
      return LearnExit.NoInput;
    case 'EMPTY_MESSAGE':
    case 'NOT_A_MESSAGE':
      return LearnExit.DataErr;
    case 'MOVE_FAILED':
      return LearnExit.CantCreat;
    default:
      return assertNever(code);
  }
}

/** Accumulates the outcome of a run. */
export class LearnTally {
  readonly #scanner: string;
  readonly #folders = new Map<string, FolderCounts>();
  readonly #errors: LearnErrorReport[] = [];
  readonly #exits = new Set<LearnExit>();
  #omitted = 0;
  #stopped: { code: string; message: string } | null = null;

  constructor(scanner: string) {
    this.#scanner = scanner;
  }

  /** The counts of `folder`, created (at zero) on first use. */
  folder(folder: string, kind: LearnKind): FolderCounts {
    let counts = this.#folders.get(folder);
    if (counts === undefined) {
      counts = { kind, learned: 0, skipped: 0, failed: 0, moved: 0 };
      this.#folders.set(folder, counts);
    }
    return counts;
  }

  /** Counts one message (or, for `failed`, one unreadable file) of `folder`. */
  count(folder: string, kind: LearnKind, outcome: Outcome): void {
    this.folder(folder, kind)[outcome]++;
  }

  /** Counts one message file moved out of `folder`. */
  moved(folder: string, kind: LearnKind): void {
    this.folder(folder, kind).moved++;
  }

  /** Records a problem and the exit status it implies. */
  error(path: string, code: string, message: string, exit: LearnExit): void {
    this.#exits.add(exit);
    if (this.#errors.length < MAX_ERRORS) this.#errors.push({ path, code, message });
    else this.#omitted++;
  }

  /** Records why the run stops early (the first reason is kept). */
  stop(code: string, message: string, exit: LearnExit): void {
    this.#exits.add(exit);
    this.#stopped ??= { code, message };
  }

  /** True once `stop` was called. */
  get stopped(): boolean {
    return this.#stopped !== null;
  }

  /** Totals over all folders (for progress display). */
  totals(): { learned: number; skipped: number; failed: number; moved: number } {
    const sum = { learned: 0, skipped: 0, failed: 0, moved: 0 };
    for (const c of this.#folders.values()) {
      sum.learned += c.learned;
      sum.skipped += c.skipped;
      sum.failed += c.failed;
      sum.moved += c.moved;
    }
    return sum;
  }

  /** The exit status: 0, or the most serious problem's. */
  exitCode(): LearnExit {
    return SEVERITY.find((exit) => this.#exits.has(exit)) ?? LearnExit.Ok;
  }

  /** A snapshot for printing. */
  summary(): LearnSummary {
    return {
      scanner: this.#scanner,
      ...this.totals(),
      stopped: this.#stopped,
      byFolder: Object.fromEntries([...this.#folders].map(([k, v]) => [k, { ...v }])),
      errors: [...this.#errors],
      errorsOmitted: this.#omitted,
    };
  }
}
