/**
 * `npm run bench:soak`: 100,000 messages (default) through the daemon with the built-in engine,
 * RSS, open file descriptors and active handles sampled every 10 s; after a warm-up the RSS trend
 * (least-squares slope) must be flat and fds must not grow. Prints a Markdown section.
 *
 * Options: --count N (default 100000), --concurrency N (16), --per-connection N (10),
 * --sample-ms N (10000), --warmup-fraction F (0.2), --max-slope-mb-per-10k N (1.0).
 */
import { readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { startDaemon } from './daemon.ts';
import { packageVersion, runLoad, standardMessages } from './load-mta.ts';
import { machine, memory } from './proc.ts';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '100000' },
    concurrency: { type: 'string', default: '16' },
    'per-connection': { type: 'string', default: '10' },
    'sample-ms': { type: 'string', default: '10000' },
    'warmup-fraction': { type: 'string', default: '0.2' },
    'max-slope-mb-per-10k': { type: 'string', default: '1.0' },
  },
});

/** One reading of the daemon. */
interface Sample {
  readonly atMs: number;
  readonly messages: number;
  readonly rssMb: number;
  readonly fds: number;
}

/** Least-squares slope of y over x. */
function slope(points: readonly { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  const num = points.reduce((a, p) => a + (p.x - mx) * (p.y - my), 0);
  const den = points.reduce((a, p) => a + (p.x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

function fdCount(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return -1;
  }
}

async function main(): Promise<number> {
  const count = Number(values.count);
  const daemon = await startDaemon({ logLevel: 'warn' });
  const started = performance.now();
  const samples: Sample[] = [];
  let done = 0;
  const take = (): void => {
    const mem = memory(daemon.pid);
    if (mem === undefined) return;
    samples.push({
      atMs: performance.now() - started,
      messages: done,
      rssMb: mem.rssKb / 1024,
      fds: fdCount(daemon.pid),
    });
  };
  take();
  const timer = setInterval(take, Number(values['sample-ms']));
  const messages = await standardMessages();
  // In slices, so the sampler knows how many messages went through.
  const slice = 1_000;
  let errors = 0;
  const errorSamples: string[] = [];
  while (done < count) {
    const n = Math.min(slice, count - done);
    const result = await runLoad({
      port: daemon.port,
      concurrency: Number(values.concurrency),
      messagesPerConnection: Number(values['per-connection']),
      count: n,
      messages,
      version: packageVersion(),
    });
    done += result.ok + result.errors;
    errors += result.errors;
    errorSamples.push(...result.errorSamples.slice(0, 3 - errorSamples.length));
    process.stderr.write(`soak: ${done}/${count} messages, ${errors} errors\n`);
  }
  clearInterval(timer);
  take();
  const elapsedS = (performance.now() - started) / 1000;
  const problems = daemon.problems();
  await daemon.stop();

  const warm = samples.filter((s) => s.messages >= count * Number(values['warmup-fraction']));
  const rssSlope = slope(warm.map((s) => ({ x: s.messages / 10_000, y: s.rssMb })));
  const fdFirst = warm[0]?.fds ?? -1;
  const fdLast = warm.at(-1)?.fds ?? -1;
  const flat = Math.abs(rssSlope) <= Number(values['max-slope-mb-per-10k']);
  const ok = errors === 0 && flat && fdLast <= fdFirst + 2;
  const host = machine();
  const lines = [
    `### ${new Date().toISOString().slice(0, 10)}: soak, ${count.toLocaleString('en')} messages, built-in engine`,
    '',
    `- Machine: ${host.cpu}, ${host.cores} cores, Node ${process.version}; load average ${loadavg()[0]?.toFixed(2)} at the start.`,
    `- Daemon: \`${daemon.command}\`; load: concurrency ${values.concurrency}, ${values['per-connection']} messages per connection, corpus messages with GTUBE every 100.`,
    `- ${elapsedS.toFixed(0)} s, ${(count / elapsedS).toFixed(0)} msg/s, ${errors} errors${errorSamples.length > 0 ? ` (${errorSamples.join('; ')})` : ''}.`,
    `- RSS after warm-up (${values['warmup-fraction']} of the run): ${Math.min(...warm.map((s) => s.rssMb)).toFixed(1)}–${Math.max(...warm.map((s) => s.rssMb)).toFixed(1)} MB, trend ${rssSlope.toFixed(2)} MB per 10,000 messages (limit ±${values['max-slope-mb-per-10k']}): **${flat ? 'flat' : 'growing'}**.`,
    `- Open file descriptors after warm-up: ${fdFirst} → ${fdLast}.`,
    `- Verdict: **${ok ? 'pass' : 'FAIL'}**.`,
    ...problems.map((p) => `- Daemon said: \`${p.slice(0, 200)}\``),
    '',
    '| t (s) | messages | RSS MB | fds |',
    '|--:|--:|--:|--:|',
    ...samples.map(
      (s) => `| ${(s.atMs / 1000).toFixed(0)} | ${s.messages} | ${s.rssMb.toFixed(1)} | ${s.fds} |`,
    ),
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return ok ? 0 : 1;
}

process.exitCode = await main();
