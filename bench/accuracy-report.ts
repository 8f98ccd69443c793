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

/** One engine's row of the side-by-side run (bench/accuracy-peers.ts). */
export interface PeerRow extends Rates {
  /** e.g. `spamd + Bayes`. */
  readonly label: string;
  readonly engine: string;
  /** What counted as "flagged as spam" for this engine. */
  readonly spamRule: string;
  /** Requests in flight while classifying. */
  readonly concurrency: number;
  readonly scanSeconds: number;
  /** Test messages per wall-clock second. */
  readonly scanPerSecond: number;
  /** CPU time of the engine's processes per test message, in ms (null when not measurable). */
  readonly cpuMsPerMessage: number | null;
  /** Test messages with a Bayes symbol in the verdict. */
  readonly bayesVoted: number;
  /** How many test verdicts had each action, for ham and for spam. */
  readonly actions: {
    readonly ham: Readonly<Record<string, number>>;
    readonly spam: Readonly<Record<string, number>>;
  };
  /** How the engine was trained before this pass, or null (rules only). */
  readonly training: {
    readonly method: string;
    readonly seconds: number;
    readonly learned: number;
    readonly denied: number;
    readonly failed: number;
  } | null;
}

/** The side-by-side rows as one Markdown table, one column per engine. */
export function peersMarkdown(rows: readonly PeerRow[]): string {
  const cell = (f: (r: PeerRow) => string): string => rows.map((r) => ` ${f(r)} |`).join('');
  const line = (name: string, f: (r: PeerRow) => string): string => `| ${name} |${cell(f)}`;
  const count = (n: number, of: number): string => `${pct(n / of)} (${n} of ${of})`;
  return [
    `|  |${cell((r) => r.label)}`,
    `|---|${rows.map(() => '---|').join('')}`,
    line('Spam when', (r) => r.spamRule),
    line('Accuracy', (r) => pct(r.accuracy)),
    line('False positives (ham → spam)', (r) => count(r.falsePositives, r.ham)),
    line('False negatives (spam → ham)', (r) => count(r.falseNegatives, r.spam)),
    line('Hard ham flagged', (r) => count(r.hardHam.flagged, r.hardHam.messages)),
    line('Bayes symbol in verdict', (r) => `${r.bayesVoted} of ${r.messages}`),
    line(
      'Classification speed',
      (r) =>
        `${r.scanPerSecond.toFixed(r.scanPerSecond < 100 ? 1 : 0)} msg/s (${r.concurrency} in flight)`,
    ),
    line('Training method', (r) => r.training?.method ?? '–'),
    line('Engine CPU per message', (r) =>
      r.cpuMsPerMessage === null ? '–' : `${r.cpuMsPerMessage.toFixed(1)} ms`,
    ),
    line('Training', (r) =>
      r.training === null
        ? '– (untrained)'
        : `${r.training.seconds.toFixed(0)} s, ${r.training.learned} learned` +
          (r.training.denied > 0 ? `, ${r.training.denied} refused (already in class)` : '') +
          (r.training.failed > 0 ? `, ${r.training.failed} failed` : ''),
    ),
  ].join('\n');
}
