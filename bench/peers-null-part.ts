/**
 * The null part of the comparison benchmark (bench/peers.ts): the milter protocol ceiling.
 * Spamward with the `noop` scanner against a C libmilter filter that does nothing
 * (bench/null-milter.c, built here with cc), one message per connection and several per
 * connection, at each concurrency, the two sides alternating. Target: noop ≥ 0.8× the C null
 * milter.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { say } from './cli.ts';
import { freePort, ROOT, startDaemonWith, waitForPort } from './daemon.ts';
import { standardMessages } from './load-mta.ts';
import { measure, milterRunner, type Pair, type Runner } from './peer-measure.ts';
import { table } from './peer-table.ts';
import type { PeersPlan } from './peers-plan.ts';

/** A milter run stops starting messages after this long. */
const RUN_CAP_MS = 60_000;

/** The C null milter, built and listening. */
interface NullMilter {
  readonly child: ChildProcess;
  readonly port: number;
  /** Its build directory, to remove. */
  readonly dir: string;
  /** How it was built (the directory replaced). */
  readonly command: string;
}

/** Builds and starts the C null milter on a free loopback port. */
async function startNullMilter(): Promise<NullMilter> {
  const dir = mkdtempSync(join(tmpdir(), 'spamward-null-milter-'));
  const binary = join(dir, 'null-milter');
  const build = ['-O2', '-o', binary, join(ROOT, 'bench/null-milter.c'), '-lmilter', '-lpthread'];
  execFileSync('cc', build, { stdio: 'inherit' });
  const port = await freePort();
  const child = spawn(binary, [`inet:${port}@127.0.0.1`], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.on('data', (chunk: Buffer) => say(`null-milter: ${chunk.toString().trim()}`));
  process.once('exit', () => child.kill('SIGKILL'));
  const exited = new Promise<string>((resolve) =>
    child.once('exit', (code, signal) => resolve(`exit ${code ?? signal}`)),
  );
  await waitForPort(port, exited);
  return { child, port, dir, command: `cc ${build.join(' ')}`.replace(dir, '<tmp>') };
}

/** Runs the null part as `plan` says and appends its Markdown to `out`. */
export async function nullPart(out: string[], plan: PeersPlan): Promise<void> {
  const { repeat, count, warmup, levels, modes } = plan;
  const messages = await standardMessages();
  const nm = await startNullMilter();
  const daemon = await startDaemonWith(
    { SPAMWARD_SCANNER_URLS: 'noop' },
    { tsx: plan.tsx, logLevel: 'warn' },
  );
  const nmPid = nm.child.pid as number;
  const nullSide = (label: string, c: number, pc: number, n: number): Runner =>
    milterRunner(label, nm.port, nmPid, 'none', messages, c, pc, n, RUN_CAP_MS);
  const ourSide = (label: string, c: number, pc: number, n: number): Runner =>
    milterRunner(label, daemon.port, daemon.pid, 'spamward', messages, c, pc, n, RUN_CAP_MS);
  const pairs: Pair[] = [];
  try {
    if (warmup > 0) {
      for (const pc of modes) {
        await nullSide('w', 16, pc, warmup).run();
        await ourSide('w', 16, pc, warmup).run();
      }
    }
    for (const pc of modes) {
      for (const c of levels) {
        pairs.push(
          await measure(
            pc === 1 ? '1 msg/conn' : `${pc} msg/conn`,
            c,
            nullSide('C null milter', c, pc, count),
            ourSide('Spamward noop', c, pc, count),
            repeat,
          ),
        );
      }
    }
  } finally {
    const problems = daemon.problems().filter((l) => !l.includes('running as root'));
    await daemon.stop();
    nm.child.kill('SIGTERM');
    rmSync(nm.dir, { recursive: true, force: true });
    if (problems.length > 0) say(`peers: daemon problems:\n${problems.join('\n')}`);
  }
  out.push(
    '#### Milter protocol ceiling: Spamward `noop` vs a C libmilter null milter',
    '',
    `- C null milter: \`${nm.command}\`, run as \`null-milter inet:PORT@127.0.0.1\`; it negotiates what Spamward does with its default configuration (no DATA, no reply to any step before end-of-message: NR_CONN/HELO/MAIL/RCPT/HDR/EOH/BODY), reads every stage and answers CONTINUE at end-of-message (no modification).`,
    `- Spamward: \`${daemon.command.replace(/inet:\d+@/, 'inet:PORT@')}\` with \`SPAMWARD_SCANNER_URLS=noop\` (it still builds the message and adds its headers).`,
    `- Per row ${repeat} runs of ${count} messages each side, alternating, after ${warmup} messages of warm-up per mode; corpus as in \`npm run bench\` (noop answers GTUBE as ham, so nothing is rejected). "server CPU" is the milter process's CPU time per message (the daemon's, for Spamward; the "milter CPU" and "marked spam" columns are for the scanner tables).`,
    '',
    table(pairs, 0.8),
    '',
  );
}
