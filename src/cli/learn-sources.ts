/**
 * Turns the command line of `spamward learn` into jobs (one per message file): the PATHs given,
 * walked recursively, or — in the training loop — the spam and ham folders of every Maildir the
 * `--maildir-root` globs match. Paths that cannot be used are recorded in the tally.
 */
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fromFsError, MailboxError, MailboxErrorCode } from '../mailbox/errors.ts';
import { expandGlob, type GlobFs, hasWildcard, NODE_GLOB_FS } from '../mailbox/glob.ts';
import { isMaildir, listMaildir } from '../mailbox/maildir.ts';
import { walkMailPath } from '../mailbox/walk.ts';
import type { LearnKind } from '../scanners/scanner.ts';
import type { LearnJob } from './learn-run.ts';
import { type LearnTally, mailboxExit } from './learn-summary.ts';

/** The training loop's settings. */
export interface TrainingPlan {
  /** Maildir roots, with `*` / `?` wildcards, e.g. `/home/*\/Maildir`. */
  readonly roots: readonly string[];
  /** Folders (relative to each root) whose messages are spam, e.g. `.Train.Spam`. */
  readonly spamFolders: readonly string[];
  readonly hamFolders: readonly string[];
  /** Folder (relative to the root) to move learned messages into, e.g. `.Trash`. */
  readonly moveTo?: string | undefined;
}

/** One job per message file under the PATHs; each PATH is a folder of the summary. */
export async function jobsFromPaths(
  paths: readonly string[],
  kind: LearnKind,
  tally: LearnTally,
): Promise<LearnJob[]> {
  const jobs: LearnJob[] = [];
  for (const path of paths) {
    tally.folder(path, kind);
    for await (const item of walkMailPath(path)) {
      if (item.kind === 'file') {
        jobs.push({ path: item.path, folder: path, kind });
      } else {
        report(tally, path, kind, item.error);
      }
    }
  }
  return jobs;
}

/**
 * One job per message file of each spam/ham folder of each Maildir root. A root without such a
 * folder is fine (nothing to learn there); a glob that matches nothing is an error.
 */
export async function jobsFromTraining(
  plan: TrainingPlan,
  tally: LearnTally,
  fs: GlobFs = NODE_GLOB_FS,
): Promise<LearnJob[]> {
  const roots = new Set<string>();
  for (const pattern of plan.roots) {
    const found = hasWildcard(pattern) ? await expandGlob(pattern, fs) : await plainRoot(pattern);
    if (found.length === 0) {
      const message = `no Maildir matches ${pattern}`;
      tally.error(pattern, MailboxErrorCode.NoMatch, message, mailboxExit('NO_MATCH'));
    }
    for (const root of found) roots.add(root);
  }
  const folders: [string, LearnKind][] = [
    ...plan.spamFolders.map((f): [string, LearnKind] => [f, 'spam']),
    ...plan.hamFolders.map((f): [string, LearnKind] => [f, 'ham']),
  ];
  const jobs: LearnJob[] = [];
  for (const root of roots) {
    for (const [name, kind] of folders) {
      const folder = join(root, name);
      if (!(await exists(folder))) continue;
      tally.folder(folder, kind);
      if (!(await isMaildir(folder))) {
        const error = new MailboxError(
          MailboxErrorCode.NotAMaildir,
          folder,
          `${folder}: not a Maildir (no cur/ and new/)`,
        );
        report(tally, folder, kind, error);
        continue;
      }
      let files: string[];
      try {
        files = await listMaildir(folder);
      } catch (error) {
        report(tally, folder, kind, fromFsError(folder, error));
        continue;
      }
      const moveTo = plan.moveTo === undefined ? undefined : { root, folder: plan.moveTo };
      for (const path of files)
        jobs.push({ path, folder, kind, ...(moveTo === undefined ? {} : { moveTo }) });
    }
  }
  return jobs;
}

function report(tally: LearnTally, folder: string, kind: LearnKind, error: MailboxError): void {
  tally.count(folder, kind, 'failed');
  tally.error(error.path, error.code, error.message, mailboxExit(error.code));
}

async function plainRoot(path: string): Promise<string[]> {
  const absolute = resolve(path);
  try {
    return (await stat(absolute)).isDirectory() ? [absolute] : [];
  } catch {
    return [];
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
