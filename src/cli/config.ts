/** `spamward config check|print|reference [--config FILE]`. */
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { loadConfig } from '../config/load.ts';
import { renderConfigReference } from '../config/reference.ts';
import type { Config } from '../config/schema.ts';
import { loadConfiguredAccessMap } from '../daemon/daemon.ts';
import { CliUsageError, print } from './output.ts';

const USAGE = `Usage: spamward config <check|print|reference> [--config FILE]
  check      validate the configuration (file + SPAMWARD_* variables + access map); exit 78 if invalid
  print      show the effective configuration as YAML (passwords hidden)
  reference  print the configuration reference (docs/configuration.md)`;

/** Runs a `config` subcommand; resolves with the exit code. */
export async function configCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } },
  });
  const [action] = positionals;
  if (values.help === true) {
    print(`${USAGE}\n`);
    return 0;
  }
  switch (action) {
    case 'reference':
      print(renderConfigReference());
      return 0;
    case 'check':
    case 'print': {
      const { config, warnings } = await loadConfig({ file: values.config, env: process.env });
      for (const warning of warnings) process.stderr.write(`spamward: warning: ${warning}\n`);
      // Files the configuration names are part of it: a broken access map fails the check too.
      if (action === 'check') await loadConfiguredAccessMap(config);
      print(
        action === 'check'
          ? `configuration ok${values.config === undefined ? '' : `: ${values.config}`}\n`
          : stringify(redact(config)),
      );
      return 0;
    }
    default:
      throw new CliUsageError(`config needs check, print or reference\n${USAGE}`);
  }
}

/** The configuration with secrets replaced, for printing and logging. */
export function redact(config: Config): Config {
  const password = config.scanner.rspamd.password;
  if (password === undefined) return config;
  return {
    ...config,
    scanner: { ...config.scanner, rspamd: { ...config.scanner.rspamd, password: '********' } },
  };
}
