/**
 * The session driver of `npm run bench:sessions`: one round opens every milter session at once
 * (each negotiated as Postfix, CONNECT and HELO answered), waits until all are open, then lets
 * each send its messages one after the other (ABORT after each, QUIT at the end). The daemon so
 * holds every session, and at first every message, at the same time; each end-of-message answer
 * is judged by the caller's check, and latency is kept per message.
 */
import type { CorpusMessage } from './corpus.ts';
import { type EomCheck, openSession, queueId, runSteps } from './load-mta.ts';
import { ABORT_PACKET, QUIT_PACKET } from './postfix.ts';

/** What one round of the session driver measured. */
export interface RoundLoad {
  readonly ok: number;
  readonly errors: number;
  readonly errorSamples: readonly string[];
  /** Sessions that got past HELO. */
  readonly opened: number;
  /** From the first connect until every session is open. */
  readonly openMs: number;
  /** From then until the last message is answered. */
  readonly elapsedMs: number;
  readonly samples: readonly number[];
}

/**
 * One round: opens `sessions` connections (each negotiated, CONNECT and HELO answered) and only
 * when all are open lets each send `perSession` messages in turn (ABORT after each, QUIT at the
 * end), so the daemon holds every session, and at first every message, at once.
 */
export async function sessionsRound(
  port: number,
  sessions: number,
  perSession: number,
  messages: readonly CorpusMessage[],
  first: number,
  check: EomCheck,
  timeoutMs: number,
): Promise<RoundLoad> {
  const samples: number[] = [];
  const errorSamples = new Set<string>();
  let errors = 0;
  const fail = (error: unknown, lost = 1): void => {
    errors += lost;
    if (errorSamples.size < 5)
      errorSamples.add(error instanceof Error ? error.message : String(error));
  };
  const began = performance.now();
  const opened = await Promise.allSettled(
    Array.from({ length: sessions }, () => openSession(port, '127.0.0.1', timeoutMs)),
  );
  const open = opened.flatMap((r) => {
    if (r.status === 'fulfilled') return [r.value];
    fail(r.reason, perSession);
    return [];
  });
  const started = performance.now();
  let next = first;
  await Promise.all(
    open.map(async ({ conn, peer, env }) => {
      let k = 0;
      try {
        for (; k < perSession; k++) {
          const message = messages[next++ % messages.length] as CorpusMessage;
          const from = performance.now();
          const replies = await runSteps(
            conn,
            peer.messageSteps(message, { ...env, queueId: queueId() }),
          );
          const bad = check(replies, message);
          if (bad === null || bad === 'reject') samples.push(performance.now() - from);
          else fail(`${message.name}: ${bad}`);
          conn.write([ABORT_PACKET]);
        }
        await conn.finish(QUIT_PACKET, timeoutMs);
      } catch (error) {
        conn.destroy();
        fail(error, perSession - k);
      }
    }),
  );
  return {
    ok: samples.length,
    errors,
    errorSamples: [...errorSamples],
    opened: open.length,
    openMs: started - began,
    elapsedMs: performance.now() - started,
    samples,
  };
}
