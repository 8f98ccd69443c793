/**
 * SIGHUP while 64 fake MTAs keep the daemon (built-in engine) busy: the config file flips between
 * two valid configurations (A rejects GTUBE with 550; B delivers it flagged with a tagged
 * Subject) and the daemon is told to reload several times. No transaction may fail, every verdict
 * must be one of the two configurations' (and one configuration per connection, the one it
 * started with), both must be seen, and the log must show every reload.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startSpamward } from '../support/daemon.ts';
import type { FakeMta } from '../support/fake-mta.ts';
import {
  type Expectation,
  loadMessage,
  openNegotiated,
  runTransaction,
  type TransactionRecord,
  verdictProblem,
} from '../support/milter-load.ts';

const WORKERS = 64;
const MESSAGES_PER_CONNECTION = 3;
const RELOADS = 6;
/** Transactions to complete between two reloads (so each configuration serves some). */
const BETWEEN_RELOADS = 40;
const TIMEOUT_MS = 20_000;

const BASE = 'trust:\n  networks: []\n';
/** A: GTUBE is rejected. */
const CONFIG_A = `${BASE}actions:\n  reject: required + 0\n`;
/** B: GTUBE is delivered, flagged, its Subject tagged. */
const CONFIG_B = `${BASE}subjectTag:\n  enabled: true\n`;

/** One transaction and the connection it ran on. */
interface Entry extends TransactionRecord {
  readonly connection: number;
  readonly spam: boolean;
}

/** Which configuration a GTUBE answer came from, or null when it fits neither. */
function spamConfig(record: TransactionRecord): 'A' | 'B' | null {
  if (verdictProblem(record.eob, 'reject') === null) return 'A';
  if (verdictProblem(record.eob, 'tagged') === null) return 'B';
  return null;
}

describe('SIGHUP under a 64-way load', () => {
  it('fails no transaction and every verdict follows one of the two configurations', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'spamward-load-reload-'));
    const file = join(dir, 'spamward.yaml');
    await writeFile(file, CONFIG_A);
    const daemon = await startSpamward(['--config', file]);
    t.after(async () => {
      await daemon.stop();
      await rm(dir, { recursive: true, force: true });
    });
    const address = { port: daemon.port };
    const entries: Entry[] = [];
    const connectFailures: string[] = [];
    let connections = 0;
    let done = false;

    const worker = async (w: number): Promise<void> => {
      for (let round = 0; !done; round++) {
        let mta: FakeMta;
        try {
          mta = await openNegotiated(address, TIMEOUT_MS);
        } catch (error) {
          connectFailures.push(String(error));
          return;
        }
        const connection = connections++;
        for (let n = 0; n < MESSAGES_PER_CONNECTION; n++) {
          const seq = round * MESSAGES_PER_CONNECTION + n;
          const spam = (w + seq) % 3 === 0;
          const record = await runTransaction(
            mta,
            loadMessage(spam ? 'spam' : 'ham', w, seq, n === 0),
          );
          entries.push({ ...record, connection, spam });
          if (record.outcome !== 'completed') {
            mta.destroy();
            return;
          }
          // Some connections linger between messages, so reloads land on open connections too.
          if (n === 0 && w % 8 === 0) await sleep(20);
        }
        await mta.quit().catch(() => mta.destroy());
      }
    };

    const workers = Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
    const completedAtLeast = async (count: number): Promise<void> => {
      while (entries.length < count && connectFailures.length === 0) {
        if (entries.some((e) => e.outcome !== 'completed')) return;
        await sleep(10);
      }
    };
    try {
      await completedAtLeast(BETWEEN_RELOADS);
      for (let i = 1; i <= RELOADS; i++) {
        await writeFile(file, i % 2 === 1 ? CONFIG_B : CONFIG_A);
        daemon.signal('SIGHUP');
        await daemon.waitForLog('configuration reloaded', i, 15_000);
        await completedAtLeast(entries.length + BETWEEN_RELOADS);
      }
    } finally {
      done = true;
      await workers;
    }

    assert.deepEqual(connectFailures, [], 'connections failed');
    const problems: string[] = [];
    const configOf = new Map<number, 'A' | 'B'>();
    for (const [i, e] of entries.entries()) {
      const label = `#${i} conn ${e.connection} (${e.spam ? 'spam' : 'ham'})`;
      if (e.outcome !== 'completed') {
        problems.push(`${label}: ${e.outcome}: ${e.error}`);
        continue;
      }
      if (!e.spam) {
        const problem = verdictProblem(e.eob, 'ham' satisfies Expectation);
        if (problem !== null) problems.push(`${label}: ${problem}`);
        continue;
      }
      const config = spamConfig(e);
      if (config === null) {
        problems.push(`${label}: fits neither configuration: ${e.eob.map((r) => r.kind)}`);
        continue;
      }
      const earlier = configOf.get(e.connection);
      if (earlier !== undefined && earlier !== config)
        problems.push(`${label}: configuration ${config} after ${earlier} on one connection`);
      configOf.set(e.connection, config);
    }
    assert.deepEqual(problems.slice(0, 10), [], `${problems.length} bad transactions`);

    const seen = [...configOf.values()];
    assert.ok(seen.includes('A') && seen.includes('B'), 'both configurations served spam');
    const output = daemon.output();
    assert.equal(output.match(/"msg":"SIGHUP: reloading the configuration"/g)?.length, RELOADS);
    assert.equal(output.match(/"msg":"configuration reloaded"/g)?.length, RELOADS);
    assert.doesNotMatch(output, /"msg":"reload refused|"msg":"connection failed"/);
    t.diagnostic(
      `${entries.length} transactions on ${connections} connections, ${RELOADS} reloads; ` +
        `spam under A: ${seen.filter((c) => c === 'A').length} connections, under B: ${seen.filter((c) => c === 'B').length}`,
    );
  });

  it('does not keep the replaced scanners open (file descriptors stay flat over reloads)', async (t) => {
    if (!existsSync('/proc/self/fd')) {
      t.skip('needs /proc');
      return;
    }
    const dir = await mkdtemp(join(tmpdir(), 'spamward-reload-fds-'));
    const file = join(dir, 'spamward.yaml');
    await writeFile(file, CONFIG_A);
    const daemon = await startSpamward(['--config', file]);
    t.after(async () => {
      await daemon.stop();
      await rm(dir, { recursive: true, force: true });
    });
    const scan = async (): Promise<void> => {
      const mta = await openNegotiated({ port: daemon.port }, TIMEOUT_MS);
      const record = await runTransaction(mta, loadMessage('ham', 0, 0, true));
      assert.equal(verdictProblem(record.eob, 'ham'), null);
      await mta.quit();
    };
    const openFds = (): number => readdirSync(`/proc/${daemon.pid}/fd`).length;
    await scan();
    const before = openFds();
    for (let i = 1; i <= 10; i++) {
      daemon.signal('SIGHUP');
      await daemon.waitForLog('configuration reloaded', i, 15_000);
      await scan();
    }
    assert.ok(openFds() <= before + 2, `open fds went from ${before} to ${openFds()}`);
  });
});
