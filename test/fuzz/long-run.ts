/**
 * Long fuzz run of the codec and session properties (not part of `npm test`):
 *
 *   node --import tsx test/fuzz/long-run.ts [--runs 1000000] [--seed N] [--batch 2000]
 *     [--only <name part>] [--stall-seconds 120]
 *
 * The properties run in a worker thread; a batch that reports nothing for --stall-seconds is
 * treated as a hang and its seed printed. Prints progress, then inputs, time, failures and the
 * peak heap. Exit status 1 on any failure or hang.
 */
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { type Batch, type BatchReport, plan } from './long-run-plan.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '1000000' },
    seed: { type: 'string' },
    batch: { type: 'string', default: '2000' },
    only: { type: 'string' },
    'stall-seconds': { type: 'string', default: '120' },
  },
});
const total = Number(values.runs);
const seed = values.seed === undefined ? Date.now() % 0x7fffffff : Number(values.seed);
const stallMs = Number(values['stall-seconds']) * 1000;
const batches = plan(total, seed, Number(values.batch), values.only);

const out = (line: string): boolean => process.stdout.write(`${line}\n`);
const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
out(`fuzz long run: ${total} inputs, seed ${seed}, ${batches.length} batches`);

const started = performance.now();
const perProperty = new Map<string, number>();
const failures: string[] = [];
let inputs = 0;
let done = 0;
let peakHeap = 0;
let peakRss = process.memoryUsage().rss;
let lastReport = performance.now();
let lastPrint = 0;

// Loader hooks of the main thread do not reach workers on Node 20: register tsx in the worker.
const entry = new URL('./long-run-worker.ts', import.meta.url).href;
const worker = new Worker(
  `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`,
  { eval: true, workerData: { batches } },
);

let watchdog: NodeJS.Timeout | undefined;
const finished = new Promise<'done' | 'hang' | 'crash'>((resolve) => {
  watchdog = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    if (performance.now() - lastReport < stallMs) return;
    const stuck = batches[done] as Batch;
    failures.push(`HANG: no progress for ${stallMs / 1000} s in ${JSON.stringify(stuck)}`);
    void worker.terminate();
    resolve('hang');
  }, 1000);
  worker.on('message', (report: BatchReport) => {
    lastReport = performance.now();
    done += 1;
    inputs += report.runs;
    peakHeap = Math.max(peakHeap, report.heapUsed);
    const name = report.batch.property;
    perProperty.set(name, (perProperty.get(name) ?? 0) + report.runs);
    if (report.failure !== undefined) {
      failures.push(report.failure);
      out(`FAILURE (batch seed ${report.batch.seed}):\n${report.failure}`);
    }
    if (lastReport - lastPrint > 5000 || done === batches.length) {
      lastPrint = lastReport;
      const s = ((lastReport - started) / 1000).toFixed(0);
      out(
        `[${((100 * done) / batches.length).toFixed(1).padStart(5)}%] ${inputs} inputs, ${s} s, heap ${mb(peakHeap)}, failures ${failures.length}`,
      );
    }
  });
  worker.on('error', (error) => {
    failures.push(`worker crashed: ${error.stack ?? String(error)}`);
    resolve('crash');
  });
  worker.on('exit', () => resolve('done'));
});

const end = await finished;
clearInterval(watchdog);
peakRss = Math.max(peakRss, process.memoryUsage().rss);
const seconds = (performance.now() - started) / 1000;
out('');
out(`summary (${end}): ${inputs} inputs in ${seconds.toFixed(1)} s, seed ${seed}`);
for (const [name, runs] of perProperty) out(`  ${String(runs).padStart(9)}  ${name}`);
out(`  failures: ${failures.length}`);
out(`  peak worker heap used: ${mb(peakHeap)}, peak process RSS: ${mb(peakRss)}`);
for (const failure of failures) out(`\n${failure}`);
process.exit(failures.length > 0 || end !== 'done' ? 1 : 0);
