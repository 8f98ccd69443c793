import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Directories searched in addition to PATH: MTA tools live in sbin, which non-root PATHs omit. */
const SBIN_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/** Absolute path of an executable found in PATH or the sbin directories, or null. */
export function findExecutable(name: string): string | null {
  const dirs = (process.env['PATH'] ?? '').split(delimiter).filter((dir) => dir !== '');
  for (const dir of [...dirs, ...SBIN_DIRS]) {
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return null;
}

/** True when the path exists and is executable by this process. */
export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
