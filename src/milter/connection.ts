/**
 * The socket adapter for one MTA connection: reads packets with backpressure, feeds the session,
 * runs the filter at end-of-message under a deadline (sending PROGRESS meanwhile) and writes each
 * step's replies in one write. The only milter code that touches a socket, a timer or a logger.
 */
import type { Socket } from 'node:net';
import type { Decision } from '../filter/decision.ts';
import type { MessageFilter } from '../filter/filter.ts';
import type { Message } from '../message/message.ts';
import { abortable } from '../shared/abortable.ts';
import { startDeadline } from '../shared/deadline.ts';
import type { Logger } from '../shared/logger.ts';
import { decodeCommand } from './commands.ts';
import { MilterProtocolError } from './errors.ts';
import { FrameDecoder } from './frame.ts';
import { encodeResponse, type Response } from './responses.ts';
import { MilterSession, type SessionOptions } from './session.ts';
import { traceCommand, traceResponse } from './trace.ts';

/** Per-connection settings. */
export interface ConnectionOptions {
  readonly session: SessionOptions;
  /** Cap on a declared packet length. */
  readonly maxFrameBytes: number;
  /** Close the connection when the MTA sends nothing for this long. */
  readonly idleTimeoutMs: number;
  /** Deadline for the filter at end-of-message. */
  readonly filterTimeoutMs: number;
  /** While the filter runs, send SMFIR_PROGRESS this often so the MTA's content timer does not fire. */
  readonly progressIntervalMs: number;
  /** The failure policy: what to answer when the filter fails or misses its deadline. */
  readonly onFilterError: (error: unknown, message: Message) => Decision;
  /** Log every command and reply at debug level (`--verbose`); sizes only for content. */
  readonly trace?: boolean;
  /** Told of every decided message (the metrics). */
  readonly onDecision?: (decision: Decision, ms: number) => void;
}

/** What the server shares with each connection. */
export interface ConnectionContext {
  readonly filter: MessageFilter;
  readonly options: ConnectionOptions;
  readonly log: Logger;
  /** Aborts when the daemon starts stopping: finish the current message, then close. */
  readonly draining: AbortSignal;
  /** Aborts when the grace period is over: cancel the filter, close now. */
  readonly stopping: AbortSignal;
}

/** The MTA went away while the filter was running. */
export class ConnectionClosedError extends Error {
  readonly code = 'MILTER_CONNECTION_CLOSED';

  constructor() {
    super('the MTA closed the connection');
    this.name = 'ConnectionClosedError';
  }
}

/** The filter did not answer within `filterTimeoutMs`. */
export class FilterTimeoutError extends Error {
  readonly code = 'FILTER_TIMEOUT';

  constructor(ms: number) {
    super(`the filter did not answer within ${ms} ms`);
    this.name = 'FilterTimeoutError';
  }
}

/** Serves one MTA connection until QUIT, EOF, a protocol error or shutdown. Never throws. */
export async function serveConnection(socket: Socket, ctx: ConnectionContext): Promise<void> {
  const { options, log } = ctx;
  const session = new MilterSession(options.session);
  const decoder = new FrameDecoder(options.maxFrameBytes);
  // The filter run in progress, if any: a close aborts it. (No error is made otherwise: an Error
  // and its stack trace for every closed connection is a measurable cost.)
  let running: AbortController | undefined;
  let socketClosed = false;
  socket.once('close', () => {
    socketClosed = true;
    running?.abort(new ConnectionClosedError());
  });
  // Replies are small and the MTA waits for each: never let Nagle hold one back.
  socket.setNoDelay(true);
  socket.setTimeout(options.idleTimeoutMs, () => {
    log.warn({ idleTimeoutMs: options.idleTimeoutMs }, 'MTA idle too long; closing');
    socket.destroy();
  });
  // Between messages a draining daemon may close at once; inside one it waits for the end.
  const closeIfIdle = (): void => {
    // Postfix does not read an idle milter socket, so it would never answer our FIN: flush, then go.
    if (!session.inTransaction) socket.end(() => socket.destroy());
  };
  ctx.draining.addEventListener('abort', closeIfIdle, { once: true });
  const destroyNow = (): void => void socket.destroy();
  ctx.stopping.addEventListener('abort', destroyNow, { once: true });

  try {
    // We close the socket ourselves (finally below): the default iterator would destroy it with
    // an AbortError on every early return, whose stack trace alone costs ~0.1 ms a connection.
    for await (const chunk of socket.iterator({
      destroyOnReturn: false,
    }) as AsyncIterable<Buffer>) {
      for (const frame of decoder.push(chunk)) {
        const command = decodeCommand(frame);
        if (options.trace === true) log.debug({ in: traceCommand(command) }, 'milter command');
        const step = session.handle(command);
        switch (step.kind) {
          case 'reply':
            if (step.responses.length > 0) await write(socket, traced(step.responses, ctx));
            break;
          case 'filter': {
            // The MTA is silent while it waits for us: the idle timer must not run meanwhile
            // (the filter has its own deadline).
            socket.setTimeout(0);
            running = new AbortController();
            if (socketClosed) running.abort(new ConnectionClosedError());
            const replies = await runFilter(step.message, session, socket, ctx, running);
            running = undefined;
            await write(socket, traced(replies, ctx));
            socket.setTimeout(options.idleTimeoutMs);
            break;
          }
          case 'close':
            await finish(socket);
            return;
        }
        if (ctx.draining.aborted && !session.inTransaction) {
          await finish(socket);
          return;
        }
      }
    }
    decoder.end();
  } catch (error) {
    if (error instanceof MilterProtocolError) {
      log.warn({ err: error, code: error.code }, 'milter protocol error; closing this connection');
    } else if (!socketClosed && !ctx.stopping.aborted) {
      log.error({ err: error }, 'connection failed');
    }
  } finally {
    ctx.draining.removeEventListener('abort', closeIfIdle);
    ctx.stopping.removeEventListener('abort', destroyNow);
    socket.destroy();
  }
}

