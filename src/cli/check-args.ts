/**
 * `spamward check`'s command line, pure: the flags, the `--exec CMD ARG…` tail, and the envelope
 * of a piped message when flags do not give it, from the variables the delivering program sets
 * and the trace headers the MTA wrote.
 *
 * Where the envelope comes from, first found wins:
 * - sender: `--from`; `$SENDER` (Postfix local(8) and pipe-run commands, Courier's local mail
 *   filters); the first `Return-Path:` (Postfix local(8) and pipe(8) flag R, Courier, Dovecot's
 *   LDA input); else the null sender.
 * - recipients: `--rcpt…`; `$RECIPIENT` (Postfix local(8)); the first `Delivered-To:` (Postfix
 *   local(8), pipe(8) flag D); the first `X-Original-To:` (Postfix local(8)); `$LOGNAME` /
 *   `$USER` (maildrop exports LOGNAME, procmail and login shells set both; a bare user name);
 *   else the user running the command.
 * - client: `--ip`, `--helo`, `--hostname`, `--auth`; `$CLIENT_ADDRESS`, `$CLIENT_HELO`,
 *   `$CLIENT_HOSTNAME`, `$SASL_USERNAME` (Postfix local(8) since 2.2); `$TCPREMOTEIP`,
 *   `$TCPREMOTEHOST` (Courier, ucspi-tcp); else an unknown client, which no trust rule matches.
 * maildrop in delivery mode does not pass its caller's environment on, so under maildrop the
 * headers and LOGNAME are what is left. `--no-env` ignores the variables altogether.
 */
import { isIP } from 'node:net';
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import type { HeaderField } from '../message/message.ts';
import type { RawEnvelope } from '../message/parse-raw.ts';
import { ENVELOPE_OPTIONS } from './envelope-options.ts';
import { CliUsageError } from './output.ts';

/** Largest message read by default (64 MiB); a larger one is passed on unscanned, whole. */
export const DEFAULT_MAX_INPUT_BYTES = 64 * 1024 * 1024;

/** What the filtered message turns into. */
export type OutputMode =
  /** The message, with Spamward's changes, on stdout; exit 0 (a filter for maildrop, procmail). */
  | 'filter'
  /** As `filter`, but exit 1 for spam (spamc -E). */
  | 'exitcode'
  /** Only the SMTP reply text on stdout when the message is refused or spam; exit 1 then. */
  | 'reject-text'
  /** The message piped to a delivery agent; its exit code is ours. */
  | 'exec';

/** Envelope details given as flags (undefined: not given). */
export interface EnvelopeFlags {
  readonly from?: string | undefined;
  readonly rcpt?: readonly string[] | undefined;
  readonly ip?: string | undefined;
  readonly helo?: string | undefined;
  readonly hostname?: string | undefined;
  readonly auth?: string | undefined;
  readonly queueId?: string | undefined;
}

/** `check` in pipe mode. */
export interface PipeArgs {
  readonly kind: 'pipe';
  readonly configFile: string | undefined;
  readonly scanners: readonly string[] | undefined;
  readonly envelope: EnvelopeFlags;
  readonly useEnv: boolean;
  readonly input: string;
  readonly mode: OutputMode;
  /** The delivery agent's argv (mode `exec`), never run through a shell. */
  readonly exec: readonly string[];
  readonly maxInputBytes: number;
}

/** `check --verdict`: print the scanner's verdict instead of the message. */
export interface VerdictArgs {
  readonly kind: 'verdict';
  readonly configFile: string | undefined;
  readonly scanners: readonly string[];
  readonly envelope: EnvelopeFlags;
  readonly input: string;
  readonly json: boolean;
  readonly verb: string | undefined;
  readonly password: string | undefined;
  readonly user: string | undefined;
  readonly timeoutMs: number;
}

/** What `check` was asked. */
export type CheckArgs = PipeArgs | VerdictArgs | { readonly kind: 'help' };

