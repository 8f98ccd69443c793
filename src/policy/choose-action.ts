/**
 * Which action a verdict earns: score thresholds (absolute, or relative to the scanner's required
 * score, as milter-spamc's extra-reject did) and, when asked, the scanner's own recommendation.
 * Pure; the strongest applicable action wins.
 */
import type { Config, ThresholdValue } from '../config/schema.ts';
import { RELATIVE_THRESHOLD } from '../config/schema.ts';
import type { Verdict } from '../scanners/verdict.ts';

/** What happens to a scanned message, weakest first. */
export const ActionKind = {
  Accept: 'accept',
  Tag: 'tag',
  Quarantine: 'quarantine',
  Tempfail: 'tempfail',
  Discard: 'discard',
  Reject: 'reject',
} as const;
/** One of the actions. */
export type ActionKind = (typeof ActionKind)[keyof typeof ActionKind];

const STRENGTH: Readonly<Record<ActionKind, number>> = {
  accept: 0,
  tag: 1,
  quarantine: 2,
  tempfail: 3,
  discard: 4,
  reject: 5,
};

/** The chosen action and why (for the log line and `explain`). */
export interface ChosenAction {
  readonly kind: ActionKind;
  readonly reason: string;
}

/** The score a threshold stands for with this verdict, or undefined when it is switched off. */
export function thresholdScore(threshold: ThresholdValue, required: number): number | undefined {
  if (threshold === null) return undefined;
  if (typeof threshold === 'number') return threshold;
  const match = RELATIVE_THRESHOLD.exec(threshold);
  if (match === null) return undefined;
  const delta = Number(match[2]);
  return match[1] === '+' ? required + delta : required - delta;
}

/** Chooses the action for a verdict under the configured thresholds. */
export function chooseAction(verdict: Verdict, actions: Config['actions']): ChosenAction {
  const candidates: ChosenAction[] = [
    verdict.isSpam
      ? { kind: 'tag', reason: `spam: score ${verdict.score} >= required ${verdict.required}` }
      : { kind: 'accept', reason: `ham: score ${verdict.score} < required ${verdict.required}` },
  ];
  for (const kind of ['reject', 'tempfail', 'discard', 'quarantine'] as const) {
    const at = thresholdScore(actions[kind], verdict.required);
    if (at !== undefined && verdict.score >= at) {
      candidates.push({ kind, reason: `score ${verdict.score} >= ${kind} threshold ${at}` });
    }
  }
  if (actions.followScanner) {
    const followed = scannerAction(verdict);
    if (followed !== undefined)
      candidates.push({ kind: followed, reason: `scanner recommends "${verdict.action}"` });
  }
  return candidates.reduce((best, c) => (STRENGTH[c.kind] > STRENGTH[best.kind] ? c : best));
}

/** rspamd's scale mapped onto ours: greylist and soft reject tempfail; rewrite subject and add header tag. */
export function scannerAction(verdict: Verdict): ActionKind | undefined {
  switch (verdict.action) {
    case 'reject':
      return 'reject';
    case 'soft reject':
    case 'greylist':
      return 'tempfail';
    case 'rewrite subject':
    case 'add header':
      return 'tag';
    case 'no action':
      return undefined;
  }
}
