/**
 * The load generator: plays Postfix against a milter over TCP with `concurrency` parallel
 * workers, one connection per message (like an inbound MX) or several messages per connection
 * (ABORT after each end-of-message, QUIT at the end), until `count` messages or `durationMs`.
 * Every reply is checked (see verdict.ts); latency is per message, from the TCP connect (first
 * message of a connection) or from MAIL (later messages) to the final end-of-message reply.
 *
 * Run alone: node --import tsx bench/load-mta.ts --port P [--concurrency 4] [--count 2000]
 *   [--duration-ms N] [--per-connection 1] [--version 0.1.0]
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { Response } from '../src/milter/responses.ts';
import { type CorpusMessage, gtubeMessages, loadCorpus, sendOrder } from './corpus.ts';
import { MtaConnection } from './mta-connection.ts';
import {
  ABORT_PACKET,
  type Envelope,
  OPTNEG_PACKET,
  type OptNegReply,
  PostfixPeer,
  QUIT_PACKET,
  type Step,
} from './postfix.ts';
import { type Latency, latency } from './stats.ts';
import { checkStep, checkVerdict } from './verdict.ts';

/** One load run. */
export interface LoadOptions {
  readonly port: number;
  /** Loopback only (default 127.0.0.1). */
  readonly host?: string;
  readonly concurrency: number;
  /** 1: a new connection per message; N: up to N messages per connection. */
  readonly messagesPerConnection: number;
  /** Stop after this many messages (default: no count limit). */
  readonly count?: number;
  /** Stop starting messages after this long (default: no time limit); one of the two is required. */
  readonly durationMs?: number;
  /** Messages in sending order, reused round-robin. */
  readonly messages: readonly CorpusMessage[];
  /** The X-Spamward value expected, e.g. `0.1.0`. */
  readonly version: string;
  /** A connection silent this long fails (default 10 s). */
  readonly timeoutMs?: number;
  /** Judges the end-of-message replies (default: the daemon's exact verdict, `checkVerdict`). */
  readonly check?: EomCheck;
}

/** Null when the end-of-message replies are right, 'reject' when right and a refusal, else why not. */
export type EomCheck = (
  replies: readonly Response[],
  message: CorpusMessage,
) => string | 'reject' | null;

/** What one load run measured. */
export interface LoadResult {
  /** Messages answered with the expected verdict. */
  readonly ok: number;
  /** Messages with a wrong verdict, an unexpected reply, a timeout or a dropped connection. */
  readonly errors: number;
  /** Up to five distinct error texts. */
  readonly errorSamples: readonly string[];
  readonly rejected: number;
  readonly connections: number;
  readonly elapsedMs: number;
  /** `ok` messages per second. */
  readonly rate: number;
  readonly latency: Latency;
  /** The load client's CPU time over the run, as a fraction of one core. */
  readonly clientCpu: number;
}

/** The connection's CONNECT client and queue-id source. */
interface Counters {
  connection: number;
  message: number;
}

const counters: Counters = { connection: 0, message: 0 };
const peers = new Map<string, PostfixPeer>();

/** Opens a connection and negotiates as Postfix; the peer is shared by equal negotiations. */
export async function openSession(
  port: number,
  host: string,
  timeoutMs: number,
): Promise<{ conn: MtaConnection; peer: PostfixPeer; env: Envelope }> {
  const conn = await MtaConnection.open(port, host, timeoutMs);
  try {
    conn.write([OPTNEG_PACKET]);
    const [reply] = await conn.replies();
    if (reply?.kind !== 'optneg') throw new Error(`OPTNEG answered with ${reply?.kind}`);
    const peer = peerFor(reply);
    const n = ++counters.connection;
    const env = {
      clientAddr: `192.0.2.${1 + (n % 254)}`,
      clientPort: 1024 + (n % 60000),
      queueId: queueId(),
    };
    await runSteps(conn, peer.sessionSteps(env));
    return { conn, peer, env };
  } catch (error) {
    conn.destroy();
    throw error;
  }
}

/** Sends steps as Postfix would; returns the last reply group (the end-of-message one, if any). */
export async function runSteps(conn: MtaConnection, steps: readonly Step[]): Promise<Response[]> {
  let skipping = false;
  let last: Response[] = [];
  for (const [i, step] of steps.entries()) {
    if (skipping && step.body === true) continue;
    conn.write(step.packets);
    if (!step.reply) continue;
    last = await conn.replies();
    if (i === steps.length - 1 && step.what === 'E') break;
    const bad = checkStep(last, step.body === true);
    if (bad !== null) throw new Error(`${step.what}: ${bad}`);
    skipping = last[0]?.kind === 'skip';
  }
  return last;
}

/** A fresh Postfix-style queue id, e.g. `1000002A`. */
export function queueId(): string {
  return (0x10000000 + ++counters.message).toString(16).toUpperCase();
}