const OPTIONS = {
  ...ENVELOPE_OPTIONS,
  'no-env': { type: 'boolean' },
  exitcode: { type: 'boolean', short: 'E' },
  'reject-text': { type: 'boolean' },
  'max-input-bytes': { type: 'string' },
  verdict: { type: 'boolean' },
  json: { type: 'boolean' },
  verb: { type: 'string' },
  password: { type: 'string' },
  user: { type: 'string' },
  'timeout-ms': { type: 'string' },
} as const;

/** Flags that take a value: the token after them is never `--exec`. */
const VALUED = new Set(
  Object.entries(OPTIONS).flatMap(([name, o]) =>
    o.type === 'string' ? [`--${name}`, ...('short' in o ? [`-${o.short}`] : [])] : [],
  ),
);

/** Splits `… --exec CMD ARG…` into check's own arguments and the command (null: no --exec). */
export function splitExec(args: readonly string[]): { own: string[]; exec: string[] | null } {
  for (let i = 0; i < args.length; i++) {
    const token = args[i] as string;
    if (token === '--') break;
    if (token === '--exec') return { own: args.slice(0, i), exec: args.slice(i + 1) };
    if (VALUED.has(token)) i++;
  }
  return { own: [...args], exec: null };
}

function positiveInt(text: string, flag: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || !Number.isSafeInteger(Number(text)))
    throw new CliUsageError(`${flag}: "${text}" is not a positive number`);
  return Number(text);
}

function checkAddress(address: string): void {
  if (/[\s\0]/.test(address.trim()))
    throw new CliUsageError(`"${address}" is not a mail address (no spaces)`);
}

/** Parses `check`'s arguments; throws CliUsageError (exit 64) on a mistake. */
export function parseCheckArgs(args: readonly string[]): CheckArgs {
  const { own, exec } = splitExec(args);
  const { values, positionals } = parseArgs({
    args: own,
    allowPositionals: true,
    strict: true,
    options: OPTIONS,
  });
  if (values.help === true) return { kind: 'help' };
  if (positionals.length > 1)
    throw new CliUsageError('check takes one FILE (or - for standard input)');
  if (exec !== null && exec.length === 0) throw new CliUsageError('--exec needs a command');
  if (exec !== null && exec[0] === '') throw new CliUsageError('--exec: empty command name');
  const ip = values.ip?.trim();
  if (ip !== undefined && isIP(ip.replace(/^\[(.*)\]$/, '$1').replace(/^ipv6:/i, '')) === 0)
    throw new CliUsageError(`--ip: "${ip}" is not an IP address`);
  const empty = (['helo', 'hostname', 'auth', 'queue-id'] as const).find((n) => values[n] === '');
  if (empty !== undefined) throw new CliUsageError(`--${empty} may not be empty`);
  for (const address of [values.from ?? '', ...(values.rcpt ?? [])]) checkAddress(address);
  if ((values.rcpt ?? []).some((r) => r.trim() === '' || r.trim() === '<>'))
    throw new CliUsageError('--rcpt may not be empty');
  const envelope: EnvelopeFlags = {
    from: values.from,
    rcpt: values.rcpt,
    ip,
    helo: values.helo,
    hostname: values.hostname,
    auth: values.auth,
    queueId: values['queue-id'],
  };
  const input = positionals[0] ?? '-';
  const verdictOnly = ['json', 'verb', 'password', 'user', 'timeout-ms'] as const;
  if (values.verdict === true) {
    const pipeOnly = ['exitcode', 'reject-text', 'max-input-bytes', 'no-env'] as const;
    const wrong = pipeOnly.find((n) => values[n] !== undefined);
    if (wrong !== undefined || exec !== null)
      throw new CliUsageError(`--verdict does not go with --${wrong ?? 'exec'}`);
    return {
      kind: 'verdict',
      configFile: values.config,
      scanners: values.scanner ?? [],
      envelope,
      input,
      json: values.json === true,
      verb: values.verb,
      password: values.password,
      user: values.user,
      timeoutMs: positiveInt(values['timeout-ms'] ?? '30000', '--timeout-ms'),
    };
  }
  const stray = verdictOnly.find((n) => values[n] !== undefined);
  if (stray !== undefined) throw new CliUsageError(`--${stray} needs --verdict`);
  if (exec !== null && (values.exitcode === true || values['reject-text'] === true))
    throw new CliUsageError('--exec passes the delivery agent’s exit code on: no --exitcode');
  const mode: OutputMode =
    exec !== null
      ? 'exec'
      : values['reject-text'] === true
        ? 'reject-text'
        : values.exitcode === true
          ? 'exitcode'
          : 'filter';
  return {
    kind: 'pipe',
    configFile: values.config,
    scanners: values.scanner,
    envelope,
    useEnv: values['no-env'] !== true,
    input,
    mode,
    exec: exec ?? [],
    maxInputBytes: positiveInt(
      values['max-input-bytes'] ?? String(DEFAULT_MAX_INPUT_BYTES),
      '--max-input-bytes',
    ),
  };
}

