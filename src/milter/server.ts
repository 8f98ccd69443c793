/**
 * The milter listener: binds an inet or unix socket, serves each MTA connection, and stops
 * gracefully (stop accepting, let in-flight messages finish, then close).
 */
import { setMaxListeners } from 'node:events';
import { chmod, chown, lstat, unlink } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { MessageFilter } from '../filter/filter.ts';
import { groupId } from '../shared/accounts.ts';
import type { Logger } from '../shared/logger.ts';
import { type ConnectionOptions, serveConnection } from './connection.ts';
import { formatSocketAddress, type SocketAddress } from './socket-address.ts';

/** Listener settings. */
export interface MilterServerOptions {
  readonly address: SocketAddress;
  readonly connection: ConnectionOptions;
  /** Unix socket permissions (default 0o660: the MTA's group may connect, nobody else). */
  readonly unixMode?: number;
  /** Unix socket group, by name or number (e.g. `postfix`). */
  readonly unixGroup?: string | number;
}

/** A running milter listener. */
export class MilterServer {
  #filter: MessageFilter;
  #options: MilterServerOptions;
  readonly #log: Logger;
  readonly #server: Server;
  readonly #connections = new Set<Promise<void>>();
  readonly #draining = new AbortController();
  readonly #stopping = new AbortController();
  #nextId = 1;
  #bound: SocketAddress | undefined;

  constructor(filter: MessageFilter, options: MilterServerOptions, log: Logger) {
    this.#filter = filter;
    this.#options = options;
    this.#log = log;
    this.#server = createServer((socket) => this.#accept(socket));
    // Every open connection listens on these two server-wide signals (and removes its listeners
    // when it closes), so hundreds of listeners are expected, not a leak.
    setMaxListeners(0, this.#draining.signal, this.#stopping.signal);
  }

  /** The address actually bound (the real port when 0 was asked for). */
  get address(): SocketAddress | undefined {
    return this.#bound;
  }

  /**
   * Serves new connections with this filter and these connection settings (a reload); open
   * connections finish with what they started with. The listening address cannot change.
   */
  replace(filter: MessageFilter, connection: ConnectionOptions): void {
    this.#filter = filter;
    this.#options = { ...this.#options, connection };
  }

  /** Resolves when every connection open now has ended (later ones are not waited for). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.#connections]);
  }

  /** Number of open MTA connections. */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /** Binds the socket; resolves with the bound address. */
  async listen(): Promise<SocketAddress> {
    const address = this.#options.address;
    if (address.kind === 'unix') await removeStaleSocket(address.path);
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      const done = (): void => {
        this.#server.off('error', reject);
        resolve();
      };
      if (address.kind === 'unix') this.#server.listen(address.path, done);
      else this.#server.listen(address.port, address.host, done);
    });
    this.#server.on('error', (err) => this.#log.error({ err }, 'listener error'));
    if (address.kind === 'unix') {
      await chmod(address.path, this.#options.unixMode ?? 0o660);
      if (this.#options.unixGroup !== undefined)
        await chown(address.path, -1, await groupId(this.#options.unixGroup));
      this.#bound = address;
    } else {
      const bound = this.#server.address();
      if (bound === null || typeof bound === 'string')
        throw new Error('inet listener has no address');
      this.#bound = { kind: 'inet', host: address.host, port: bound.port };
    }
    return this.#bound;
  }

  /**
   * Stops: no new connections; idle connections close now, those inside a message finish it.
   * After `graceMs` whatever is left is cut (the MTA then applies its milter_default_action).
   */
  async close(graceMs: number): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#draining.abort();
    const timer = setTimeout(() => this.#stopping.abort(), graceMs);
    await Promise.allSettled([...this.#connections]);
    clearTimeout(timer);
    await closed;
    if (this.#bound?.kind === 'unix') await unlink(this.#bound.path).catch(() => undefined);
  }

  #accept(socket: Socket): void {
    if (this.#draining.signal.aborted) {
      socket.destroy();
      return;
    }
    const id = this.#nextId++;
    const log = this.#log.child({ conn: id });
    log.debug({ remote: socket.remoteAddress ?? 'unix' }, 'MTA connected');
    const served = serveConnection(socket, {
      filter: this.#filter,
      options: this.#options.connection,
      log,
      draining: this.#draining.signal,
      stopping: this.#stopping.signal,
    }).finally(() => {
      this.#connections.delete(served);
      log.debug({}, 'MTA disconnected');
    });
    this.#connections.add(served);
  }
}

/** Removes a leftover unix socket from a previous run; refuses to touch a live one or a non-socket. */
async function removeStaleSocket(path: string): Promise<void> {
  const stat = await lstat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (stat === undefined) return;
  if (!stat.isSocket()) throw new Error(`${path} exists and is not a socket; not removing it`);
  const live = await new Promise<boolean>((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (live)
    throw new Error(`${formatSocketAddress({ kind: 'unix', path })} is in use by another process`);
  await unlink(path);
}
