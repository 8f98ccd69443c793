/**
 * One MTA → milter TCP connection for the load generator: writes packets (several in one
 * writev), collects replies up to each final one, and never hangs (an inactivity timeout destroys
 * the socket and fails the pending read).
 */

import type { Socket } from 'node:net';
import { connect } from 'node:net';
import { FrameDecoder } from '../src/milter/frame.ts';
import { decodeResponse, FINAL_KINDS, type Response } from '../src/milter/responses.ts';

interface Waiter {
  resolve(replies: Response[]): void;
  reject(error: Error): void;
}

/** A milter client socket. */
export class MtaConnection {
  readonly #socket: Socket;
  // Postfix accepts large replies (REPLBODY); 64 MiB fails fast on garbage.
  readonly #decoder = new FrameDecoder(64 * 1024 * 1024);
  /** Replies since the last final one. */
  #partial: Response[] = [];
  /** Complete reply groups not read yet (a group ends with a final reply, or is OPTNEG). */
  readonly #groups: Response[][] = [];
  #waiter: Waiter | undefined;
  #failure: Error | undefined;
  readonly #closed: Promise<void>;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#receive(chunk));
    socket.on('error', (error) => this.#fail(error));
    socket.on('end', () => this.#fail(new Error('the milter closed the connection')));
    this.#closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.#fail(new Error('connection closed'));
        resolve();
      });
    });
  }

  /** Connects; with `timeoutMs` > 0 the socket is destroyed after that long without traffic. */
  static open(port: number, host: string, timeoutMs: number): Promise<MtaConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host });
      socket.setTimeout(timeoutMs, () => {
        socket.destroy(new Error(`no traffic for ${timeoutMs} ms`));
      });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new MtaConnection(socket));
      });
    });
  }

  /** Changes the inactivity timeout (0: none, for sessions held open on purpose). */
  setTimeout(timeoutMs: number): void {
    this.#socket.setTimeout(timeoutMs);
  }

  /** Writes packets back to back (one writev); throws if the connection already failed. */
  write(packets: readonly Buffer[]): void {
    if (this.#failure !== undefined) throw this.#failure;
    if (packets.length === 1) {
      this.#socket.write(packets[0] as Buffer);
      return;
    }
    this.#socket.cork();
    for (const packet of packets) this.#socket.write(packet);
    this.#socket.uncork();
  }

  /** The replies up to and including the next final one (or the OPTNEG reply), PROGRESS dropped. */
  replies(): Promise<Response[]> {
    const group = this.#groups.shift();
    if (group !== undefined) return Promise.resolve(group);
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.#waiter !== undefined) return Promise.reject(new Error('replies() already waiting'));
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  /** Sends QUIT-like last packets, then waits for the milter to close; destroys after `ms`. */
  async finish(last: Buffer, ms: number): Promise<void> {
    if (this.#failure === undefined) this.#socket.end(last);
    const timer = setTimeout(() => this.#socket.destroy(), ms);
    await this.#closed;
    clearTimeout(timer);
  }

  /** Drops the connection at once. */
  destroy(): void {
    this.#socket.destroy();
  }

  /** Resolves once the socket is closed. */
  get closed(): Promise<void> {
    return this.#closed;
  }

  #receive(chunk: Buffer): void {
    try {
      for (const frame of this.#decoder.push(chunk)) {
        const response = decodeResponse(frame);
        if (response.kind === 'progress') continue;
        this.#partial.push(response);
        if (response.kind === 'optneg' || FINAL_KINDS.has(response.kind)) {
          const group = this.#partial;
          this.#partial = [];
          const waiter = this.#waiter;
          this.#waiter = undefined;
          if (waiter === undefined) this.#groups.push(group);
          else waiter.resolve(group);
        }
      }
    } catch (error) {
      this.#fail(error instanceof Error ? error : new Error(String(error)));
      this.#socket.destroy();
    }
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.reject(this.#failure);
  }
}
