/**
 * `spamward explain [--config FILE] [--scanner URL…] --from A --rcpt B… --ip X … FILE|-`: runs one
 * message through the filtering the configuration builds and reports every step (envelope,
 * rules, scan, decision, changes, SMTP reply), as text or JSON. Exit 0 whatever the verdict.
 */
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { loadConfiguredAccessMap } from '../daemon/daemon.ts';
import { messageFromRaw, type RawEnvelope } from '../message/parse-raw.ts';
import { NoInputError } from './check.ts';
import { ENVELOPE_OPTIONS } from './envelope-options.ts';
import { explainMessage } from './explain-run.ts';
import { explanationText } from './explain-text.ts';
import { CliUsageError, print } from './output.ts';

const HELP = `Usage: spamward explain [--config FILE] [--scanner URL…] --from ADDR --rcpt ADDR [--rcpt ADDR…]
                        --ip IP [options] FILE|-

Shows what the daemon would do with one message (a file, or - for standard input): the envelope,
the rules that applied (trust, access map, bypass phrase, size), the scanner's verdict or why
there was no scan, the decision, the header/recipient/body changes and the SMTP reply.
The scanner is really asked; nothing is delivered or learned.
  --config FILE     YAML configuration file (as for run; SPAMWARD_* variables apply too)
  --scanner URL     scanner URL, repeat for a pool (overrides scanner.urls)
  --from ADDR       envelope sender ('' for the null sender)
  --rcpt ADDR       envelope recipient (repeat)
  --ip IP           client IP address
  --helo NAME       HELO/EHLO name
  --hostname NAME   client's verified host name (default: none, [IP])
  --auth USER       SMTP AUTH user
  --queue-id ID     MTA queue id (default: made up)
  --json            print the report as JSON
  --show-message    also print the message as it would be delivered
Exit: 0 report printed (whatever the verdict), 64 usage, 66 no input, 78 configuration error
(a bad --scanner URL included, as for run).`;

const OPTIONS = {
  ...ENVELOPE_OPTIONS,
  json: { type: 'boolean' },
  'show-message': { type: 'boolean' },
} as const;

/** What `explain` was asked. */
export interface ExplainArgs {
  readonly configFile: string | undefined;
  readonly scanners: readonly string[] | undefined;
  readonly envelope: RawEnvelope;
  readonly input: string;
  readonly json: boolean;
  readonly showMessage: boolean;
}

/** Parses `explain`'s arguments; throws CliUsageError (exit 64) on a mistake. */
export function parseExplainArgs(args: string[]): ExplainArgs | 'help' {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: OPTIONS,
  });
  if (values.help === true) return 'help';
  if (positionals.length !== 1)
    throw new CliUsageError(`explain takes one FILE (or - for standard input)\n\n${HELP}`);
  const missing = (['from', 'rcpt', 'ip'] as const).filter((name) => values[name] === undefined);
  if (missing.length > 0)
    throw new CliUsageError(`explain needs ${missing.map((m) => `--${m}`).join(', ')}\n\n${HELP}`);
  const ip = (values.ip as string).trim();
  const bare = ip.replace(/^\[(.*)\]$/, '$1').replace(/^ipv6:/i, '');
  if (isIP(bare) === 0) throw new CliUsageError(`--ip: "${ip}" is not an IP address`);
  const empty = (['helo', 'hostname', 'auth', 'queue-id'] as const).find((n) => values[n] === '');
  if (empty !== undefined) throw new CliUsageError(`--${empty} may not be empty`);
  for (const address of [values.from as string, ...(values.rcpt ?? [])]) {
    if (/[\s\0]/.test(address.trim()))
      throw new CliUsageError(`"${address}" is not a mail address (no spaces)`);
  }
  if ((values.rcpt ?? []).some((r) => r.trim() === '' || r.trim() === '<>'))
    throw new CliUsageError('--rcpt may not be empty');
  return {
    configFile: values.config,
    scanners: values.scanner,
    envelope: {
      clientAddress: ip,
      sender: values.from as string,
      recipients: values.rcpt ?? [],
      helo: values.helo,
      clientName: values.hostname,
      authUser: values.auth,
      queueId: values['queue-id'],
    },
    input: positionals[0] as string,
    json: values.json === true,
    showMessage: values['show-message'] === true,
  };
}

/** Runs `explain`; resolves with the exit code. */
export async function explainCommand(args: string[]): Promise<number> {
  const parsed = parseExplainArgs(args);
  if (parsed === 'help') {
    print(`${HELP}\n`);
    return 0;
  }
  const flags = parsed.scanners === undefined ? {} : { 'scanner.urls': parsed.scanners };
  const { config, warnings } = await loadConfig({
    file: parsed.configFile,
    env: process.env,
    flags,
  });
  for (const warning of warnings) process.stderr.write(`spamward: warning: ${warning}\n`);
  // As in the daemon, the access map belongs to the scanning policy, not the bootstrap filter.
  // As the daemon: the map applies whichever engine scores, the built-in one included.
  const accessMap = await loadConfiguredAccessMap(config);
  const raw = await readInput(parsed.input);
  const { message, parts } = messageFromRaw(raw, parsed.envelope, config.scan.maxScanBytes);
  const explanation = await explainMessage(config, message, parts.body, { accessMap });
  const text = parsed.json
    ? `${JSON.stringify(
        parsed.showMessage ? explanation : { ...explanation, resultingMessage: undefined },
        null,
        2,
      )}\n`
    : explanationText(explanation, parsed.showMessage);
  print(redactSecrets(text, config));
  return 0;
}

/** Hides the configured secrets (rspamd password, passwords in URLs) wherever they appear. */
export function redactSecrets(text: string, config: Config): string {
  const urls = [...config.scanner.urls, config.scanner.rspamd.controllerUrl ?? ''];
  const secrets = [
    config.scanner.rspamd.password,
    ...urls.map((url) => /^[a-z][a-z0-9+.-]*:\/\/[^@/?#]*?:([^@/?#]+)@/i.exec(url)?.[1]),
  ].filter((s): s is string => s !== undefined && s.length > 0);
  return secrets.reduce((out, secret) => out.replaceAll(secret, '********'), text);
}

async function readInput(path: string): Promise<Buffer> {
  try {
    if (path !== '-') return await readFile(path);
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  } catch (error) {
    throw new NoInputError(`cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
}
