/**
 * Maildirs: a directory with cur/, new/ (and tmp/), one message per file. Maildir++ folders
 * (Courier, Dovecot) are subdirectories named `.Folder.Sub` holding a Maildir each, marked by an
 * empty `maildirfolder` file. File names starting with a dot are not messages.
 */
import type { Dirent } from 'node:fs';
import { chown, mkdir, readdir, rename, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fromFsError, MailboxError, MailboxErrorCode } from './errors.ts';

/** The subdirectories that hold messages, in reading order. */
export const MESSAGE_DIRS = ['cur', 'new'] as const;

/** The subdirectories every Maildir has. */
export const MAILDIR_DIRS = ['cur', 'new', 'tmp'] as const;

/** True when `dir` has cur/ and new/ directories. */
export async function isMaildir(dir: string): Promise<boolean> {
  for (const sub of MESSAGE_DIRS) {
    try {
      if (!(await stat(join(dir, sub))).isDirectory()) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/** The message files of a Maildir (cur/ then new/, each sorted by name); not its subfolders. */
export async function listMaildir(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const sub of MESSAGE_DIRS) {
    const path = join(dir, sub);
    let entries: Dirent[];
    try {
      entries = await readdir(path, { withFileTypes: true });
    } catch (error) {
      throw fromFsError(path, error);
    }
    const names = entries
      .filter((e) => !e.name.startsWith('.') && (e.isFile() || e.isSymbolicLink()))
      .map((e) => e.name)
      .sort();
    for (const name of names) files.push(join(path, name));
  }
  return files;
}

/**
 * Moves a message file into `folder` of the Maildir `root` (into its cur/, keeping the file name),
 * creating the folder's cur/, new/ and tmp/ (and a Maildir++ `maildirfolder` marker) when
 * missing, owned like `root` so the user's IMAP server can use them. Returns the new path.
 */
export async function moveToFolder(file: string, root: string, folder: string): Promise<string> {
  const target = join(root, folder);
  const destination = join(target, 'cur', basename(file));
  try {
    await ensureFolder(root, target, folder);
    await rename(file, destination);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new MailboxError(
      MailboxErrorCode.MoveFailed,
      file,
      `cannot move ${file} to ${destination}: ${detail}`,
      { cause: error },
    );
  }
  return destination;
}

async function ensureFolder(root: string, target: string, folder: string): Promise<void> {
  if (await isMaildir(target)) return;
  const owner = await stat(root);
  const created: string[] = [];
  if ((await mkdir(target, { recursive: true, mode: 0o700 })) !== undefined) created.push(target);
  for (const sub of MAILDIR_DIRS) {
    const path = join(target, sub);
    try {
      await mkdir(path, { mode: 0o700 });
      created.push(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  if (folder.startsWith('.') && !folder.includes('/')) {
    const marker = join(target, 'maildirfolder');
    try {
      await writeFile(marker, '', { flag: 'wx', mode: 0o600 });
      created.push(marker);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  // Running as root over /home/*/Maildir: hand what we made to the mailbox's owner.
  if (process.getuid?.() === 0) {
    for (const path of created) await chown(path, owner.uid, owner.gid);
  }
}
