/**
 * The fault matrix's view of the daemon's Prometheus endpoint: the counted series (messages,
 * scanner failures, unscanned messages, decisions) read into a map, their change over one step,
 * and the change one or more failed messages of a class and code must cause under a policy.
 */
import { get } from 'node:http';
import type { FailureClass, FailurePolicy } from './fault-daemon.ts';

/** GETs `url` and resolves with the status code and the whole body as text. */
export function fetchText(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

/** The counter series the fault matrix checks (histogram buckets and gauges left out). */
const COUNTED =
  /^(spamward_messages_total|spamward_scanner_failures_total|spamward_messages_unscanned_total|spamward_decision_seconds_count)(\{[^}]*\})? (\S+)$/;

/** GETs the metrics URL and returns the counted series, e.g. `spamward_messages_total{…}` → 2. */
export async function readCounters(url: string): Promise<Map<string, number>> {
  const { status, body } = await fetchText(url);
  if (status !== 200) throw new Error(`metrics: HTTP ${status}`);
  const out = new Map<string, number>();
  for (const line of body.split('\n')) {
    const match = COUNTED.exec(line);
    if (match !== null) out.set(`${match[1]}${match[2] ?? ''}`, Number(match[3]));
  }
  return out;
}

/** The series that changed from `before` to `after`, with their increase. */
export function counterDeltas(
  before: ReadonlyMap<string, number>,
  after: ReadonlyMap<string, number>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of after) {
    const delta = value - (before.get(key) ?? 0);
    if (delta !== 0) out[key] = delta;
  }
  return out;
}

/** The counter changes of `n` failed messages of one class and code under `policy`. */
export function failureDeltas(
  policy: FailurePolicy,
  failure: FailureClass,
  code: string,
  n = 1,
): Record<string, number> {
  const action = policy[failure];
  return {
    [`spamward_messages_total{action="${action}",verdict="${action}"}`]: n,
    [`spamward_scanner_failures_total{class="${failure}",code="${code}"}`]: n,
    spamward_decision_seconds_count: n,
  };
}
