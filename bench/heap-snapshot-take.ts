/**
 * Taking V8 heap snapshots of the benchmark daemon. The daemon runs with
 * `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=DIR` (see `snapshotFlags`); `takeSnapshot`
 * signals it and waits until the new `.heapsnapshot` file is complete. V8 runs a full GC first, so
 * a snapshot holds live objects only; bench/heap-snapshot.ts parses the file.
 */
import { closeSync, openSync, readdirSync, readSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Node flags that let `takeSnapshot` work: write snapshots into `dir` on SIGUSR2. */
export function snapshotFlags(dir: string): string[] {
  return ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${dir}`];
}

/**
 * Sends SIGUSR2 to `pid` (started with `snapshotFlags(dir)`) and waits for the new snapshot file
 * to be complete; returns its path. The daemon is blocked while it writes (seconds).
 */
export async function takeSnapshot(pid: number, dir: string, timeoutMs = 120_000): Promise<string> {
  const before = new Set(list(dir));
  process.kill(pid, 'SIGUSR2');
  const until = Date.now() + timeoutMs;
  let file: string | undefined;
  let lastSize = -1;
  while (Date.now() < until) {
    await sleep(250);
    file ??= list(dir).find((f) => !before.has(f));
    if (file === undefined) continue;
    const size = statSync(join(dir, file)).size;
    if (size === lastSize && size > 0 && endsComplete(join(dir, file), size))
      return join(dir, file);
    lastSize = size;
  }
  throw new Error(`no complete heap snapshot in ${dir} within ${timeoutMs} ms`);
}

/** Deletes a snapshot file once read. */
export function dropSnapshot(file: string): void {
  rmSync(file, { force: true });
}

function list(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.heapsnapshot'));
}

/** The last two bytes are `]}` (the end of `strings` and of the document). */
function endsComplete(file: string, size: number): boolean {
  const tail = Buffer.alloc(2);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, tail, 0, 2, size - 2);
  } finally {
    closeSync(fd);
  }
  return tail.toString('latin1') === ']}';
}
