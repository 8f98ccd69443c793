/**
 * The socket adapter's pipeline without the socket: reads → FrameDecoder → decodeCommand →
 * checked session. Throws an AssertionError for anything but the typed protocol errors.
 */
import assert from 'node:assert/strict';
import type { Decision } from '../../src/filter/decision.ts';
import type { Message } from '../../src/message/message.ts';
import { type Command, decodeCommand } from '../../src/milter/commands.ts';
import {
  EmptyFrameError,
  FrameTooLargeError,
  MalformedPacketError,
  type MilterProtocolError,
  TruncatedFrameError,
  UnknownCommandError,
} from '../../src/milter/errors.ts';
import { DEFAULT_MAX_FRAME_BYTES, type Frame, FrameDecoder } from '../../src/milter/frame.ts';
import type { Response } from '../../src/milter/responses.ts';
import type { SessionSpec } from './session-arbitraries.ts';
import { CheckedSession } from './session-model.ts';

/** How a stream ended: all read, QUIT, or a protocol error (the connection is closed). */
export interface DriveResult {
  readonly end: 'eof' | 'close' | 'error';
  readonly error: MilterProtocolError | undefined;
  /** Every reply the milter would have written, in order. */
  readonly responses: readonly Response[];
  readonly checked: CheckedSession;
}

/** Pipeline settings. */
export interface DriveOptions {
  readonly spec: SessionSpec;
  readonly decide: (message: Message) => Decision;
  readonly maxFrameBytes?: number;
  /** Check that a command sent while the filter runs is refused. */
  readonly probe?: boolean;
}

/** Feeds `reads` through the whole pipeline as the socket adapter does. */
export function drive(reads: readonly Uint8Array[], options: DriveOptions): DriveResult {
  const decoder = new FrameDecoder(options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES);
  const checked = new CheckedSession(options.spec, options.decide, options.probe ?? false);
  const responses: Response[] = [];
  const done = (end: DriveResult['end'], error?: MilterProtocolError): DriveResult => ({
    end,
    error,
    responses,
    checked,
  });
  for (const read of reads) {
    let frames: Frame[];
    try {
      frames = decoder.push(read);
    } catch (error) {
      assertOneOf(error, [EmptyFrameError, FrameTooLargeError], 'FrameDecoder.push');
      return done('error', error);
    }
    for (const frame of frames) {
      let command: Command;
      try {
        command = decodeCommand(frame);
      } catch (error) {
        assertOneOf(error, [MalformedPacketError, UnknownCommandError], 'decodeCommand');
        return done('error', error);
      }
      const outcome = checked.handle(command);
      if (outcome.kind === 'error') return done('error', outcome.error);
      if (outcome.kind === 'close') return done('close');
      responses.push(...outcome.responses);
    }
  }
  try {
    decoder.end();
  } catch (error) {
    assertOneOf(error, [TruncatedFrameError], 'FrameDecoder.end');
    return done('error', error);
  }
  return done('eof');
}

/** After a stream, the session still works: ABORT clears it, and a new message gets a verdict. */
export function assertSane(checked: CheckedSession): void {
  assert.deepEqual(checked.handle({ kind: 'abort' }), { kind: 'reply', responses: [] });
  assert.equal(checked.session.inTransaction, false, 'in a transaction after ABORT');
  const mail: Command = { kind: 'mail', address: Buffer.from('<a@example.org>'), args: [] };
  if (checked.session.negotiated === undefined) {
    assert.equal(checked.handle(mail).kind, 'error', 'MAIL accepted before negotiation');
    return;
  }
  const rcpt: Command = { kind: 'rcpt', address: Buffer.from('<b@example.net>'), args: [] };
  for (const command of [mail, rcpt, { kind: 'eob', chunk: Buffer.alloc(0) } as const]) {
    assert.equal(checked.handle(command).kind, 'reply', `${command.kind} after the stream`);
  }
  assert.equal(checked.session.inTransaction, false, 'in a transaction after end-of-message');
}

// biome-ignore lint/suspicious/noExplicitAny: error classes take different constructor arguments
type ErrorClass = abstract new (...args: any[]) => MilterProtocolError;

function assertOneOf(
  error: unknown,
  classes: readonly ErrorClass[],
  where: string,
): asserts error is MilterProtocolError {
  if (classes.some((c) => error instanceof c)) return;
  assert.fail(`${where} threw ${error instanceof Error ? error.stack : String(error)}`);
}
