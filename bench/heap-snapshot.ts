/**
 * Parsing V8 heap snapshots of the benchmark daemon (`.heapsnapshot` files, taken by
 * bench/heap-snapshot-take.ts; summarised and compared by bench/heap-diff.ts, walked for retainer
 * paths by bench/heap-retainers.ts). The format (V8's documented `.heapsnapshot` JSON):
 * `snapshot.meta.node_fields` names the fields of each node in the flat `nodes` array (type, name,
 * id, self_size, edge_count, …), `edge_fields` those of each edge in `edges` (type,
 * name_or_index, to_node); a node's edges follow those of the node before it; names are indexes
 * into `strings`. Object ids are stable within one process and grow with allocation, so objects
 * with an id above the highest id of an earlier snapshot were allocated after it.
 */
import { readFileSync } from 'node:fs';

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
export function allocatedAfter(snap: HeapSnapshot, i: number, newerThan: number): boolean {
  if (newerThan < 0) return true;
  return snap.native[i] === 0 && (snap.nodeId[i] as number) > newerThan;
}
