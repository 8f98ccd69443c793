/**
 * Heap snapshot summaries for the benchmark: live objects per class (count and self size), the
 * survivors allocated after an earlier snapshot, two summaries compared class by class, and the
 * largest classes. Classes are those bench/heap-snapshot.ts assigns, as DevTools' Summary view.
 */
import { allocatedAfter, type HeapSnapshot } from './heap-snapshot.ts';

/** Count and self size of the live objects of one class. */
export interface ClassStats {
  count: number;
  size: number;
}

/**
 * Live objects per class. With `newerThan`, only those allocated after the snapshot whose
 * `maxId` that is (the survivors since then; embedder nodes are left out).
 */
export function summarize(snap: HeapSnapshot, newerThan = -1): Map<string, ClassStats> {
  const out = new Map<string, ClassStats>();
  for (let i = 0; i < snap.nodeCount; i++) {
    if (!allocatedAfter(snap, i, newerThan)) continue;
    const cls = snap.classes[snap.nodeClass[i] as number] as string;
    let s = out.get(cls);
    if (s === undefined) {
      s = { count: 0, size: 0 };
      out.set(cls, s);
    }
    s.count++;
    s.size += snap.selfSize[i] as number;
  }
  return out;
}

/** Sum of the self sizes in a summary (bytes). */
export function totalSize(summary: ReadonlyMap<string, ClassStats>): number {
  let total = 0;
  for (const s of summary.values()) total += s.size;
  return total;
}

/** One class compared between two summaries. */
export interface ClassDiff {
  readonly cls: string;
  readonly before: ClassStats;
  readonly after: ClassStats;
}

/** Classes whose count or size changed, biggest count growth first. */
export function diffSummaries(
  before: ReadonlyMap<string, ClassStats>,
  after: ReadonlyMap<string, ClassStats>,
): ClassDiff[] {
  const none = { count: 0, size: 0 };
  const names = new Set([...before.keys(), ...after.keys()]);
  const out: ClassDiff[] = [];
  for (const cls of names) {
    const b = before.get(cls) ?? none;
    const a = after.get(cls) ?? none;
    if (a.count !== b.count || a.size !== b.size) out.push({ cls, before: b, after: a });
  }
  return out.sort(
    (x, y) =>
      y.after.count - y.before.count - (x.after.count - x.before.count) ||
      y.after.size - y.before.size - (x.after.size - x.before.size),
  );
}

/** The classes with the largest total self size, biggest first. */
export function largest(
  summary: ReadonlyMap<string, ClassStats>,
  n: number,
): [string, ClassStats][] {
  return [...summary.entries()].sort((a, b) => b[1].size - a[1].size).slice(0, n);
}
