/**
 * Session properties: random command sequences, valid Postfix-like conversations, and mutated
 * ones, fed to the state machine (mutations through the whole read → frame → decode pipeline).
 * Each step is checked against the reference model; afterwards the session must still work.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Decision } from '../../src/filter/decision.ts';
import type { Message } from '../../src/message/message.ts';
import type { Command } from '../../src/milter/commands.ts';
import { commandArb, optnegArb } from './arbitraries.ts';
import { conversationArb, mutate, mutationArb } from './conversation.ts';
import { assertSane, drive } from './drive.ts';
import { type FuzzProperty, fuzzProperty } from './run-property.ts';
import { decisionArb, type SessionSpec, sessionSpecArb } from './session-arbitraries.ts';
import { CheckedSession } from './session-model.ts';
import { cutsArb, split } from './stream.ts';

/** Plays the filter: hands out `decisions` in turn. */
export function decider(decisions: readonly Decision[]): (message: Message) => Decision {
  let next = 0;
  const fallback: Decision = { verdict: { kind: 'accept' }, modifications: [] };
  return () => decisions[next++ % Math.max(1, decisions.length)] ?? fallback;
}

const POSTFIX: Command = { kind: 'optneg', version: 6, actions: 0x1ff, protocol: 0x1fffff };

/** Usually negotiates first (Postfix's offer or any other), then any commands in any order. */
const sequenceArb: fc.Arbitrary<Command[]> = fc
  .tuple(
    fc.oneof(
      fc.constant([POSTFIX]),
      optnegArb.map((c) => [c]),
      fc.constant([]),
    ),
    fc.array(commandArb, { maxLength: 40 }),
  )
  .map(([head, tail]) => [...head, ...tail]);

const randomSequences = fc.property(
  sessionSpecArb,
  sequenceArb,
  fc.array(decisionArb, { maxLength: 3 }),
  fc.boolean(),
  (spec: SessionSpec, commands, decisions, probe) => {
    const checked = new CheckedSession(spec, decider(decisions), probe);
    for (const command of commands) {
      const outcome = checked.handle(command);
      if (outcome.kind === 'error') return;
      if (outcome.kind === 'close') break;
    }
    assertSane(checked);
  },
);

/** Untouched conversations never fail; mutated ones fail only with typed errors. */
const mutatedConversations = fc.property(
  sessionSpecArb,
  mutationArb,
  cutsArb,
  fc.array(decisionArb, { maxLength: 3 }),
  (spec, mutation, cuts, decisions) => {
    const result = drive(split(mutate(mutation), cuts), { spec, decide: decider(decisions) });
    const untouched = mutation.packetOps.length === 0 && mutation.byteOps.length === 0;
    if (untouched) assert.notEqual(result.end, 'error', String(result.error));
    if (result.end !== 'error') assertSane(result.checked);
  },
);

/** A valid conversation, read in any pieces, never fails and leaves a working session. */
const validConversations = fc.property(
  sessionSpecArb,
  conversationArb,
  cutsArb,
  fc.array(decisionArb, { maxLength: 3 }),
  (spec, commands, cuts, decisions) => {
    const stream = mutate({ commands, packetOps: [], byteOps: [] });
    const result = drive(split(stream, cuts), { spec, decide: decider(decisions), probe: true });
    assert.notEqual(result.end, 'error', String(result.error));
    assertSane(result.checked);
  },
);

/** The session properties with their long-run weights. */
export const SESSION_PROPERTIES: readonly FuzzProperty[] = [
  fuzzProperty('session on random command sequences', 3, randomSequences),
  fuzzProperty('session on valid conversations', 1, validConversations),
  fuzzProperty('session on mutated conversations', 4, mutatedConversations),
];
