#!/usr/bin/env node
import { VERSION } from '../version.ts';
/**
 * The `spamward` command line. Subcommands are a table; each parses its own flags with
 * node:util parseArgs and maps errors to exit codes (64 = usage, sysexits EX_USAGE).
 */
import { checkCommand } from './check.ts';
import { configCommand } from './config.ts';
import { explainCommand } from './explain.ts';
import { learnCommand } from './learn.ts';
import { CliUsageError, print, printError } from './output.ts';
import { runCommand } from './run.ts';

process.setSourceMapsEnabled(true);

const USAGE = `Usage: spamward <command> [options]

Commands:
  run [SOCKET]   run the milter daemon (default SOCKET inet:11332@127.0.0.1)
  check          filter one message as a pipe or LDA wrapper (--verdict: print the verdict)
  explain        show what the daemon would do with one message, step by step
  learn          teach the scanner spam or ham from message files, mboxes and Maildirs
  config         check, print or document the configuration
  version        print the version

SOCKET is inet:PORT@HOST, inet:HOST:PORT, inet6:PORT@HOST or unix:PATH.
Run 'spamward run --help' for the daemon's options.
`;

/** Subcommands by name. */
const COMMANDS: Readonly<Record<string, (args: string[]) => Promise<number>>> = {
  run: runCommand,
  check: checkCommand,
  explain: explainCommand,
  learn: learnCommand,
  config: configCommand,
  version: printVersion,
  help: async () => {
    print(USAGE);
    return 0;
  },
};

async function printVersion(): Promise<number> {
  print(`spamward ${VERSION}\n`);
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-V') return printVersion();
  if (name === undefined || name === '--help' || name === '-h') {
    print(USAGE);
    return name === undefined ? 64 : 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (command === undefined) throw new CliUsageError(`unknown command "${name}"\n\n${USAGE}`);
  return command(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.exitCode = printError(error);
  },
);
