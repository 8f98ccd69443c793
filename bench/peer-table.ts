/** Markdown tables of paired runs (bench/peer-measure.ts) for the comparison benchmark. */
import type { Pair, Side } from './peer-measure.ts';

const sorted = (xs: readonly number[]): number[] => [...xs].sort((a, b) => a - b);
const mid = (xs: readonly number[]): number => sorted(xs)[Math.floor(xs.length / 2)] as number;
const rates = (s: Side): number[] => s.runs.map((r) => r.result.rate);
const p50s = (s: Side): number[] => s.runs.map((r) => r.result.latency.p50);
const p99s = (s: Side): number[] => s.runs.map((r) => r.result.latency.p99);
const fmt = (x: number): string => x.toFixed(x < 10 ? 2 : 1);
const range = (xs: readonly number[], f: (x: number) => string): string => {
  const s = sorted(xs);
  return `${f(mid(xs))} (${f(s[0] as number)}–${f(s[s.length - 1] as number)})`;
};
const round = (x: number): string => String(Math.round(x));
const sum = (xs: readonly number[]): number => xs.reduce((n, x) => n + x, 0);

/**
 * Share of right answers that marked spam, over all runs of a side, and how many of them were at
 * reject: a 5xx answer from a milter, the scanner's own reject action for a raw client.
 */
function spamCell(s: Side): string {
  const counted = s.runs.map((r) => r.result.spam);
  if (counted.some((n) => n === undefined)) return '–';
  const ok = sum(s.runs.map((r) => r.result.ok));
  const rejected = sum(s.runs.map((r) => r.result.rejected));
  const share = ok === 0 ? 0 : (sum(counted as number[]) * 100) / ok;
  return `${share.toFixed(0)} %${rejected > 0 ? ` (${rejected} reject)` : ''}`;
}

function sideCells(s: Side): string {
  const known = (xs: readonly (number | undefined)[]): number[] =>
    xs.filter((x): x is number => x !== undefined);
  const cpu = known(s.runs.map((r) => r.serverCpuUs));
  const milter = known(s.runs.map((r) => r.milterCpuUs));
  const client = s.runs.map((r) => r.result.clientCpu);
  const errors = sum(s.runs.map((r) => r.result.errors));
  const total = sum(s.runs.map((r) => r.result.ok + r.result.errors));
  return [
    range(rates(s), round),
    range(p50s(s), fmt),
    range(p99s(s), fmt),
    cpu.length > 0 ? round(mid(cpu)) : '–',
    milter.length > 0 ? round(mid(milter)) : '–',
    `${Math.round(mid(client) * 100)} %`,
    spamCell(s),
    `${errors} / ${total}`,
  ].join(' | ');
}

/** Table of pairs: both sides' rows, then the ratio of median rates (min–max over run pairs). */
export function table(pairs: readonly Pair[], target: number | undefined): string {
  const out = [
    '| setting | conc. | side | msg/s median (min–max) | p50 ms | p99 ms | server CPU µs/msg | milter CPU µs/msg | client CPU | marked spam | errors / msgs | ours ÷ base msg/s |',
    '|---|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const p of pairs) {
    const ratios = p.ours.runs.map(
      (r, i) => r.result.rate / (p.base.runs[i]?.result.rate ?? Number.NaN),
    );
    const ratio = mid(rates(p.ours)) / mid(rates(p.base));
    const verdict = target === undefined ? '' : ratio >= target ? ' ✅' : ' ❌';
    out.push(`| ${p.setting} | ${p.concurrency} | ${p.base.label} | ${sideCells(p.base)} | |`);
    out.push(
      `| ${p.setting} | ${p.concurrency} | ${p.ours.label} | ${sideCells(p.ours)} | ` +
        `**${ratio.toFixed(2)}**${verdict} (pairs ${range(ratios, (x) => x.toFixed(2))}) |`,
    );
  }
  return out.join('\n');
}

/** Median-latency difference at concurrency 1: ours − base, with the min–max over run pairs. */
export function addedLatency(p: Pair): string {
  const diffs = p.ours.runs.map(
    (r, i) => r.result.latency.p50 - (p.base.runs[i]?.result.latency.p50 ?? Number.NaN),
  );
  const added = mid(p50s(p.ours)) - mid(p50s(p.base));
  return `${added.toFixed(2)} ms${added <= 1 ? ' ✅' : ' ❌'} (pairs ${range(diffs, (x) => x.toFixed(2))})`;
}
