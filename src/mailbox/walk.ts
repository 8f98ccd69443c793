/**
 * Finds the message files under a path given on the command line: a file is itself (one message
 * or an mbox); a Maildir gives the files of its cur/ and new/, then its Maildir++ subfolders; any
 * other directory is searched recursively. Hidden entries (a leading dot) are skipped, except the
 * `.Folder` subfolders of a Maildir (of a Maildir, only subfolders that are Maildirs are read). Symbolic links to files are followed, to directories not
 * (no loops). Problems are reported per path; the walk goes on.
 */
import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fromFsError, MailboxError, MailboxErrorCode } from './errors.ts';
import { isMaildir, listMaildir, MAILDIR_DIRS } from './maildir.ts';

/** What the walk found: a message file, or a path it could not use. */
export type WalkItem =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'error'; readonly error: MailboxError };

/** The message files under `path`, in a stable order (sorted names, depth first). */
export async function* walkMailPath(path: string): AsyncGenerator<WalkItem> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (error) {
    yield { kind: 'error', error: fromFsError(path, error) };
    return;
  }
  if (info.isFile()) yield { kind: 'file', path };
  else if (info.isDirectory()) yield* walkDirectory(path);
  else yield { kind: 'error', error: notAMailbox(path) };
}

async function* walkDirectory(dir: string): AsyncGenerator<WalkItem> {
  const maildir = await isMaildir(dir);
  if (maildir) {
    try {
      for (const file of await listMaildir(dir)) yield { kind: 'file', path: file };
    } catch (error) {
      yield { kind: 'error', error: fromFsError(dir, error) };
    }
  }
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    yield { kind: 'error', error: fromFsError(dir, error) };
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (maildir) {
      // Only subfolders that are Maildirs themselves (Maildir++ `.Folder`s, dovecot's fs layout):
      // the root's files (dovecot-uidlist, …) and other directories (courierimapkeywords/) are
      // not messages.
      const sub = entry.isDirectory() && !(MAILDIR_DIRS as readonly string[]).includes(entry.name);
      if (sub && (await isMaildir(path))) yield* walkDirectory(path);
      continue;
    }
    if (entry.name.startsWith('.')) continue;
    if (entry.isDirectory()) yield* walkDirectory(path);
    else if (entry.isFile()) yield { kind: 'file', path };
    else if (entry.isSymbolicLink()) {
      const target = await stat(path).catch(() => undefined);
      if (target?.isFile() === true) yield { kind: 'file', path };
    }
  }
}

function notAMailbox(path: string): MailboxError {
  return new MailboxError(
    MailboxErrorCode.NotAMailbox,
    path,
    `${path}: neither a file nor a directory`,
  );
}
