/**
 * A scanner part of the comparison benchmark (bench/peers.ts), for spamd or rspamd: Spamward's
 * own scanner client driven directly ("raw") against Spamward (milter) → the same scanner, over
 * the same corpus messages, at the scan concurrency and at concurrency 1 for the added latency;
 * then the other milter in front of the same scanner (spamass-milter, or rspamd's proxy worker)
 * against Spamward at each peer concurrency. The two sides of each row alternate.
 */
import { createScanner } from '../src/scanners/factory.ts';
import type { Scanner } from '../src/scanners/scanner.ts';
import { say } from './cli.ts';
import { startDaemonWith } from './daemon.ts';
import { measure, milterRunner, type Pair, type PeerMilter, type Runner } from './peer-measure.ts';
import { addedLatency, table } from './peer-table.ts';
import { type Check, runScannerLoad, scanMessages } from './peers-load.ts';
import type { PeersPlan } from './peers-plan.ts';
import { cpuMs } from './proc.ts';

/** A scanner run stops starting messages after this long. */
const SCAN_RUN_CAP_MS = 600_000;

/** One scanner part: the scanner, how Spamward reaches it, and the peer milter in front of it. */
export interface ScannerSetup {
  readonly kind: 'spamd' | 'rspamd';
  readonly url: string;
  readonly daemonEnv: Record<string, string>;
  readonly settings: Parameters<typeof createScanner>[1];
  /** CPU ms so far of the scanner's processes (without a peer milter's own). */
  readonly serverCpu: () => number;
  readonly target: number;
  /** The peer milter and its target, or why it cannot run here. */
  readonly peer: { readonly start: () => Promise<PeerMilter>; readonly target: number } | string;
}

/** Runs one scanner part as `plan` says and appends its Markdown to `out`. */
export async function scannerPart(
  out: string[],
  setup: ScannerSetup,
  plan: PeersPlan,
): Promise<void> {
  const { kind, url, daemonEnv, serverCpu } = setup;
  const { repeat, scanCount, scanConcurrency, latencyCount, peerLevels } = plan;
  const messages = await scanMessages(scanCount);
  const scanner: Scanner = createScanner(url, setup.settings);
  const daemon = await startDaemonWith(
    { SPAMWARD_SCANNER_URLS: url, ...daemonEnv },
    { tsx: plan.tsx, logLevel: 'warn' },
  );
  const pairs: Pair[] = [];
  const peerPairs: Pair[] = [];
  let peer: PeerMilter | undefined;
  let latencyPair: Pair | undefined;
  try {
    const raw = (c: number, n: number): Runner => ({
      label: `raw ${kind}`,
      run: () => runScannerLoad(scanner, messages, c, n),
      cpu: serverCpu,
    });
    const milter = (label: string, port: number, check: Check, cpu: () => number) => {
      return (c: number, n: number): Runner => ({
        ...milterRunner(label, port, 0, check, messages, c, 1, n, SCAN_RUN_CAP_MS),
        cpu: serverCpu,
        milterCpu: cpu,
      });
    };
    const through = milter(`Spamward → ${kind}`, daemon.port, 'spamward', () => cpuMs(daemon.pid));
    // Warm-up: rule compilation, caches, the daemon's JIT.
    await raw(scanConcurrency, 40).run();
    await through(scanConcurrency, 40).run();
    pairs.push(
      await measure(
        `${messages.length} messages`,
        scanConcurrency,
        raw(scanConcurrency, scanCount),
        through(scanConcurrency, scanCount),
        repeat,
      ),
    );
    latencyPair = await measure(
      `${latencyCount} messages`,
      1,
      raw(1, latencyCount),
      through(1, latencyCount),
      repeat,
    );
    pairs.push(latencyPair);
    if (peerLevels.length > 0 && typeof setup.peer !== 'string') {
      peer = await setup.peer.start();
      const theirs = milter(peer.label, peer.port, peer.judge, peer.cpu);
      await theirs(scanConcurrency, 40).run();
      for (const c of peerLevels) {
        peerPairs.push(
          await measure(
            `${messages.length} messages`,
            c,
            theirs(c, scanCount),
            through(c, scanCount),
            repeat,
          ),
        );
      }
    }
  } finally {
    const problems = daemon.problems().filter((l) => !l.includes('running as root'));
    await daemon.stop();
    await scanner.close?.();
    if (problems.length > 0) say(`peers: daemon problems:\n${problems.join('\n')}`);
    if (peer !== undefined && peer.problems().length > 0)
      say(`peers: ${peer.label} said:\n${peer.problems().join('\n')}`);
    await peer?.stop();
  }
  const port = (u: string): string => u.replace(/:\d+$/, ':PORT');
  out.push(
    `#### ${kind}: raw client vs Spamward → ${kind}`,
    '',
    `- Raw: Spamward's own ${kind} client (\`createScanner('${port(url)}'${kind === 'spamd' ? ", { spamdVerb: 'CHECK' }" : ''})\`) called directly with the message as Spamward would pass it, N at a time.`,
    `- Through Spamward: the load generator (one message per connection) → \`SPAMWARD_SCANNER_URLS=${port(url)}${Object.entries(
      daemonEnv,
    )
      .map(([k, v]) => ` ${k}=${v}`)
      .join('')}\` → the same ${kind}.`,
    `- The first ${messages.length} corpus messages in the fixed shuffled order (no GTUBE), ${repeat} runs each side alternating; "server CPU" is ${kind}'s CPU per message (all its processes${kind === 'rspamd' && peer !== undefined ? ' but the proxy worker' : ''}), "milter CPU" the daemon's; "marked spam" the share of messages answered as spam (tagged or refused; in brackets those at reject: a 5xx from a milter, the scanner's reject action for the raw client).`,
    '',
    table(pairs, setup.target),
    '',
    `Added median latency at concurrency 1 (target ≤ 1 ms): ${latencyPair === undefined ? 'not measured' : addedLatency(latencyPair)}.`,
    '',
  );
  if (peerLevels.length === 0) return;
  const peerTitle = kind === 'spamd' ? 'spamass-milter' : 'rspamd proxy milter';
  out.push(`#### ${kind}: ${peerTitle} vs Spamward → ${kind}`, '');
  if (typeof setup.peer === 'string' || peer === undefined) {
    out.push(`Not measured: ${typeof setup.peer === 'string' ? setup.peer : 'not started'}.`, '');
    return;
  }
  out.push(
    ...peer.notes,
    `- Spamward: the same daemon and ${kind} as above, the same ${messages.length} messages, one per connection, ${repeat} runs each side alternating at each concurrency, after 40 messages of warm-up for the peer.`,
    '',
    table(peerPairs, setup.peer.target),
    '',
  );
}
