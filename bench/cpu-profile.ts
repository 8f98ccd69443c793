/**
 * Reads a V8 `.cpuprofile` (what `node --cpu-prof` writes) and sums it up: time per function,
 * self (the function's own code) and inclusive (with everything it called), busy time only.
 * Sample time is wall time on the profiled thread, so a syscall that was preempted (a write that
 * woke the reader) looks more expensive than its CPU cost; compare with /proc CPU times.
 */
import { readFileSync } from 'node:fs';

/** One line of the summary. */
export interface ProfileEntry {
  /** `name file:line`, paths from the project's src/ or dist/ or node_modules/. */
  readonly where: string;
  readonly ms: number;
  /** Share of the busy (non-idle) time. */
  readonly share: number;
}

/** The summary of one profile. */
export interface ProfileSummary {
  readonly busyMs: number;
  readonly idleMs: number;
  readonly self: readonly ProfileEntry[];
  readonly inclusive: readonly ProfileEntry[];
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { functionName: string; url: string; lineNumber: number };
  readonly children?: readonly number[];
}

interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

const IDLE = new Set(['(idle)', '(program)']);

/** Sums up the profile in `file`; `top` entries per list. */
export function summariseProfile(file: string, top = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id);
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let idleUs = 0;
  let busyUs = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (node === undefined) continue;
    if (IDLE.has(node.callFrame.functionName)) {
      idleUs += us;
      continue;
    }
    busyUs += us;
    self.set(where(node), (self.get(where(node)) ?? 0) + us);
    // Each function once per sample, however deep its recursion.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at);
      if (frame === undefined || frame.callFrame.functionName === '(root)') continue;
      const key = where(frame);
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + us);
    }
  }
  const list = (m: Map<string, number>): ProfileEntry[] =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([key, us]) => ({ where: key, ms: us / 1000, share: busyUs === 0 ? 0 : us / busyUs }));
  return {
    busyMs: busyUs / 1000,
    idleMs: idleUs / 1000,
    self: list(self),
    inclusive: list(inclusive),
  };
}

function where(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url.replace(/^.*?\/(src|dist|node_modules)\//, '$1/').replace(/^file:\/\//, '');
  return `${functionName || '(anonymous)'} ${file}${file === '' ? '' : `:${lineNumber + 1}`}`;
}
