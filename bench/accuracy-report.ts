/** Sums up the accuracy benchmark's outcomes and prints them as a Markdown table. */
import type { Group } from './accuracy-corpus.ts';

/** One classified test message. */
export interface Outcome {
  readonly group: Group;
  readonly name: string;
  readonly spam: boolean;
  readonly flagged: boolean;
  readonly score: number;
  readonly symbols: readonly string[];
}

/** Error rates over the test split. */
export interface Rates {
  readonly messages: number;
  readonly accuracy: number;
  /** Ham flagged as spam, as a share of all ham. */
  readonly falsePositiveRate: number;
  /** Spam let through, as a share of all spam. */
  readonly falseNegativeRate: number;
  readonly falsePositives: number;
  readonly falseNegatives: number;
  readonly ham: number;
  readonly spam: number;
  /** The hard-ham group alone: messages and how many were flagged. */
  readonly hardHam: { readonly messages: number; readonly flagged: number };
}

/** Everything one benchmark run reports. */
export interface AccuracyResults extends Rates {
  readonly store: string;
  readonly train: number;
  readonly test: number;
  readonly learnPerSecond: number;
  readonly scanPerSecond: number;
  readonly node: string;
}

/** The rates of a list of outcomes. */
export function summarise(outcomes: readonly Outcome[]): Rates {
  const ham = outcomes.filter((o) => !o.spam);
  const spam = outcomes.filter((o) => o.spam);
  const falsePositives = ham.filter((o) => o.flagged).length;
  const falseNegatives = spam.filter((o) => !o.flagged).length;
  const hard = ham.filter((o) => o.group === 'hard-ham-1');
  return {
    messages: outcomes.length,
    accuracy: (outcomes.length - falsePositives - falseNegatives) / outcomes.length,
    falsePositiveRate: falsePositives / ham.length,
    falseNegativeRate: falseNegatives / spam.length,
    falsePositives,
    falseNegatives,
    ham: ham.length,
    spam: spam.length,
    hardHam: { messages: hard.length, flagged: hard.filter((o) => o.flagged).length },
  };
}

const pct = (x: number): string => `${(x * 100).toFixed(2)} %`;

/** The results as a Markdown table. */
export function markdown(r: AccuracyResults): string {
  const rows = [
    [
      'Corpus split (train / test)',
      `${r.train} / ${r.test} (${r.ham} ham, ${r.spam} spam in test)`,
    ],
    ['Accuracy', pct(r.accuracy)],
    [
      'False positives (ham → spam)',
      `${pct(r.falsePositiveRate)} (${r.falsePositives} of ${r.ham})`,
    ],
    [
      'False negatives (spam → ham)',
      `${pct(r.falseNegativeRate)} (${r.falseNegatives} of ${r.spam})`,
    ],
    [
      'Hard ham flagged',
      `${pct(r.hardHam.flagged / r.hardHam.messages)} (${r.hardHam.flagged} of ${r.hardHam.messages})`,
    ],
    ['Classification speed (one core)', `${Math.round(r.scanPerSecond)} msg/s`],
    ['Learning speed (one core)', `${Math.round(r.learnPerSecond)} msg/s`],
  ];
  return [
    `| Built-in engine, ${r.store} store, Node ${r.node} | |`,
    '|---|---|',
    ...rows.map(([k, v]) => `| ${k} | ${v} |`),
  ].join('\n');
}
