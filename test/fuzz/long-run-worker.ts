/**
 * Worker thread of the long fuzz run: runs the planned batches in order and reports after each,
 * so the main thread can notice a hang (no report for too long) and end it.
 */
import { getHeapStatistics } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import { ALL_PROPERTIES, type Batch, type BatchReport } from './long-run-plan.ts';

const port = parentPort;
if (port === null) throw new Error('long-run-worker must run in a worker thread');
const batches = (workerData as { batches: readonly Batch[] }).batches;
// After a property fails, its later batches would mostly find the same bug again: skip them.
const failed = new Set<string>();
for (const batch of batches) {
  const property = ALL_PROPERTIES.find((p) => p.name === batch.property);
  if (property === undefined) throw new Error(`unknown property ${batch.property}`);
  const summary = failed.has(batch.property)
    ? { runs: 0, failure: undefined }
    : property.run(batch.seed, batch.runs);
  if (summary.failure !== undefined) failed.add(batch.property);
  const report: BatchReport = { batch, ...summary, heapUsed: getHeapStatistics().used_heap_size };
  port.postMessage(report);
}