/** The address in a trace header value (`<a@b>`, ` a@b`, `<>`), or undefined if it is none. */
export function headerAddress(value: Buffer): string | undefined {
  const text = value
    .toString('latin1')
    .replace(/\r?\n[ \t]*/g, ' ')
    .trim();
  const angled = /<([^<>]*)>/.exec(text);
  const address = angled === null ? text : (angled[1] as string).trim();
  if (/[\s\0]/.test(address) || (angled === null && address === '')) return undefined;
  return address;
}

function firstHeader(headers: readonly HeaderField[], name: string): string | undefined {
  const field = headers.find((h) => h.name.toLowerCase() === name.toLowerCase());
  return field === undefined ? undefined : headerAddress(field.value);
}

/** A variable's value when set and not empty. */
function variable(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

function ipVariable(env: NodeJS.ProcessEnv, ...names: string[]): string | undefined {
  for (const name of names) {
    const value = variable(env, name)?.trim();
    if (value !== undefined && isIP(value.replace(/^ipv6:/i, '')) !== 0) return value;
  }
  return undefined;
}

/**
 * The envelope for a piped message: the flags, then (unless `useEnv` is false) the environment,
 * then the message's trace headers, as the module comment lists. Pure apart from the last-resort
 * user name.
 */
export function pipeEnvelope(
  flags: EnvelopeFlags,
  headers: readonly HeaderField[],
  env: NodeJS.ProcessEnv,
  useEnv = true,
): RawEnvelope {
  const vars: NodeJS.ProcessEnv = useEnv ? env : {};
  // Postfix sets SENDER to the empty string for the null sender: set-but-empty counts.
  const sender =
    flags.from ??
    (useEnv && env['SENDER'] !== undefined ? env['SENDER'] : undefined) ??
    firstHeader(headers, 'Return-Path') ??
    '';
  const recipient =
    variable(vars, 'RECIPIENT') ??
    firstHeader(headers, 'Delivered-To') ??
    firstHeader(headers, 'X-Original-To') ??
    variable(vars, 'LOGNAME') ??
    variable(vars, 'USER') ??
    userInfo().username;
  const remoteHost = variable(vars, 'TCPREMOTEHOST');
  return {
    clientAddress: flags.ip ?? ipVariable(vars, 'CLIENT_ADDRESS', 'TCPREMOTEIP') ?? '',
    clientName:
      flags.hostname ??
      variable(vars, 'CLIENT_HOSTNAME') ??
      (remoteHost === 'softdnserr' ? undefined : remoteHost),
    helo: flags.helo ?? variable(vars, 'CLIENT_HELO'),
    sender,
    recipients: flags.rcpt !== undefined && flags.rcpt.length > 0 ? flags.rcpt : [recipient],
    authUser: flags.auth ?? variable(vars, 'SASL_USERNAME'),
    queueId: flags.queueId,
  };
}
