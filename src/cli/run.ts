/**
 * `spamward run [SOCKET] [--config FILE] [flags]`: the milter daemon, until SIGTERM or SIGINT;
 * SIGHUP reloads the configuration.
 */
import { parseArgs } from 'node:util';
import { ConfigError } from '../config/errors.ts';
import { loadConfig } from '../config/load.ts';
import { createLogger, startDaemon } from '../daemon/daemon.ts';
import { print } from './output.ts';

const HELP = `Usage: spamward run [SOCKET] [--config FILE] [options]

Settings come from the defaults, then FILE (YAML), then SPAMWARD_* variables, then these flags
(see docs/configuration.md for every key):
  --config FILE                YAML configuration file
  --scanner URL                scanner URL, repeat for a pool (scanner.urls)
  --log-level LEVEL            fatal|error|warn|info|debug|trace|silent (logLevel)
  --socket-mode OCTAL          unix socket mode (socketMode)
  --socket-group GROUP         unix socket group (socketGroup)
  --user USER                  started as root: switch to USER after binding (user)
  --group GROUP                ... and to GROUP (group; default: USER's primary group)
  --allow-root                 keep running as root when no --user is given (allowRoot)
  --max-scan-bytes N           larger messages are not scanned (scan.maxScanBytes)
  --max-frame-bytes N          largest milter packet accepted (milter.maxFrameBytes)
  --filter-timeout-ms N        deadline for one message (milter.filterTimeoutMs)
  --idle-timeout-ms N          close an idle MTA connection (milter.idleTimeoutMs)
  --shutdown-grace-ms N        SIGTERM waits this long for messages in flight (milter.shutdownGraceMs)
  --dry-run                    decide and log, but change and reject nothing (dryRun)
  --verbose                    log the milter protocol trace (milter.trace; log level debug)
`;

/** Flags and the config key each one sets; numbers are parsed by the schema. */
const FLAGS = {
  'log-level': 'logLevel',
  'socket-mode': 'socketMode',
  'socket-group': 'socketGroup',
  user: 'user',
  group: 'group',
  'max-scan-bytes': 'scan.maxScanBytes',
  'max-frame-bytes': 'milter.maxFrameBytes',
  'filter-timeout-ms': 'milter.filterTimeoutMs',
  'idle-timeout-ms': 'milter.idleTimeoutMs',
  'shutdown-grace-ms': 'milter.shutdownGraceMs',
} as const;

/** What `run` was asked: a config file and flag values by config key. */
export interface RunArgs {
  readonly file: string | undefined;
  readonly flags: Readonly<Record<string, unknown>>;
}

/** Parses `run`'s arguments; throws (exit 64) on an unknown flag. */
export function parseRunArgs(args: string[]): RunArgs | 'help' {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      config: { type: 'string', short: 'c' },
      scanner: { type: 'string', multiple: true },
      'dry-run': { type: 'boolean' },
      verbose: { type: 'boolean', short: 'v' },
      'allow-root': { type: 'boolean' },
      ...Object.fromEntries(Object.keys(FLAGS).map((name) => [name, { type: 'string' as const }])),
    },
  });
  if (values.help === true) return 'help';
  const flags: Record<string, unknown> = {};
  if (positionals.length > 1)
    throw new TypeError(`run takes one SOCKET, got ${positionals.length}`);
  if (positionals[0] !== undefined) flags['socket'] = positionals[0];
  if (values.scanner !== undefined) flags['scanner.urls'] = values.scanner;
  if (values['dry-run'] === true) flags['dryRun'] = true;
  if (values['allow-root'] === true) flags['allowRoot'] = true;
  if (values.verbose === true) {
    flags['milter.trace'] = true;
    flags['logLevel'] = 'debug';
  }
  for (const [name, path] of Object.entries(FLAGS)) {
    const value = (values as Record<string, unknown>)[name];
    if (typeof value === 'string')
      flags[path] =
        /^\d+$/.test(value) && !path.startsWith('socket') && path !== 'user' && path !== 'group'
          ? Number(value)
          : value;
  }
  return { file: values.config, flags };
}

/** Runs the daemon; resolves with the exit code once it has stopped. */
export async function runCommand(args: string[]): Promise<number> {
  const parsed = parseRunArgs(args);
  if (parsed === 'help') {
    print(HELP);
    return 0;
  }
  const sources = { file: parsed.file, env: process.env, flags: parsed.flags };
  const { config, warnings } = await loadConfig(sources);
  const log = createLogger(config);
  for (const warning of warnings) log.warn({}, warning);
  const daemon = await startDaemon(config, log);
  // SIGHUP: read the same file, variables and flags again; a config that fails keeps the old one.
  let reloading = Promise.resolve();
  const reload = (): void => {
    reloading = reloading.then(async () => {
      log.info({ file: parsed.file }, 'SIGHUP: reloading the configuration');
      try {
        const next = await loadConfig(sources);
        for (const warning of next.warnings) log.warn({}, warning);
        await daemon.reload(next.config);
      } catch (error) {
        const problems = error instanceof ConfigError ? error.problems : undefined;
        log.error({ err: error, problems }, 'reload refused; the running configuration stays');
      }
    });
  };
  process.on('SIGHUP', reload);
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (): void => {
      // A second signal: do not wait any longer.
      if (stopping) process.exit(1);
      stopping = true;
      process.off('SIGHUP', reload);
      daemon.stop().then(resolve, resolve);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  return 0;
}
