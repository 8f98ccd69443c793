/**
 * spamass-milter (Debian package `spamass-milter`, which pulls in `spamc`) as a peer of Spamward →
 * spamd: run in the foreground on a free loopback port, as the `spamass-milter` user when we are
 * root (as Debian's init script does), handing each message to the bench's own spamd through
 * spamc. Flags: `-m` only (tag with SpamAssassin's X-Spam-* headers, leave Subject, Content-Type
 * and body alone; no `-r`, so it never refuses, like the Spamward daemon here), no `-i` (scan every
 * client), no `-u` (spamc sends its own user name).
 */
import { spawn } from 'node:child_process';
import type { Response } from '../src/milter/responses.ts';
import { systemUser } from '../test/support/processes.ts';
import { findExecutable } from '../test/support/which.ts';
import { freePort, waitForPort } from './daemon.ts';
import type { PeerMilter } from './peer-measure.ts';
import { treeCpuMs } from './peer-proc.ts';
import type { EomJudge } from './peers-load.ts';
import { describe, text } from './verdict.ts';

const USER = 'spamass-milter';

/** Why spamass-milter cannot run here, or null. */
export function spamassMilterAvailable(): string | null {
  const missing = ['spamass-milter', 'spamc'].filter((b) => findExecutable(b) === null);
  return missing.length === 0
    ? null
    : `${missing.join(' and ')} not found (apt-get install spamass-milter)`;
}

/** Starts spamass-milter in front of the spamd at `spamdUrl` (`spamd://HOST:PORT`). */
export async function startSpamassMilter(spamdUrl: string): Promise<PeerMilter> {
  const why = spamassMilterAvailable();
  if (why !== null) throw new Error(why);
  const { hostname, port: spamdPort } = new URL(spamdUrl);
  const port = await freePort();
  const args = ['-p', `inet:${port}@127.0.0.1`, '-m', '--', '-d', hostname, '-p', spamdPort];
  const user = process.getuid?.() === 0 ? systemUser(USER) : null;
  const child = spawn(findExecutable('spamass-milter') as string, args, {
    cwd: '/',
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(user === null ? {} : { uid: user.uid, gid: user.gid }),
  });
  const problems: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    stream?.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) {
        if (line.trim() !== '' && problems.length < 20) problems.push(line.slice(0, 400));
      }
    });
  }
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => resolve(signal ?? `exit ${code}`));
    child.once('error', (error) => resolve(error.message));
  });
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);
  // libmilter notices SIGTERM at its next listener poll: spamass-milter exits about 5 s later.
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
    process.off('exit', killOnExit);
  };
  try {
    await waitForPort(port, exited);
  } catch (error) {
    await stop();
    throw new Error(`spamass-milter: ${String(error)}\n${problems.join('\n')}`);
  }
  const pid = child.pid as number;
  return {
    label: 'spamass-milter → spamd',
    port,
    judge: spamassJudge,
    cpu: () => treeCpuMs(pid),
    notes: [
      `- spamass-milter (Debian \`spamass-milter\` 0.4, \`apt-get install spamass-milter\`): \`spamass-milter ${args
        .join(' ')
        .replace(/inet:\d+@/, 'inet:PORT@')
        .replace(
          /-p \d+$/,
          '-p SPAMD_PORT',
        )}\` in the foreground${user === null ? '' : ` as user ${USER}`}. It pipes every message through a new \`spamc\` process (PROCESS: spamd sends the whole message back) and copies SpamAssassin's X-Spam-* headers; \`-m\` leaves Subject, Content-Type and body alone, and without \`-r\` it never refuses: it tags, like the Spamward daemon here. Both milters prepend the MTA's \`Received:\` line for spamd: spamass-milter names the client from the \`_\` macro, Spamward from CONNECT; the load generator gives the same verified name (\`client.example.org\`) in both.`,
      '- Right answer from spamass-milter: exactly one X-Spam-Status header set (`Yes, …` or `No, …`: proof that spamd scanned it), no other change than X-Spam-* headers, then CONTINUE or ACCEPT. Spam = `X-Spam-Status: Yes`. "milter CPU" includes the spamc processes it runs.',
    ],
    problems: () => [...problems],
    stop,
  };
}

/** spamass-milter -m: X-Spam-* header changes only, one X-Spam-Status, CONTINUE or ACCEPT. */
export const spamassJudge: EomJudge = {
  check(replies) {
    const last = replies.at(-1);
    const bad = (why: string): string => `${why}: ${describe(replies)}`;
    if (last?.kind !== 'continue' && last?.kind !== 'accept')
      return bad('expected continue or accept');
    const other = replies.find(
      (r) => r !== last && !(isHeaderOp(r) && /^X-Spam-/i.test(text(r.name))),
    );
    if (other !== undefined) return bad(`unexpected ${other.kind} (only X-Spam-* headers with -m)`);
    const status = statusValues(replies);
    if (status.length !== 1 || !/^(Yes|No),/.test(status[0] as string))
      return bad('expected exactly one X-Spam-Status: Yes|No, …');
    return null;
  },
  spam: (replies) => statusValues(replies).some((v) => v.startsWith('Yes,')),
};

type HeaderOp = Extract<Response, { kind: 'addheader' | 'insheader' | 'chgheader' }>;

function isHeaderOp(r: Response): r is HeaderOp {
  return r.kind === 'addheader' || r.kind === 'insheader' || r.kind === 'chgheader';
}

function statusValues(replies: readonly Response[]): string[] {
  return replies
    .filter(isHeaderOp)
    .filter((r) => text(r.name).toLowerCase() === 'x-spam-status' && text(r.value).trim() !== '')
    .map((r) => text(r.value).trim());
}
