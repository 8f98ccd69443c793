/**
 * Stopping a daemon that leads its own process group (spawned with `detached: true`), children
 * included, without touching any other process.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** SIGTERM to the group, wait for every non-zombie member to go, SIGKILL after `graceMs`. */
export async function terminateGroup(pgid: number, graceMs = 5_000): Promise<void> {
  signalGroup(pgid, 'SIGTERM');
  if (await waitForGroupExit(pgid, graceMs)) return;
  signalGroup(pgid, 'SIGKILL');
  if (!(await waitForGroupExit(pgid, 2_000))) {
    throw new Error(`processes of group ${pgid} survived SIGKILL`);
  }
}

/** Sends a signal to every process of the group; a group that is gone is not an error. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

async function waitForGroupExit(pgid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (groupAlive(pgid)) {
    if (Date.now() >= deadline) return false;
    await sleep(20);
  }
  return true;
}

/**
 * True while a non-zombie process of the group runs. Zombies are ignored: in containers whose
 * PID 1 does not reap orphans, a daemon's exited children linger as zombies.
 */
function groupAlive(pgid: number): boolean {
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // "pid (comm) state ppid pgrp ...": comm may contain spaces and parentheses.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] !== 'Z' && Number(fields[2]) === pgid) return true;
    } catch {
      // the process exited while we looked
    }
  }
  return false;
}
