/**
 * `spamward check --verdict`: scan one message and print the scanner's verdict (text, or the
 * normalised verdict with `--json`); no policy, nothing delivered. With `--scanner URL…` those
 * scanners are asked directly; without, the configured ones (or the built-in engine).
 */
import { createReadStream } from 'node:fs';
import { loadConfig } from '../config/load.ts';
import { buildScannerPool } from '../daemon/scanner-pool.ts';
import { normalizeRawMessage } from '../message/normalize.ts';
import { ScannerError } from '../scanners/errors.ts';
import { createScanners, DEFAULT_POOL, type ScannerSettings } from '../scanners/factory.ts';
import type { Envelope, Scanner } from '../scanners/scanner.ts';
import { SCAN_VERBS, type SpamdScanVerb } from '../scanners/spamd/protocol.ts';
import type { Verdict } from '../scanners/verdict.ts';
import type { VerdictArgs } from './check-args.ts';
import { NoInputError } from './check-errors.ts';
import { CliUsageError, print } from './output.ts';

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

/** The whole input (a file, or stdin for `-`). */
export async function readWhole(path: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of path === '-' ? process.stdin : createReadStream(path))
      chunks.push(chunk as Buffer);
  } catch (error) {
    throw new NoInputError(`cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
  return Buffer.concat(chunks);
}

async function verdictScanner(args: VerdictArgs): Promise<Scanner> {
  if (args.scanners.length === 0) {
    const { config, warnings } = await loadConfig({ file: args.configFile, env: process.env });
    for (const warning of warnings) process.stderr.write(`spamward: warning: ${warning}\n`);
    return buildScannerPool(config.scanner);
  }
  const { verb } = args;
  if (verb !== undefined && !SCAN_VERBS.includes(verb as SpamdScanVerb))
    throw new CliUsageError(`--verb: "${verb}" is not one of ${SCAN_VERBS.join(', ')}`);
  const settings: ScannerSettings = {
    scanTimeoutMs: args.timeoutMs,
    ...(verb === undefined ? {} : { spamdVerb: verb as SpamdScanVerb }),
    ...(args.password === undefined ? {} : { rspamdPassword: args.password }),
  };
  return createScanners(args.scanners, settings, DEFAULT_POOL);
}

/** Runs `check --verdict`; resolves with the exit code (0 scanned, 75 scanner failed). */
export async function verdictCommand(args: VerdictArgs): Promise<number> {
  const scanner = await verdictScanner(args);
  const message = normalizeRawMessage(await readWhole(args.input));
  const { envelope: e } = args;
  const envelope: Envelope = {
    recipients: e.rcpt ?? [],
    ...(e.from === undefined ? {} : { sender: e.from }),
    ...(e.ip === undefined ? {} : { clientAddress: e.ip }),
    ...(e.helo === undefined ? {} : { helo: e.helo }),
    ...(e.hostname === undefined ? {} : { clientName: e.hostname }),
    ...(args.user === undefined ? {} : { prefsUser: args.user }),
  };
  try {
    const verdict = await scanner.scan(
      { message, envelope },
      AbortSignal.timeout(args.timeoutMs + 1_000),
    );
    print(args.json ? `${verdictJson(verdict)}\n` : describeVerdict(verdict));
    return 0;
  } catch (error) {
    if (error instanceof ScannerError) {
      process.stderr.write(`spamward: ${error.code}: ${error.message}\n`);
      return 75;
    }
    throw error;
  } finally {
    await scanner.close?.();
  }
}