function peerFor(reply: OptNegReply): PostfixPeer {
  const key = `${reply.version}/${reply.actions}/${reply.protocol}/${JSON.stringify(reply.macros)}`;
  let peer = peers.get(key);
  if (peer === undefined) {
    peer = new PostfixPeer(reply);
    peers.set(key, peer);
  }
  return peer;
}

/** Runs one load run; never throws for per-message failures (they are counted). */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  if (options.count === undefined && options.durationMs === undefined)
    throw new RangeError('runLoad needs a count or a duration');
  const host = options.host ?? '127.0.0.1';
  const timeoutMs = options.timeoutMs ?? 10_000;
  const check: EomCheck =
    options.check ??
    ((replies, message) =>
      checkVerdict(replies, message.expect, options.version) ??
      (message.expect === 'reject' ? 'reject' : null));
  const samples: number[] = [];
  const errorSamples = new Set<string>();
  const closing = new Set<Promise<void>>();
  let claimed = 0;
  let errors = 0;
  let rejected = 0;
  let connections = 0;
  const started = performance.now();
  const cpuStart = process.cpuUsage();
  const stopAt = options.durationMs === undefined ? Infinity : started + options.durationMs;
  const claim = (): number => {
    if (claimed >= (options.count ?? Infinity) || performance.now() >= stopAt) return -1;
    return claimed++;
  };
  const fail = (error: unknown): void => {
    errors++;
    if (errorSamples.size < 5)
      errorSamples.add(error instanceof Error ? error.message : String(error));
  };

  const worker = async (): Promise<void> => {
    let index = claim();
    while (index >= 0) {
      const begun = performance.now();
      let session: Awaited<ReturnType<typeof openSession>> | undefined;
      try {
        session = await openSession(options.port, host, timeoutMs);
        connections++;
        const { conn, peer } = session;
        for (let k = 0; ; k++) {
          const message = options.messages[index % options.messages.length] as CorpusMessage;
          const from = k === 0 ? begun : performance.now();
          const env = { ...session.env, queueId: k === 0 ? session.env.queueId : queueId() };
          const replies = await runSteps(conn, peer.messageSteps(message, env));
          const bad = check(replies, message);
          if (bad === null || bad === 'reject') {
            samples.push(performance.now() - from);
            if (bad === 'reject') rejected++;
          } else fail(`${message.name}: ${bad}`);
          conn.write([ABORT_PACKET]);
          index = k + 1 < options.messagesPerConnection ? claim() : -1;
          if (index < 0) break;
        }
        // Postfix sends QUIT and closes at once; the close is awaited at the end of the run.
        const closed = conn.finish(QUIT_PACKET, timeoutMs);
        closing.add(closed);
        void closed.then(() => closing.delete(closed));
      } catch (error) {
        session?.conn.destroy();
        fail(error);
      }
      index = claim();
    }
  };

  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const elapsedMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuStart);
  await Promise.all(closing);
  return loadResult(samples, errors, errorSamples, rejected, connections, elapsedMs, cpu);
}

/** A run's result from its latency samples (ms), counts, wall time and the client's CPU use. */
export function loadResult(
  samples: readonly number[],
  errors: number,
  errorSamples: ReadonlySet<string>,
  rejected: number,
  connections: number,
  elapsedMs: number,
  cpu: NodeJS.CpuUsage,
): LoadResult {
  return {
    ok: samples.length,
    errors,
    errorSamples: [...errorSamples],
    rejected,
    connections,
    elapsedMs,
    rate: (samples.length * 1000) / elapsedMs,
    latency: latency(samples),
    clientCpu: (cpu.user + cpu.system) / 1000 / elapsedMs,
  };
}

/** The `version` in package.json (what X-Spam-Checker-Version names). */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** The standard message list: the shuffled corpus with a GTUBE message after every 100. */
export async function standardMessages(): Promise<CorpusMessage[]> {
  return sendOrder(await loadCorpus(), gtubeMessages(5), 100);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      host: { type: 'string', default: '127.0.0.1' },
      concurrency: { type: 'string', default: '4' },
      count: { type: 'string' },
      'duration-ms': { type: 'string' },
      'per-connection': { type: 'string', default: '1' },
      version: { type: 'string' },
    },
  });
  if (values.port === undefined) throw new Error('--port is required');
  if (!/^(127\.\d+\.\d+\.\d+|::1|localhost)$/.test(values.host))
    throw new Error('--host must be a loopback address');
  const result = await runLoad({
    port: Number(values.port),
    host: values.host,
    concurrency: Number(values.concurrency),
    messagesPerConnection: Number(values['per-connection']),
    ...(values['duration-ms'] === undefined ? {} : { durationMs: Number(values['duration-ms']) }),
    count:
      values.count === undefined && values['duration-ms'] === undefined
        ? 2000
        : Number(values.count ?? Infinity),
    messages: await standardMessages(),
    version: values.version ?? packageVersion(),
  });
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  process.exitCode = result.errors > 0 ? 1 : 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`load-mta: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
