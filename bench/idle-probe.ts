/**
 * The idle-sessions memory probe: opens `sessions` milter connections that have negotiated and
 * sent CONNECT, HELO, MAIL and RCPT (each answered), holds them, reads the daemon's RSS, then
 * ends each (ABORT, QUIT) and reads it again.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { openSession, queueId, runSteps } from './load-mta.ts';
import type { MtaConnection } from './mta-connection.ts';
import { ABORT_PACKET, QUIT_PACKET } from './postfix.ts';
import { memory } from './proc.ts';

/** What the probe measured (KiB). */
export interface IdleResult {
  readonly sessions: number;
  readonly opened: number;
  readonly beforeKb: number;
  /** RSS with every session open (the highest of a few reads after they settled). */
  readonly openKb: number;
  /** RSS 1 s after they all closed. */
  readonly afterKb: number;
  readonly errors: readonly string[];
}

/** Runs the probe against the daemon `pid` listening on `port`. */
export async function idleProbe(pid: number, port: number, sessions: number): Promise<IdleResult> {
  await sleep(500);
  const beforeKb = memory(pid)?.rssKb ?? 0;
  const open: MtaConnection[] = [];
  const errors = new Set<string>();
  const batch = 50;
  for (let at = 0; at < sessions; at += batch) {
    const opened = await Promise.allSettled(
      Array.from({ length: Math.min(batch, sessions - at) }, () => openEnvelope(port)),
    );
    for (const result of opened) {
      if (result.status === 'fulfilled') open.push(result.value);
      else errors.add(String(result.reason));
    }
  }
  let openKb = 0;
  for (let i = 0; i < 5; i++) {
    await sleep(200);
    openKb = Math.max(openKb, memory(pid)?.rssKb ?? 0);
  }
  await Promise.all(
    open.map((conn) => {
      try {
        conn.write([ABORT_PACKET]);
      } catch {
        // Already closed by the daemon: finish() just waits for the close.
      }
      return conn.finish(QUIT_PACKET, 5_000);
    }),
  );
  await sleep(1000);
  return {
    sessions,
    opened: open.length,
    beforeKb,
    openKb,
    afterKb: memory(pid)?.rssKb ?? 0,
    errors: [...errors].slice(0, 5),
  };
}

/** A session stopped after RCPT, as Postfix leaves it while the client is slow to send DATA. */
async function openEnvelope(port: number): Promise<MtaConnection> {
  const { conn, peer, env } = await openSession(port, '127.0.0.1', 10_000);
  try {
    const steps = peer.messageSteps(
      { name: 'idle', headers: [], body: Buffer.alloc(0), expect: 'stamp' },
      { ...env, queueId: queueId() },
    );
    // MAIL and RCPT only: the steps before the first header, body or end-of-message write.
    await runSteps(
      conn,
      steps.filter((s) => s.what === 'M' || s.what === 'R'),
    );
    conn.setTimeout(0);
    return conn;
  } catch (error) {
    conn.destroy();
    throw error;
  }
}
