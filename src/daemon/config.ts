/**
 * The daemon's settings with their defaults, in one place. (A config file and environment
 * variables come with the policy engine; for now the CLI fills this in.)
 */
import { DEFAULT_MAX_FRAME_BYTES } from '../milter/frame.ts';
import type { SocketAddress } from '../milter/socket-address.ts';

/** Log levels pino understands. */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** Everything `spamward run` needs. */
export interface DaemonConfig {
  readonly socket: SocketAddress;
  readonly unixMode: number;
  readonly unixGroup: string | undefined;
  readonly logLevel: LogLevel;
  readonly maxFrameBytes: number;
  /** Body bytes kept for the filter per message. */
  readonly maxBodyBytes: number;
  readonly idleTimeoutMs: number;
  readonly filterTimeoutMs: number;
  readonly progressIntervalMs: number;
  /** How long SIGTERM waits for in-flight messages. */
  readonly shutdownGraceMs: number;
}

/** Defaults: the MTA's own limits decide most of them (Postfix: milter_content_timeout 300 s). */
export const DEFAULTS = {
  unixMode: 0o660,
  logLevel: 'info',
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
  maxBodyBytes: 512 * 1024, // like spamc's default size limit
  idleTimeoutMs: 600_000, // longer than Postfix's 300 s content timeout
  filterTimeoutMs: 120_000,
  progressIntervalMs: 10_000,
  shutdownGraceMs: 30_000,
} as const satisfies Partial<DaemonConfig>;
