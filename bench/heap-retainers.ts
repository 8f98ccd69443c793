/**
 * Retainer paths in a heap snapshot: why objects of a class are still alive. A breadth-first walk
 * from the GC roots over the strong edges gives each object its shortest path, written as
 * DevTools' Retainers view shows it; paths that differ only in element indexes are counted as one.
 */
import { allocatedAfter, type HeapSnapshot } from './heap-snapshot.ts';

/**
 * Shortest retainer paths from the GC roots to up to `n` objects of class `cls` (the newest
 * first, or only those newer than `newerThan`), weak edges ignored, as DevTools' Retainers
 * view shows them, e.g. `(GC roots) -[1]-> … -[_idleNext]-> Timeout`.
 */
export function retainerPaths(
  snap: HeapSnapshot,
  cls: string,
  n: number,
  newerThan = -1,
): string[] {
  const target = snap.classes.indexOf(cls);
  if (target < 0) return [];
  const weak = snap.edgeTypes.indexOf('weak');
  const parentEdge = new Int32Array(snap.nodeCount).fill(-1);
  const parentNode = new Int32Array(snap.nodeCount).fill(-1);
  const seen = new Uint8Array(snap.nodeCount);
  // Breadth first from the root node (index 0), so each path found is a shortest one.
  const queue = new Uint32Array(snap.nodeCount);
  let head = 0;
  let tail = 0;
  queue[tail++] = 0;
  seen[0] = 1;
  while (head < tail) {
    const node = queue[head++] as number;
    for (let e = snap.firstEdge[node] as number; e < (snap.firstEdge[node + 1] as number); e++) {
      if (snap.edgeType[e] === weak) continue;
      const to = snap.edgeTo[e] as number;
      if (seen[to] === 1) continue;
      seen[to] = 1;
      parentEdge[to] = e;
      parentNode[to] = node;
      queue[tail++] = to;
    }
  }
  const picks: number[] = [];
  for (let i = 0; i < snap.nodeCount; i++) {
    if (snap.nodeClass[i] === target && allocatedAfter(snap, i, newerThan)) picks.push(i);
  }
  picks.sort((a, b) => (snap.nodeId[b] as number) - (snap.nodeId[a] as number));
  const paths = new Map<string, number>();
  for (const node of picks.slice(0, Math.max(n * 20, 50))) {
    const steps: string[] = [];
    let at = node;
    for (let depth = 0; at > 0 && depth < 40; depth++) {
      const e = parentEdge[at] as number;
      if (e < 0) {
        steps.push('(unreachable)');
        break;
      }
      const type = snap.edgeTypes[snap.edgeType[e] as number];
      const name = snap.edgeName[e];
      const label =
        typeof name === 'number' || /^\d+$/.test(name ?? '')
          ? '[i]'
          : type === 'context'
            ? `ctx.${name}`
            : name;
      steps.push(`-${label}-> ${snap.classes[snap.nodeClass[at] as number]}`);
      at = parentNode[at] as number;
    }
    // Paths differing only in element indexes are the same path.
    const path = `(root) ${steps.reverse().join(' ')}`;
    paths.set(path, (paths.get(path) ?? 0) + 1);
  }
  return [...paths.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([path, k]) => `${k}× ${path}`);
}
