/**
 * V8 heap snapshots of the benchmark daemon, and what the bench reads from them.
 *
 * The daemon runs with `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=DIR` (see
 * `snapshotFlags`); `takeSnapshot` signals it and waits for the `.heapsnapshot` file. V8 runs a
 * full GC first, so a snapshot holds live objects only.
 *
 * The format (V8's documented `.heapsnapshot` JSON): `snapshot.meta.node_fields` names the
 * fields of each node in the flat `nodes` array (type, name, id, self_size, edge_count, …),
 * `edge_fields` those of each edge in `edges` (type, name_or_index, to_node); a node's edges
 * follow those of the node before it; names are indexes into `strings`. Object ids are stable
 * within one process and grow with allocation, so objects with an id above the highest id of
 * an earlier snapshot were allocated after it.
 */
import {
  closeSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
} from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Node flags that let `takeSnapshot` work: write snapshots into `dir` on SIGUSR2. */
export function snapshotFlags(dir: string): string[] {
  return ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${dir}`];
}

/** A parsed snapshot: the flat arrays, decoded once. */
export interface HeapSnapshot {
  readonly nodeCount: number;
  /** Per node: its class (see `classOf`), as an index into `classes`. */
  readonly nodeClass: Uint32Array;
  readonly classes: readonly string[];
  readonly nodeId: Float64Array;
  readonly selfSize: Float64Array;
  /** Per node: index of its first edge; edges of node i are [firstEdge[i], firstEdge[i + 1]). */
  readonly firstEdge: Uint32Array;
  readonly edgeType: Uint8Array;
  /** Edge name: a string for properties/context/internal/shortcut, else the element index. */
  readonly edgeName: readonly (string | number)[];
  /** Target node index (not the raw array offset). */
  readonly edgeTo: Uint32Array;
  readonly edgeTypes: readonly string[];
  /** Per node: 1 for embedder nodes, whose ids are not allocation-ordered. */
  readonly native: Uint8Array;
  /** The highest id of a V8 heap object (embedder nodes aside) in the snapshot. */
  readonly maxId: number;
}

/** Count and self size of the live objects of one class. */
export interface ClassStats {
  count: number;
  size: number;
}

/**
 * The class a node is summarised under, as DevTools' Summary view does: the constructor name for
 * objects, the function name for closures, the V8 name for native and internal (hidden) objects,
 * and one bucket per other type (`(string)`, `(compiled code)`, …).
 */
function classOf(type: string, name: string): string {
  switch (type) {
    case 'object':
    case 'native':
    case 'hidden':
    case 'synthetic':
      return name;
    case 'closure':
      return `${name || '(anonymous)'}()`;
    case 'string':
    case 'concatenated string':
    case 'sliced string':
      return '(string)';
    case 'code':
      return '(compiled code)';
    case 'array':
      return `(array ${name})`;
    case 'number':
      return '(number)';
    default:
      return `(${type})`;
  }
}

interface RawSnapshot {
  snapshot: {
    meta: {
      node_fields: string[];
      node_types: [string[], ...unknown[]];
      edge_fields: string[];
      edge_types: [string[], ...unknown[]];
    };
    node_count: number;
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

/** Parses a `.heapsnapshot` file. */
export function readSnapshot(file: string): HeapSnapshot {
  return parseSnapshot(readFileSync(file, 'utf8'));
}

/** Parses the JSON text of a heap snapshot. */
export function parseSnapshot(text: string): HeapSnapshot {
  const raw = JSON.parse(text) as RawSnapshot;
  const { meta } = raw.snapshot;
  const nf = meta.node_fields.length;
  const ef = meta.edge_fields.length;
  const field = (fields: string[], name: string): number => {
    const at = fields.indexOf(name);
    if (at < 0) throw new Error(`heap snapshot: no ${name} field`);
    return at;
  };
  const nType = field(meta.node_fields, 'type');
  const nName = field(meta.node_fields, 'name');
  const nId = field(meta.node_fields, 'id');
  const nSize = field(meta.node_fields, 'self_size');
  const nEdges = field(meta.node_fields, 'edge_count');
  const eType = field(meta.edge_fields, 'type');
  const eName = field(meta.edge_fields, 'name_or_index');
  const eTo = field(meta.edge_fields, 'to_node');
  const nodeTypes = meta.node_types[0];
  const edgeTypes = meta.edge_types[0];
  const nodeCount = raw.nodes.length / nf;
  const edgeCount = raw.edges.length / ef;
  const classIndex = new Map<string, number>();
  const classes: string[] = [];
  const nodeClass = new Uint32Array(nodeCount);
  const nodeId = new Float64Array(nodeCount);
  const selfSize = new Float64Array(nodeCount);
  const firstEdge = new Uint32Array(nodeCount + 1);
  const native = new Uint8Array(nodeCount);
  const nativeType = nodeTypes.indexOf('native');
  const syntheticType = nodeTypes.indexOf('synthetic');
  let maxId = 0;
  let edge = 0;
  for (let i = 0; i < nodeCount; i++) {
    const at = i * nf;
    const cls = classOf(
      nodeTypes[raw.nodes[at + nType] as number] ?? '?',
      raw.strings[raw.nodes[at + nName] as number] ?? '',
    );
    let c = classIndex.get(cls);
    if (c === undefined) {
      c = classes.length;
      classes.push(cls);
      classIndex.set(cls, c);
    }
    nodeClass[i] = c;
    const id = raw.nodes[at + nId] as number;
    nodeId[i] = id;
    // Node's embedder graph nodes (native or synthetic, `Node / …`, `C++ …`) get hashed ids
    // (e.g. 2312736192), not allocation-ordered ones: not comparable.
    const type = raw.nodes[at + nType] as number;
    if (type === nativeType || type === syntheticType || /^(Node \/|C\+\+ )/.test(cls))
      native[i] = 1;
    else if (id > maxId) maxId = id;
    selfSize[i] = raw.nodes[at + nSize] as number;
    firstEdge[i] = edge;
    edge += raw.nodes[at + nEdges] as number;
  }
  firstEdge[nodeCount] = edge;
  const edgeType = new Uint8Array(edgeCount);
  const edgeName: (string | number)[] = new Array(edgeCount);
  const edgeTo = new Uint32Array(edgeCount);
  const elementLike = new Set(['element', 'hidden']);
  for (let e = 0; e < edgeCount; e++) {
    const at = e * ef;
    const type = raw.edges[at + eType] as number;
    edgeType[e] = type;
    const name = raw.edges[at + eName] as number;
    edgeName[e] = elementLike.has(edgeTypes[type] ?? '') ? name : (raw.strings[name] ?? '?');
    edgeTo[e] = (raw.edges[at + eTo] as number) / nf;
  }
  return {
    nodeCount,
    nodeClass,
    classes,
    nodeId,
    selfSize,
    firstEdge,
    edgeType,
    edgeName,
    edgeTo,
    edgeTypes,
    native,
    maxId,
  };
}

/** True when node `i` was allocated after the snapshot whose `maxId` is `newerThan` (-1: any). */
function newer(snap: HeapSnapshot, i: number, newerThan: number): boolean {
  if (newerThan < 0) return true;
  return snap.native[i] === 0 && (snap.nodeId[i] as number) > newerThan;
}

/**
 * Live objects per class. With `newerThan`, only those allocated after the snapshot whose
 * `maxId` that is (the survivors since then; embedder nodes are left out).
 */
export function summarize(snap: HeapSnapshot, newerThan = -1): Map<string, ClassStats> {
  const out = new Map<string, ClassStats>();
  for (let i = 0; i < snap.nodeCount; i++) {
    if (!newer(snap, i, newerThan)) continue;
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
    if (snap.nodeClass[i] === target && newer(snap, i, newerThan)) picks.push(i);
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

/** One garbage collection as `--trace-gc` prints it. */
export interface GcEvent {
  /** Milliseconds since the isolate started. */
  readonly atMs: number;
  /** `Scavenge`, `Mark-Compact`, `Mark-Compact (reduce)`, … */
  readonly kind: string;
  /** Heap used before and after, MB (V8's MB: 2^20 bytes); committed after in `committedMb`. */
  readonly beforeMb: number;
  readonly afterMb: number;
  readonly committedMb: number;
  /** A full (mark-compact) collection: `afterMb` is then the live heap, the post-GC floor. */
  readonly major: boolean;
  /** Why it ran, as V8 says it (e.g. `allocation failure`, `heap profiler`). */
  readonly reason: string;
}

const GC_LINE =
  /^\[\d+:0x[0-9a-f]+\]\s+(\d+) ms: ((?:Minor )?Mark-(?:Compact|Sweep)(?: \(reduce\))?|Scavenge) ([\d.]+) \(([\d.]+)\) -> ([\d.]+) \(([\d.]+)\) MB, /;
const GC_REASON = /current mu = [\d.]+\)\s*(.*)$/;

/** Parses a `--trace-gc` line; undefined for any other line (pino JSON, warnings). */
export function parseGcLine(line: string): GcEvent | undefined {
  const m = GC_LINE.exec(line);
  if (m === null) return undefined;
  const kind = m[2] as string;
  return {
    atMs: Number(m[1]),
    kind,
    beforeMb: Number(m[3]),
    afterMb: Number(m[5]),
    committedMb: Number(m[6]),
    major: !kind.startsWith('Minor') && kind !== 'Scavenge',
    reason: (GC_REASON.exec(line)?.[1] ?? '').replace(/;\s*$/, '').trim(),
  };
}