/** Runs the filter for one message and returns the end-of-message replies to write. */
async function runFilter(
  message: Message,
  session: MilterSession,
  socket: Socket,
  ctx: ConnectionContext,
  /** Aborted by a close of the connection; here also by the deadline and by the daemon stopping. */
  run: AbortController,
): Promise<readonly Response[]> {
  const { options, log } = ctx;
  const started = performance.now();
  const deadline = startDeadline({
    ms: options.filterTimeoutMs,
    reason: () => new FilterTimeoutError(options.filterTimeoutMs),
    follow: [ctx.stopping],
    controller: run,
  });
  const { signal } = deadline;
  const progress = setInterval(() => {
    // 5 bytes; written between whole packets, so it cannot split a reply.
    socket.write(encodeResponse({ kind: 'progress' }));
  }, options.progressIntervalMs);
  let decision: Decision;
  try {
    decision = await abortable(ctx.filter.filter(message, signal), signal);
  } catch (error) {
    decision = options.onFilterError(error, message);
    log.warn(
      { err: error, id: message.id, verdict: decision.verdict.kind },
      'filter failed; failure policy applied',
    );
  } finally {
    deadline.dispose();
    clearInterval(progress);
  }
  const { responses, refused } = session.decide(decision);
  for (const { what, reason } of refused) {
    log.warn({ id: message.id, what, reason }, 'part of the decision not applied');
  }
  const ms = performance.now() - started;
  options.onDecision?.(decision, ms);
  log.info(
    {
      id: message.id,
      client: message.client.address,
      helo: message.client.helo,
      from: message.sender?.address,
      rcpt: message.recipients.map((r) => r.address),
      verdict: decision.verdict.kind,
      ms: Math.round(ms),
      bodyBytes: message.bodyBytes,
      truncated: message.bodyTruncated,
      ...decision.notes,
    },
    'message filtered',
  );
  return responses;
}

/** Logs each reply when tracing; returns them unchanged. */
function traced(responses: readonly Response[], ctx: ConnectionContext): readonly Response[] {
  if (ctx.options.trace === true) {
    for (const response of responses)
      ctx.log.debug({ out: traceResponse(response) }, 'milter reply');
  }
  return responses;
}

/** Ends our side once everything written is flushed (leaving the loop destroys the socket). */
function finish(socket: Socket): Promise<void> {
  return new Promise((resolve) => socket.end(resolve));
}

/** Writes all replies of one step as one buffer (one segment on TCP), waiting for drain if needed. */
async function write(socket: Socket, responses: readonly Response[]): Promise<void> {
  if (socket.destroyed || !socket.writable) throw new ConnectionClosedError();
  const buffer =
    responses.length === 1
      ? encodeResponse(responses[0] as Response)
      : Buffer.concat(responses.map(encodeResponse));
  if (socket.write(buffer)) return;
  await new Promise<void>((resolve, reject) => {
    const done = (): void => {
      socket.off('drain', done);
      socket.off('close', gone);
      resolve();
    };
    const gone = (): void => {
      socket.off('drain', done);
      reject(new ConnectionClosedError());
    };
    socket.once('drain', done);
    socket.once('close', gone);
  });
}
