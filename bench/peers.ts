/**
 * The comparison benchmark (issue 6): Spamward against reference points on the same machine, with
 * the same load generator, printed as a Markdown section for BENCHMARKS.md.
 *
 * 1. `null`: Spamward with the `noop` scanner against a C libmilter filter that does nothing
 *    (bench/null-milter.c, built here with cc), one message per connection and 10 per
 *    connection, at each concurrency. Target: noop ≥ 0.8× the C null milter.
 * 2. `spamd` / `rspamd`: the scanner driven directly by Spamward's own client against Spamward
 *    (milter) → the same scanner, over the same corpus messages. Targets: ≥ 0.97× raw spamd,
 *    ≥ 0.9× raw rspamd; ≤ 1 ms added median latency at concurrency 1. Then the other milters in
 *    front of the same scanner against Spamward: spamass-milter → spamd (bench/peer-spamass-milter.ts,
 *    target ≥ 1.1×) and rspamd's proxy worker as a self-scanning milter (bench/peer-rspamd-proxy.ts,
 *    target ≥ 1.0×), at each --peer-concurrency.
 * Runs of the two sides alternate, so drift in other work on the machine hits both alike.
 *
 * Options: --parts null,spamd,rspamd, --repeat 3, --count 2000 (messages per null run),
 * --concurrency 1,4,16, --modes 1,10, --scan-count 400 (messages per scanner run at
 * --scan-concurrency 4), --latency-count 100 (messages per concurrency-1 scanner run),
 * --peer-concurrency 4,16 (empty: no peer milters), --tsx (run src/ through tsx, not dist/).
 *
 * This file starts the scanners and prints the section; the options are bench/peers-plan.ts, the
 * parts bench/peers-null-part.ts and bench/peers-scanner-part.ts.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { startRspamd } from '../test/support/rspamd-server.ts';
import { startSpamd } from '../test/support/spamd-server.ts';
import { say } from './cli.ts';
import { distIsStale, revision } from './daemon.ts';
import { childrenNamed, treeCpuMs } from './peer-proc.ts';
import { rspamdProxyPeer } from './peer-rspamd-proxy.ts';
import { spamassMilterAvailable, startSpamassMilter } from './peer-spamass-milter.ts';
import { nullPart } from './peers-null-part.ts';
import { peersPlan } from './peers-plan.ts';
import { scannerPart } from './peers-scanner-part.ts';
import { machine } from './proc.ts';

const plan = peersPlan();

async function main(): Promise<void> {
  const began = performance.now();
  const host = machine();
  const out: string[] = [];
  const staleDist = plan.tsx ? false : distIsStale();
  if (staleDist) say('peers: WARNING dist/ is older than src/; run `npm run build` first');
  if (plan.parts.has('null')) await nullPart(out, plan);
  if (plan.parts.has('spamd')) {
    const server = await startSpamd();
    try {
      const pidFile = join(server.dir, 'run', 'spamd.pid');
      const missing = spamassMilterAvailable();
      await scannerPart(
        out,
        {
          kind: 'spamd',
          url: server.tcpUrl,
          daemonEnv: { SPAMWARD_SCANNER_SPAMD_VERB: 'CHECK' },
          settings: { spamdVerb: 'CHECK' },
          serverCpu: () => treeCpuMs(Number(readFileSync(pidFile, 'utf8').trim())),
          target: 0.97,
          peer: missing ?? { start: () => startSpamassMilter(server.tcpUrl), target: 1.1 },
        },
        plan,
      );
    } finally {
      await server.stop();
    }
  }
  if (plan.parts.has('rspamd')) {
    const server = await startRspamd({ proxyMilter: plan.peerLevels.length > 0 });
    try {
      const rspamd = childrenNamed('rspamd');
      const proxy =
        server.proxyMilterPort === undefined
          ? undefined
          : rspamdProxyPeer(rspamd[0] as number, server.proxyMilterPort);
      await scannerPart(
        out,
        {
          kind: 'rspamd',
          url: server.url,
          daemonEnv: {},
          settings: {},
          // The proxy worker is a milter: its CPU goes to the milter column, not the scanner's.
          serverCpu: () => rspamd.reduce((s, p) => s + treeCpuMs(p), 0) - (proxy?.cpu() ?? 0),
          target: 0.9,
          peer: proxy === undefined ? 'no proxy worker' : { start: async () => proxy, target: 1.0 },
        },
        plan,
      );
    } finally {
      await server.stop();
    }
  }
  const date = new Date().toISOString().slice(0, 10);
  const text = [
    `### ${date}: comparison with reference points (issue 6)`,
    '',
    `- Machine: ${host.cpu}, ${host.cores} cores, ${host.memoryGb} GB RAM, Linux ${host.kernel}, Node ${host.node}; load average ${host.load.toFixed(2)} at the start, ${(loadavg()[0] ?? 0).toFixed(2)} at the end (other work was running on the same 2 cores).`,
    `- Code: ${revision()}${staleDist ? ' (**dist/ older than src/**)' : ''}; Spamward ran ${plan.tsx ? 'from src/ through tsx' : 'from the built dist/'}.`,
    `- Command: \`node --import tsx bench/peers.ts ${process.argv.slice(2).join(' ')}\`.`.replace(
      ' `.',
      '`.',
    ),
    '- The load client (Node, one process) runs on the same 2 cores as the milter and scanner: where its CPU column nears 100 %, it, not the milter, bounds msg/s, and the ratio understates the gap between the two servers (compare "server CPU µs/msg").',
    `- Whole run: ${Math.round((performance.now() - began) / 1000)} s.`,
    '',
    ...out,
  ].join('\n');
  process.stdout.write(`${text}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `peers: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});
