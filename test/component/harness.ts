/**
 * Component-test harness: an in-process MilterServer on a loopback port or a unix socket in a
 * temp dir, fake MTAs that are torn down with it, and small filters with observable behaviour.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WISHES } from '../../src/daemon/daemon.ts';
import type { Decision, Modification } from '../../src/filter/decision.ts';
import type { MessageFilter } from '../../src/filter/filter.ts';
import { createGtubeFilter } from '../../src/filter/gtube-filter.ts';
import type { Message } from '../../src/message/message.ts';
import type { ConnectionOptions } from '../../src/milter/connection.ts';
import { DEFAULT_MAX_FRAME_BYTES } from '../../src/milter/frame.ts';
import type { Response } from '../../src/milter/responses.ts';
import { MilterServer } from '../../src/milter/server.ts';
import { VERSION } from '../../src/version.ts';
import { type ConnectOptions, FakeMta, type MilterAddress } from '../support/fake-mta.ts';
import { SilentLogger } from '../support/silent-logger.ts';

/** The two transports every transaction test runs on. */
export const TRANSPORTS = ['inet', 'unix'] as const;

/** A transport the server listens on. */
export type Transport = (typeof TRANSPORTS)[number];

/** Options for `startServer`; anything left out takes the daemon's production values. */
export interface HarnessOptions {
  readonly transport?: Transport;
  readonly connection?: Partial<Omit<ConnectionOptions, 'session'>>;
  readonly maxBodyBytes?: number;
  readonly unixMode?: number;
  /** Unix socket path to use (default: a fresh temp dir's `milter.sock`). */
  readonly path?: string;
}

/** A running in-process server. */
export interface Harness {
  readonly server: MilterServer;
  readonly address: MilterAddress;
  readonly log: SilentLogger;
  /** A fake MTA connected to the server, destroyed by `stop`. */
  connect(options?: ConnectOptions): Promise<FakeMta>;
  /** A fake MTA that has negotiated Postfix's offer. */
  connectNegotiated(): Promise<FakeMta>;
  /** Closes every fake MTA and the server (idempotent). */
  stop(): Promise<void>;
}

/** The body cap used in production. */
export const MAX_BODY_BYTES = 512 * 1024;

