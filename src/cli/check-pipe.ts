/**
 * `spamward check` in pipe mode: reads one message (up to a size cap), runs it through exactly
 * the daemon's filtering (`explainMessage`: access map, RCPT gate, ScanFilter, ConfiguredPolicy,
 * failure policy) and hands on the message with Spamward's changes, on stdout or to a delivery
 * agent run without a shell, as `check-outcome.ts` tabulates.
 */
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { hostname } from 'node:os';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { applyModifications } from '../actions/process-rewrite-apply.ts';
import { loadConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { loadConfiguredAccessMap } from '../daemon/daemon.ts';
import { renderMessage } from '../message/message.ts';
import { messageFromRaw, splitRawMessage } from '../message/parse-raw.ts';
import { headerKit } from '../policy/header-kit.ts';
import { ConfiguredPolicy } from '../policy/policy.ts';
import { randomRef } from '../policy/replies.ts';
import { assertNever } from '../shared/assert-never.ts';
import { VERSION } from '../version.ts';
import { type PipeArgs, pipeEnvelope } from './check-args.ts';
import { NoInputError } from './check-errors.ts';
import { pipeMessage } from './check-message.ts';
import { classifyDecision, EX, type PipeOutcome, pipeAction } from './check-outcome.ts';
import { configuredScanner, explainMessage } from './explain-run.ts';
import { RecordingScanner } from './explain-watch.ts';

/** The message could not be written to stdout or the delivery agent: exit 75, retried later. */
export class PipeOutputError extends Error {
  readonly code = 'PIPE_OUTPUT';
}

/** The `--exec` command could not be started or was killed: exit 75 (EX_TEMPFAIL). */
export class ExecFailedError extends Error {
  readonly code = 'EXEC_FAILED';
}

/** Standard streams and environment, replaceable in tests. */
export interface PipeIo {
  readonly stdin: Readable;
  readonly stdout: Writable;
  readonly warn: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
}

const PROCESS_IO: PipeIo = {
  stdin: process.stdin,
  stdout: process.stdout,
  warn: (text) => process.stderr.write(`spamward: ${text}\n`),
  env: process.env,
};

/** The input up to `cap` bytes; `rest` continues the stream when the input is larger. */
interface CappedInput {
  readonly head: Buffer;
  readonly rest: AsyncIterator<Buffer> | null;
}

async function readCapped(source: Readable, name: string, cap: number): Promise<CappedInput> {
  const chunks: Buffer[] = [];
  let size = 0;
  const iterator = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  try {
    for (;;) {
      const { value, done } = await iterator.next();
      if (done === true) return { head: Buffer.concat(chunks), rest: null };
      chunks.push(value);
      size += value.length;
      if (size > cap) return { head: Buffer.concat(chunks), rest: iterator };
    }
  } catch (error) {
    throw new NoInputError(`cannot read ${name}: ${(error as Error).message}`, { cause: error });
  }
}

async function* concat(head: readonly Buffer[], rest: AsyncIterator<Buffer> | null) {
  yield* head;
  if (rest === null) return;
  for (;;) {
    const { value, done } = await rest.next();
    if (done === true) return;
    yield value;
  }
}

/** Writes chunks with backpressure; stdout is left open. */
async function writeAll(chunks: AsyncIterable<Buffer>, dest: Writable, end: boolean) {
  await pipeline(Readable.from(chunks), dest, { end });
}

/** Runs the delivery agent with the message on its stdin; resolves with its exit code. */
export async function runDeliveryAgent(
  argv: readonly string[],
  chunks: AsyncIterable<Buffer>,
  warn: (text: string) => void,
): Promise<number> {
  const [command, ...args] = argv as [string, ...string[]];
  const child = spawn(command, args, { stdio: ['pipe', 'inherit', 'inherit'], shell: false });
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  try {
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
  } catch (error) {
    throw new ExecFailedError(`--exec ${command}: ${(error as Error).message}`, { cause: error });
  }
  try {
    await writeAll(chunks, child.stdin, true);
  } catch (error) {
    // The agent stopped reading (EPIPE); its exit code says whether it delivered.
    warn(`--exec ${command} did not read the whole message: ${(error as Error).message}`);
  }
  const { code, signal } = await closed;
  if (code === null) throw new ExecFailedError(`--exec ${command} was killed by ${signal}`);
  return code;
}

/** The bytes standing for the message in this outcome (see check-outcome.ts). */
function outcomeMessage(
  config: Config,
  outcome: PipeOutcome,
  raw: Buffer,
  run: { explanation: Awaited<ReturnType<typeof explainMessage>>; scanner: RecordingScanner },
  parsed: ReturnType<typeof messageFromRaw>,
  ref: string,
  warn: (text: string) => void,
): Buffer[] {
  switch (outcome.message) {
    case 'original':
      return [raw];
    case 'result': {
      const result = run.explanation.resultingMessage;
      if (result === null) return [raw];
      const bytes = Buffer.from(result.text, result.encoding === 'utf8' ? 'utf8' : 'latin1');
      const replaced = run.explanation.changes.some((c) => c['kind'] === 'replace-body');
      return pipeMessage(raw, bytes, replaced);
    }
    case 'tagged': {
      const verdict = run.scanner.verdict;
      if (verdict === undefined) return [raw];
      // The policy's own tag-only path: stamped as spam or ham, never refused, never redirected.
      const info = { version: VERSION, hostname: hostname() };
      const policy = new ConfiguredPolicy(config, info, headerKit(config, info), () => ref);
      let decision: ReturnType<ConfiguredPolicy['decide']>;
      try {
        decision = policy.decide(parsed.message, verdict, {
          mode: 'tag',
          reason: 'a pipe cannot refuse a message',
        });
      } catch (error) {
        // spamd's rewritten message could not be applied: hand the input on as it came.
        warn(`cannot tag the message: ${(error as Error).message}`);
        return [raw];
      }
      const { headers } = parsed.message;
      const body = parsed.parts.body;
      const rendered = renderMessage(applyModifications({ headers, body }, decision.modifications));
      const replaced = decision.modifications.some((m) => m.kind === 'replace-body');
      return pipeMessage(raw, rendered, replaced);
    }
    default:
      return assertNever(outcome.message);
  }
}

/** Runs `check` in pipe mode; resolves with the exit code. */
export async function pipeCommand(args: PipeArgs, io: PipeIo = PROCESS_IO): Promise<number> {
  const flags = args.scanners === undefined ? {} : { 'scanner.urls': args.scanners };
  const { config, warnings } = await loadConfig({ file: args.configFile, env: io.env, flags });
  for (const warning of warnings) io.warn(`warning: ${warning}`);
  const accessMap = await loadConfiguredAccessMap(config);
  const source = args.input === '-' ? io.stdin : createReadStream(args.input);
  const input = await readCapped(source, args.input, args.maxInputBytes);
  const deliver = async (chunks: AsyncIterable<Buffer>, exit: number): Promise<number> => {
    if (args.mode === 'exec') return runDeliveryAgent(args.exec, chunks, io.warn);
    try {
      await writeAll(chunks, io.stdout, false);
    } catch (error) {
      throw new PipeOutputError(`cannot write the message: ${(error as Error).message}`, {
        cause: error,
      });
    }
    return exit;
  };
  if (input.rest !== null) {
    io.warn(`message larger than ${args.maxInputBytes} bytes: passed on unscanned and unchanged`);
    return args.mode === 'reject-text' ? EX.OK : deliver(concat([input.head], input.rest), EX.OK);
  }
  const raw = input.head;
  const envelope = pipeEnvelope(args.envelope, splitRawMessage(raw).headers, io.env, args.useEnv);
  const parsed = messageFromRaw(raw, envelope, config.scan.maxScanBytes);
  const scanner = new RecordingScanner(configuredScanner(config).scanner);
  const ref = randomRef();
  const explanation = await explainMessage(config, parsed.message, parsed.parts.body, {
    accessMap,
    scanner,
    newRef: () => ref,
  }).finally(() => scanner.close());
  const outcome = classifyDecision(explanation, config);
  const action = pipeAction(outcome.class, args.mode);
  if (explanation.scan.status === 'failed')
    io.warn(`scan failed (${explanation.scan.code}): ${explanation.scan.error}`);
  switch (action.write) {
    case 'nothing':
      return action.exit;
    case 'reply':
      await writeAll(
        concat([Buffer.from(`${outcome.reply.join('\n')}\n`)], null),
        io.stdout,
        false,
      );
      return action.exit;
    case 'message': {
      const chunks = outcomeMessage(
        config,
        outcome,
        raw,
        { explanation, scanner },
        parsed,
        ref,
        io.warn,
      );
      return deliver(concat(chunks, null), action.exit);
    }
    default:
      return assertNever(action.write);
  }
}
