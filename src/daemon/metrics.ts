/**
 * Prometheus metrics: what happened to each message (action, verdict), scanner failures by class
 * and code, and decision times; served as text on `metrics.listen` (GET /metrics).
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { Counter, Histogram, Registry } from 'prom-client';
import type { Decision } from '../filter/decision.ts';

/** The daemon's metrics and their registry. */
export interface Metrics {
  readonly registry: Registry;
  /** Counts one decided message from its decision and how long it took. */
  observe(decision: Decision, ms: number): void;
}

/** A fresh registry with Spamward's metrics. */
export function createMetrics(): Metrics {
  const registry = new Registry();
  const messages = new Counter({
    name: 'spamward_messages_total',
    help: 'Messages decided, by the policy action and the verdict sent to the MTA',
    labelNames: ['action', 'verdict'] as const,
    registers: [registry],
  });
  const failures = new Counter({
    name: 'spamward_scanner_failures_total',
    help: 'Scans that failed, by failure class (unavailable, timeout, error) and error code',
    labelNames: ['class', 'code'] as const,
    registers: [registry],
  });
  const skipped = new Counter({
    name: 'spamward_messages_unscanned_total',
    help: 'Messages passed without a scan (trusted, opted out, too big, refused by rule)',
    registers: [registry],
  });
  const seconds = new Histogram({
    name: 'spamward_decision_seconds',
    help: 'Time from end-of-message to the decision, scan included',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  return {
    registry,
    observe(decision, ms) {
      const notes = decision.notes ?? {};
      messages.inc({
        action: String(notes['action'] ?? 'unknown'),
        verdict: decision.verdict.kind,
      });
      if (notes['failure'] !== undefined)
        failures.inc({ class: String(notes['failure']), code: String(notes['code'] ?? 'unknown') });
      if (notes['skipped'] === true) skipped.inc();
      seconds.observe(ms / 1000);
    },
  };
}

/** Serves GET /metrics on `host:port`; resolves with the server once it listens. */
export async function serveMetrics(metrics: Metrics, host: string, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { 'Content-Type': metrics.registry.contentType }).end(text),
      () => res.writeHead(500).end(),
    );
  });
  server.listen(port, host);
  await once(server, 'listening');
  return server;
}