/** Starts a MilterServer with `filter` (default the GTUBE filter) and the daemon's WISHES. */
export async function startServer(
  filter: MessageFilter = createGtubeFilter(VERSION),
  options: HarnessOptions = {},
): Promise<Harness> {
  const log = new SilentLogger();
  const dir =
    options.transport === 'unix' && options.path === undefined
      ? await mkdtemp(join(tmpdir(), 'spamward-component-'))
      : undefined;
  const socketPath = options.path ?? (dir === undefined ? undefined : join(dir, 'milter.sock'));
  const server = new MilterServer(
    filter,
    {
      address:
        options.transport === 'unix' && socketPath !== undefined
          ? { kind: 'unix', path: socketPath }
          : { kind: 'inet', host: '127.0.0.1', port: 0 },
      ...(options.unixMode === undefined ? {} : { unixMode: options.unixMode }),
      connection: connectionOptions(options),
    },
    log,
  );
  const bound = await server.listen();
  const address: MilterAddress =
    bound.kind === 'unix' ? { path: bound.path } : { port: bound.port, host: bound.host };
  const clients = new Set<FakeMta>();
  let stopped: Promise<void> | undefined;
  const connect = async (connectOptions: ConnectOptions = {}): Promise<FakeMta> => {
    const mta = await FakeMta.connect(address, connectOptions);
    clients.add(mta);
    return mta;
  };
  return {
    server,
    address,
    log,
    connect,
    async connectNegotiated(): Promise<FakeMta> {
      const mta = await connect();
      await mta.negotiate();
      return mta;
    },
    stop(): Promise<void> {
      stopped ??= (async () => {
        for (const mta of clients) mta.destroy();
        await server.close(0);
        if (dir !== undefined) await rm(dir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}

function connectionOptions(options: HarnessOptions): ConnectionOptions {
  return {
    session: { wishes: WISHES, maxBodyBytes: options.maxBodyBytes ?? MAX_BODY_BYTES },
    maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
    idleTimeoutMs: 10_000,
    filterTimeoutMs: 5_000,
    progressIntervalMs: 10_000,
    onFilterError: tempfailOnError,
    ...options.connection,
  };
}

/** A promise with its resolve function exposed. */
export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
}

/** Creates a Deferred. */
export function deferred<T>(): Deferred<T> {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** A filter that records every message it is given, then lets `inner` decide. */
export function recordingFilter(inner: MessageFilter = createGtubeFilter(VERSION)): {
  readonly filter: MessageFilter;
  readonly messages: Message[];
} {
  const messages: Message[] = [];
  return {
    messages,
    filter: {
      filter(message, signal): Promise<Decision> {
        messages.push(message);
        return inner.filter(message, signal);
      },
    },
  };
}

/** A filter that accepts every message with `modifications`. */
export function modifyingFilter(modifications: readonly Modification[]): MessageFilter {
  return { filter: () => Promise.resolve({ verdict: { kind: 'accept' }, modifications }) };
}

/** A filter that never answers; `started` resolves when it is called, `aborted` with its signal's reason. */
export function hangingFilter(): {
  readonly filter: MessageFilter;
  readonly started: Promise<Message>;
  readonly aborted: Promise<unknown>;
} {
  const started = deferred<Message>();
  const aborted = deferred<unknown>();
  return {
    started: started.promise,
    aborted: aborted.promise,
    filter: {
      filter(message, signal): Promise<Decision> {
        signal.addEventListener('abort', () => aborted.resolve(signal.reason), { once: true });
        started.resolve(message);
        return new Promise<Decision>(() => undefined);
      },
    },
  };
}

/** A filter that answers like `inner` after `ms` (ignoring its signal, like a slow scanner). */
export function slowFilter(
  ms: number,
  inner: MessageFilter = createGtubeFilter(VERSION),
): { readonly filter: MessageFilter; readonly started: Promise<void> } {
  const started = deferred<undefined>();
  return {
    started: started.promise,
    filter: {
      async filter(message, signal): Promise<Decision> {
        started.resolve(undefined);
        await new Promise((resolve) => setTimeout(resolve, ms));
        return inner.filter(message, signal);
      },
    },
  };
}

/** A filter that fails: throws synchronously, or returns a rejected promise. */
export function failingFilter(how: 'throw' | 'reject'): MessageFilter {
  return {
    filter(): Promise<Decision> {
      const error = new Error('scanner exploded');
      if (how === 'throw') throw error;
      return Promise.reject(error);
    },
  };
}

/** A reply with every byte field shown as latin1 text and REPLBODY as its size, for deepEqual. */
export type PlainResponse = Readonly<Record<string, string | number | readonly string[]>>;

/** Converts replies to PlainResponse values. */
export function plain(responses: readonly Response[]): PlainResponse[] {
  return responses.map((response) => {
    const out: Record<string, string | number | readonly string[]> = {};
    for (const [key, value] of Object.entries(response)) {
      if (response.kind === 'replbody' && key === 'chunk') out['bytes'] = (value as Buffer).length;
      else if (value instanceof Uint8Array) out[key] = Buffer.from(value).toString('latin1');
      else if (Array.isArray(value))
        out[key] = value.map((v: Uint8Array) => Buffer.from(v).toString('latin1'));
      else if (typeof value === 'string' || typeof value === 'number') out[key] = value;
    }
    return out;
  });
}

/** `promise`, or a rejection naming `what` after `ms` (the timer is cleared either way). */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The kinds of `responses`, in order. */
export function kinds(responses: readonly Response[]): string[] {
  return responses.map((response) => response.kind);
}

/** The test filter's failure policy: tempfail, so no mail is lost. */
export function tempfailOnError(): Decision {
  return {
    verdict: {
      kind: 'tempfail',
      reply: {
        code: 451,
        enhanced: '4.7.1',
        lines: ['Temporary failure while filtering; try again later'],
      },
    },
    modifications: [],
  };
}
