/**
 * `--trace-gc` output of the benchmark daemon: one line per garbage collection on its stdout,
 * parsed into the heap used before and after it. The heap after a full (mark-compact) collection
 * is the live heap, the post-GC floor that the soak's leak criterion follows.
 */

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
