/** `spamward check --scanner URL [FILE|-]`: scan one message and print the verdict. */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { normalizeRawMessage } from '../message/normalize.ts';
import { ScannerError } from '../scanners/errors.ts';
import { createScanners, DEFAULT_POOL, type ScannerSettings } from '../scanners/factory.ts';
import type { Envelope } from '../scanners/scanner.ts';
import { SCAN_VERBS, type SpamdScanVerb } from '../scanners/spamd/protocol.ts';
import type { Verdict } from '../scanners/verdict.ts';
import { CliUsageError, print } from './output.ts';

const HELP = `Usage: spamward check --scanner URL [--scanner URL…] [options] [FILE|-]

Scans one message (a file, or standard input) and prints the verdict.
  --scanner URL        spamd://host:port, spamd:///path.sock, rspamd://host:port (repeat for a pool)
  --json               print the normalised verdict as JSON
  --verb VERB          spamd verb: ${SCAN_VERBS.join(', ')} (default SYMBOLS)
  --password PW        rspamd controller password (learning only)
  --from ADDR --rcpt ADDR --ip IP --helo NAME --hostname NAME --user NAME
                       envelope details the scanner should see
  --timeout-ms N       scan timeout (default 30000)
Exit: 0 scanned, 64 usage, 66 no input, 75 scanner failed (EX_TEMPFAIL).`;

/** A file that cannot be read: exit 66 (EX_NOINPUT). */
export class NoInputError extends Error {
  readonly code = 'NO_INPUT';
}

/** Runs `check`; resolves with the exit code. */
export async function checkCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      scanner: { type: 'string', multiple: true },
      json: { type: 'boolean' },
      verb: { type: 'string' },
      password: { type: 'string' },
      from: { type: 'string' },
      rcpt: { type: 'string', multiple: true },
      ip: { type: 'string' },
      helo: { type: 'string' },
      hostname: { type: 'string' },
      user: { type: 'string' },
      'timeout-ms': { type: 'string' },
    },
  });
  if (values.help === true) {
    print(`${HELP}\n`);
    return 0;
  }
  const urls = values.scanner ?? [];
  if (urls.length === 0)
    throw new CliUsageError('check needs --scanner URL (the built-in engine is not available yet)');
  if (positionals.length > 1)
    throw new CliUsageError('check takes one FILE (or - for standard input)');
  const verb = values.verb;
  if (verb !== undefined && !SCAN_VERBS.includes(verb as SpamdScanVerb)) {
    throw new CliUsageError(`--verb: "${verb}" is not one of ${SCAN_VERBS.join(', ')}`);
  }
  const timeoutText = values['timeout-ms'] ?? '30000';
  if (!/^\d+$/.test(timeoutText) || Number(timeoutText) < 1)
    throw new CliUsageError(`--timeout-ms: "${timeoutText}" is not a positive number`);
  const settings: ScannerSettings = {
    scanTimeoutMs: Number(timeoutText),
    ...(verb === undefined ? {} : { spamdVerb: verb as SpamdScanVerb }),
    ...(values.password === undefined ? {} : { rspamdPassword: values.password }),
  };
  const scanner = createScanners(urls, settings, DEFAULT_POOL);
  const message = normalizeRawMessage(await readInput(positionals[0] ?? '-'));
  const envelope: Envelope = {
    recipients: values.rcpt ?? [],
    ...(values.from === undefined ? {} : { sender: values.from }),
    ...(values.ip === undefined ? {} : { clientAddress: values.ip }),
    ...(values.helo === undefined ? {} : { helo: values.helo }),
    ...(values.hostname === undefined ? {} : { clientName: values.hostname }),
    ...(values.user === undefined ? {} : { prefsUser: values.user }),
  };
  try {
    const verdict = await scanner.scan(
      { message, envelope },
      AbortSignal.timeout(Number(timeoutText) + 1_000),
    );
    print(values.json === true ? `${verdictJson(verdict)}\n` : describeVerdict(verdict));
    return 0;
  } catch (error) {
    if (error instanceof ScannerError) {
      process.stderr.write(`spamward: ${error.code}: ${error.message}\n`);
      return 75;
    }
    throw error;
  }
}

async function readInput(path: string): Promise<Buffer> {
  try {
    return path === '-' ? await readStdin() : await readFile(path);
  } catch (error) {
    throw new NoInputError(`cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The verdict as JSON; rewritten message bytes are shown as text (latin1, byte for byte). */
export function verdictJson(verdict: Verdict): string {
  const { rewritten, ...rest } = verdict;
  const out =
    rewritten === undefined
      ? rest
      : { ...rest, rewritten: { kind: rewritten.kind, text: rewritten.bytes.toString('latin1') } };
  return JSON.stringify(out, null, 2);
}

/** A few human-readable lines: score, action, symbols. */
export function describeVerdict(v: Verdict): string {
  const lines = [
    `scanner: ${v.scanner}`,
    `score:   ${v.score} / ${v.required} (${v.isSpam ? 'spam' : 'ham'})`,
    `action:  ${v.action}`,
    `symbols: ${v.symbols.map((s) => (s.score === 0 ? s.name : `${s.name}(${s.score})`)).join(' ') || '(none)'}`,
  ];
  if (v.subject !== undefined) lines.push(`subject: ${v.subject}`);
  return `${lines.join('\n')}\n`;
}
