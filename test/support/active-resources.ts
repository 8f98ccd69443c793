import assert from 'node:assert/strict';

/** The process's active handles and timers (`process.getActiveResourcesInfo()`), sorted. */
export function activeResources(): string[] {
  return process.getActiveResourcesInfo().sort();
}

/** Waits (up to 2 s: closes finish asynchronously) until the active resources equal `baseline`. */
export async function assertResourcesBackTo(baseline: readonly string[]): Promise<void> {
  let now = activeResources();
  for (let i = 0; i < 200 && now.join() !== baseline.join(); i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    now = activeResources();
  }
  assert.deepEqual(now, baseline, 'a socket, server or timer was left behind');
}
