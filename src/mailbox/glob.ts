/**
 * A small glob for Maildir roots such as `/home/*\/Maildir`: `*` (any run of characters) and `?`
 * (one character) within a path segment, never across `/`. As in the shell, a wildcard does not
 * match a leading dot unless the pattern segment starts with one. No `**`, no brackets or braces.
 * Only directories are returned (a Maildir root is one), as absolute paths, sorted.
 */
import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve, sep } from 'node:path';

/** The file-system calls the glob needs (injectable for tests). */
export interface GlobFs {
  /** Directory entries of `dir`, with types. */
  readdir(dir: string): Promise<readonly Pick<Dirent, 'name' | 'isDirectory' | 'isSymbolicLink'>[]>;
  /** True when `path` is a directory (symbolic links followed). */
  isDirectory(path: string): Promise<boolean>;
}

/** The real file system. */
export const NODE_GLOB_FS: GlobFs = {
  readdir: (dir) => readdir(dir, { withFileTypes: true }),
  isDirectory: async (path) => {
    try {
      return (await stat(path)).isDirectory();
    } catch {
      return false;
    }
  },
};

/** True when the pattern has a wildcard. */
export function hasWildcard(pattern: string): boolean {
  return /[*?]/.test(pattern);
}

/** The regular expression for one pattern segment (`*` and `?` wildcards, the rest literal). */
export function segmentRegExp(segment: string): RegExp {
  let source = '';
  for (const char of segment) {
    if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else source += char.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 's');
}

/** True when `name` matches the pattern segment (hidden names only by a segment starting with a dot). */
export function matchSegment(segment: string, name: string): boolean {
  if (name.startsWith('.') && !segment.startsWith('.')) return false;
  return segmentRegExp(segment).test(name);
}

/** The directories matching `pattern`, sorted; relative patterns resolve against `cwd`. */
export async function expandGlob(
  pattern: string,
  fs: GlobFs = NODE_GLOB_FS,
  cwd: string = process.cwd(),
): Promise<string[]> {
  const base = isAbsolute(pattern) ? sep : resolve(cwd);
  const segments = pattern.split('/').filter((s) => s !== '' && s !== '.');
  let current = [base];
  for (const segment of segments) {
    const next: string[] = [];
    for (const dir of current) {
      if (!hasWildcard(segment)) {
        next.push(segment === '..' ? resolve(dir, '..') : join(dir, segment));
        continue;
      }
      let entries: Awaited<ReturnType<GlobFs['readdir']>>;
      try {
        entries = await fs.readdir(dir);
      } catch {
        continue; // unreadable or not a directory: no matches below it
      }
      for (const entry of entries) {
        if (!matchSegment(segment, entry.name)) continue;
        const path = join(dir, entry.name);
        if (entry.isDirectory() || (entry.isSymbolicLink() && (await fs.isDirectory(path))))
          next.push(path);
      }
    }
    current = next;
  }
  const found: string[] = [];
  for (const path of current) if (await fs.isDirectory(path)) found.push(path);
  return [...new Set(found)].sort();
}
