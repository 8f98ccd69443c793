/** `spamward run [SOCKET]`: the milter daemon, until SIGTERM or SIGINT. */
import { parseArgs } from 'node:util';
import { type DaemonConfig, DEFAULTS, type LogLevel } from '../daemon/config.ts';
import { startDaemon } from '../daemon/daemon.ts';
import { parseSocketAddress } from '../milter/socket-address.ts';
import { CliUsageError, print } from './output.ts';

/** The socket used when none is given. */
export const DEFAULT_SOCKET = 'inet:11332@127.0.0.1';

const HELP = `Usage: spamward run [SOCKET] [options]

  --log-level LEVEL            fatal|error|warn|info|debug|trace|silent (default ${DEFAULTS.logLevel})
  --socket-mode OCTAL          unix socket mode (default 660)
  --socket-group GROUP         unix socket group (e.g. postfix)
  --max-body-bytes N           body bytes kept for filtering (default ${DEFAULTS.maxBodyBytes})
  --max-frame-bytes N          largest milter packet accepted (default ${DEFAULTS.maxFrameBytes})
  --filter-timeout-ms N        deadline for one message's filtering (default ${DEFAULTS.filterTimeoutMs})
  --idle-timeout-ms N          close an MTA connection idle this long (default ${DEFAULTS.idleTimeoutMs})
  --shutdown-grace-ms N        how long SIGTERM waits for messages in flight (default ${DEFAULTS.shutdownGraceMs})
`;

const LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Parses flags into a DaemonConfig; throws CliUsageError naming the bad flag. */
export function parseRunArgs(args: string[]): DaemonConfig | 'help' {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      'log-level': { type: 'string' },
      'socket-mode': { type: 'string' },
      'socket-group': { type: 'string' },
      'max-body-bytes': { type: 'string' },
      'max-frame-bytes': { type: 'string' },
      'filter-timeout-ms': { type: 'string' },
      'idle-timeout-ms': { type: 'string' },
      'shutdown-grace-ms': { type: 'string' },
    },
  });
  if (values.help === true) return 'help';
  if (positionals.length > 1)
    throw new CliUsageError(`run takes one SOCKET, got ${positionals.length}`);
  const level = values['log-level'] ?? DEFAULTS.logLevel;
  if (!LEVELS.includes(level as LogLevel))
    throw new CliUsageError(`--log-level: "${level}" is not one of ${LEVELS.join(', ')}`);
  const mode = values['socket-mode'];
  if (mode !== undefined && !/^[0-7]{3,4}$/.test(mode))
    throw new CliUsageError(`--socket-mode: "${mode}" is not an octal mode like 660`);
  return {
    socket: parseSocketAddress(positionals[0] ?? DEFAULT_SOCKET),
    unixMode: mode === undefined ? DEFAULTS.unixMode : Number.parseInt(mode, 8),
    unixGroup: values['socket-group'],
    logLevel: level as LogLevel,
    maxBodyBytes: positive('--max-body-bytes', values['max-body-bytes'], DEFAULTS.maxBodyBytes),
    maxFrameBytes: positive('--max-frame-bytes', values['max-frame-bytes'], DEFAULTS.maxFrameBytes),
    filterTimeoutMs: positive(
      '--filter-timeout-ms',
      values['filter-timeout-ms'],
      DEFAULTS.filterTimeoutMs,
    ),
    idleTimeoutMs: positive('--idle-timeout-ms', values['idle-timeout-ms'], DEFAULTS.idleTimeoutMs),
    progressIntervalMs: DEFAULTS.progressIntervalMs,
    shutdownGraceMs: positive(
      '--shutdown-grace-ms',
      values['shutdown-grace-ms'],
      DEFAULTS.shutdownGraceMs,
    ),
  };
}

function positive(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text) || Number(text) < 1)
    throw new CliUsageError(`${flag}: "${text}" is not a positive whole number`);
  return Number(text);
}

/** Runs the daemon; resolves with the exit code once it has stopped. */
export async function runCommand(args: string[]): Promise<number> {
  let config: DaemonConfig | 'help';
  try {
    config = parseRunArgs(args);
  } catch (error) {
    if (
      error instanceof Error &&
      !(error instanceof CliUsageError) &&
      'code' in error &&
      String(error.code).startsWith('ERR_PARSE_ARGS')
    ) {
      throw new CliUsageError(error.message);
    }
    throw error;
  }
  if (config === 'help') {
    print(HELP);
    return 0;
  }
  const daemon = await startDaemon(config);
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (): void => {
      if (stopping) {
        // A second signal: do not wait any longer.
        process.exit(1);
      }
      stopping = true;
      daemon.stop().then(resolve, resolve);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  return 0;
}
