/**
 * Server-level fuzzing: fuzzed and malformed byte streams on their own connections, one at a
 * time and several at once, against an in-process MilterServer. Each connection must be closed
 * by the milter (a per-connection deadline catches one left hanging), what it wrote must match
 * the reference pipeline, and a well-formed conversation on a fresh connection must still get
 * the right verdict.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { WISHES } from '../../src/daemon/daemon.ts';
import type { Decision } from '../../src/filter/decision.ts';
import type { MessageFilter } from '../../src/filter/filter.ts';
import type { Message } from '../../src/message/message.ts';
import { TruncatedFrameError } from '../../src/milter/errors.ts';
import { encodeFrame } from '../../src/milter/frame.ts';
import { encodeResponse } from '../../src/milter/responses.ts';
import { anyBytes, frameArb } from '../fuzz/arbitraries.ts';
import { mutate, mutationArb } from '../fuzz/conversation.ts';
import { drive } from '../fuzz/drive.ts';
import { eventually, sendStream } from '../fuzz/raw-client.ts';
import type { SessionSpec } from '../fuzz/session-arbitraries.ts';
import { cutsArb, split } from '../fuzz/stream.ts';
import { type Harness, MAX_BODY_BYTES, plain, recordingFilter, startServer } from './harness.ts';

// Fixed so CI is deterministic; FUZZ_SEED explores other inputs locally.
const SEED = Number(process.env['FUZZ_SEED'] ?? 20240611);
/** A hang detector, not a speed requirement: far above what a close takes. */
const DEADLINE_MS = 5000;
const SEQUENTIAL = 60;
const CONCURRENT_BATCHES = 5;
const BATCH = 8;

/** Rejects mail whose Subject says SPAM, accepts the rest: a verdict a test can predict. */
function judge(message: Message): Decision {
  const spam = message.headers.some(
    (h) => h.name.toLowerCase() === 'subject' && h.value.includes('SPAM'),
  );
  return spam
    ? {
        verdict: { kind: 'reject', reply: { code: 550, enhanced: '5.7.1', lines: ['Spam'] } },
        modifications: [],
      }
    : { verdict: { kind: 'accept' }, modifications: [] };
}

const JUDGE: MessageFilter = { filter: (message) => Promise.resolve(judge(message)) };
/** The session settings the harness gives every connection. */
const SPEC: SessionSpec = { wishes: WISHES, maxBodyBytes: MAX_BODY_BYTES, gate: undefined };

/** Mutated Postfix conversations mostly; also random packets and plain garbage, cut into reads. */
const STREAMS: Buffer[][] = fc.sample(
  fc.oneof(
    { weight: 6, arbitrary: fc.tuple(mutationArb, cutsArb).map(([m, c]) => split(mutate(m), c)) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.array(frameArb, { maxLength: 8 }), cutsArb)
        .map(([frames, c]) =>
          split(Buffer.concat(frames.map((f) => encodeFrame(f.code, f.payload))), c),
        ),
    },
    { weight: 1, arbitrary: anyBytes(200).map((bytes) => [bytes]) },
  ),
  { seed: SEED, numRuns: SEQUENTIAL + CONCURRENT_BATCHES * BATCH },
);

describe('MilterServer under fuzzed connections', () => {
  const recorder = recordingFilter(JUDGE);
  let h: Harness;
  let port: number;
  before(async () => {
    // With the protocol trace on, so fuzzed commands also go through the trace formatter.
    h = await startServer(recorder.filter, { connection: { trace: true } });
    assert.ok('port' in h.address);
    port = h.address.port;
  });
  afterEach(() => eventually(() => h.server.connectionCount === 0, DEADLINE_MS, 'connections'));
  after(() => h.stop());

  /** Sends one stream; the milter must close it and write what the reference pipeline wrote. */
  async function fuzzOne(reads: readonly Buffer[]): Promise<void> {
    const model = drive(reads, { spec: SPEC, decide: judge });
    // Streams that end cleanly or mid-packet get our FIN; the others must be closed by the milter.
    const fin = model.end === 'eof' || model.error instanceof TruncatedFrameError;
    const { received, closed } = await sendStream({ port }, reads, {
      fin,
      deadlineMs: DEADLINE_MS,
    });
    const what = `${model.end} ${model.error?.code ?? ''} stream ${Buffer.concat(reads).toString('hex')}`;
    assert.ok(closed, `connection left open: ${what}`);
    const expected = Buffer.concat(model.responses.map(encodeResponse));
    // After QUIT or a clean EOF everything is flushed; a reset may lose the tail of what was written.
    if (model.end === 'error')
      assert.ok(received.equals(expected.subarray(0, received.length)), `replies: ${what}`);
    else assert.ok(received.equals(expected), `replies differ: ${what}`);
  }

  /** A whole message on a fresh connection gets the verdict its Subject calls for. */
  async function assertServing(spam: boolean): Promise<void> {
    const mta = await h.connectNegotiated();
    const subject = spam ? ' SPAM offer' : ' hello';
    const { eob } = await mta.message({ headers: [['Subject', subject]] });
    const verdict = spam ? { kind: 'replycode', text: '550 5.7.1 Spam' } : { kind: 'continue' };
    assert.deepEqual(plain(eob), [verdict]);
    await mta.quit();
  }

  it('closes each fuzzed connection and keeps serving, one connection at a time', async () => {
    for (const [i, reads] of STREAMS.slice(0, SEQUENTIAL).entries()) {
      await fuzzOne(reads);
      await assertServing(i % 2 === 0);
    }
  });

  it('closes fuzzed connections opened together while a good MTA is served', async () => {
    for (let b = 0; b < CONCURRENT_BATCHES; b++) {
      const from = SEQUENTIAL + b * BATCH;
      const batch = STREAMS.slice(from, from + BATCH);
      await Promise.all([...batch.map(fuzzOne), assertServing(b % 2 === 0)]);
      await assertServing(b % 2 === 1);
    }
  });

  it('refuses end-of-message before negotiation without running the filter', async () => {
    const filtered = recorder.messages.length;
    const { closed } = await sendStream({ port }, [encodeFrame(0x45)], {
      fin: false,
      deadlineMs: DEADLINE_MS,
    });
    assert.ok(closed);
    assert.equal(recorder.messages.length, filtered, 'the filter ran for an unnegotiated EOB');
    await assertServing(true);
  });

  it('logged no failure: every broken stream was a protocol warning', () => {
    assert.deepEqual(h.log.at('error'), []);
  });
});
