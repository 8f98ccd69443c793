/**
 * A raw TCP client for server-level fuzzing: writes a byte stream, optionally half-closes, and
 * collects whatever the milter sends until it closes the connection or a deadline passes.
 */
import { connect } from 'node:net';

/** What one raw connection saw. */
export interface RawResult {
  /** Every byte the milter wrote. */
  readonly received: Buffer;
  /** True when the connection closed before the deadline; false when we had to cut it. */
  readonly closed: boolean;
}

/** Sends `reads` (one write each) on a new connection; `fin` half-closes our side afterwards. */
export function sendStream(
  address: { readonly port: number; readonly host?: string },
  reads: readonly Uint8Array[],
  options: { readonly fin: boolean; readonly deadlineMs: number },
): Promise<RawResult> {
  return new Promise((resolve) => {
    const socket = connect({ port: address.port, host: address.host ?? '127.0.0.1' });
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (closed: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ received: Buffer.concat(chunks), closed });
    };
    const timer = setTimeout(() => finish(false), options.deadlineMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    // ECONNRESET or EPIPE when the milter drops a broken stream while we still write: expected.
    socket.on('error', () => undefined);
    socket.once('close', () => finish(true));
    socket.once('connect', () => {
      for (const read of reads) socket.write(read);
      if (options.fin) socket.end();
    });
  });
}

/** Resolves once `condition()` holds, polling; rejects after `deadlineMs`. */
export async function eventually(
  condition: () => boolean,
  deadlineMs: number,
  what: string,
): Promise<void> {
  const until = performance.now() + deadlineMs;
  while (!condition()) {
    if (performance.now() > until) throw new Error(`${what}: not within ${deadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
