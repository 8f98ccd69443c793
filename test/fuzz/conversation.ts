/**
 * Valid Postfix-like conversations built with the project's encoder, and the mutations applied
 * to them: packets dropped, duplicated, swapped or inserted; bytes flipped, set, inserted,
 * deleted, duplicated; the stream cut short.
 */
import fc from 'fast-check';
import { type Command, encodeCommand } from '../../src/milter/commands.ts';
import { encodeFrame } from '../../src/milter/frame.ts';
import { anyBytes, cBytes, commandArb, frameArb, u32 } from './arbitraries.ts';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

function macro(stage: string, pairs: Record<string, Buffer>): Command {
  const macros = Object.entries(pairs).map(([k, v]) => [b(k), v] as const);
  return { kind: 'macro', stage: stage.charCodeAt(0), macros };
}

interface MessageShape {
  readonly from: Buffer;
  readonly args: readonly Buffer[];
  readonly rcpts: readonly Buffer[];
  readonly headers: readonly (readonly [Buffer, Buffer])[];
  readonly body: readonly Buffer[];
  readonly queueId: Buffer;
  /** Cut the message here (modulo its length) and ABORT, as on an SMTP RSET or lost client. */
  readonly abortAt: number | undefined;
}

const messageArb: fc.Arbitrary<MessageShape> = fc.record({
  from: fc.oneof(fc.constant(b('<sender@example.org>')), fc.constant(b('<>')), cBytes()),
  args: fc.array(fc.constantFrom(b('SIZE=1234'), b('BODY=8BITMIME'), b('SMTPUTF8')), {
    maxLength: 2,
  }),
  rcpts: fc.array(fc.oneof(fc.constant(b('<rcpt@example.net>')), cBytes()), {
    minLength: 1,
    maxLength: 4,
  }),
  headers: fc.array(fc.tuple(fc.constantFrom(b('From'), b('Subject'), b('X-8bit')), cBytes(40)), {
    maxLength: 5,
  }),
  body: fc.array(anyBytes(200), { maxLength: 3 }),
  queueId: cBytes(10),
  abortAt: fc.oneof({ arbitrary: fc.constant(undefined), weight: 3 }, fc.nat()),
});

function messageCommands(m: MessageShape): Command[] {
  const out: Command[] = [
    macro('M', { i: m.queueId, '{mail_addr}': m.from }),
    { kind: 'mail', address: m.from, args: m.args },
  ];
  for (const rcpt of m.rcpts) {
    out.push(macro('R', { '{rcpt_addr}': rcpt }), { kind: 'rcpt', address: rcpt, args: [] });
  }
  out.push(macro('T', {}), { kind: 'data' });
  for (const [name, value] of m.headers) out.push({ kind: 'header', name, value });
  out.push(macro('N', {}), { kind: 'eoh' });
  for (const chunk of m.body) out.push(macro('B', {}), { kind: 'body', chunk });
  out.push(macro('E', { i: m.queueId }), { kind: 'eob', chunk: Buffer.alloc(0) });
  if (m.abortAt !== undefined) out.splice(m.abortAt % out.length);
  // Postfix sends ABORT after every message, finished or not.
  out.push({ kind: 'abort' });
  return out;
}

/** The commands of one Postfix (or Sendmail) milter connection, valid in every way. */
export const conversationArb: fc.Arbitrary<Command[]> = fc
  .record({
    offer: fc.oneof(
      fc.constant({ version: 6, actions: 0x1ff, protocol: 0x1fffff }),
      fc.record({ version: fc.integer({ min: 2, max: 6 }), actions: u32, protocol: u32 }),
    ),
    family: fc.constantFrom('4', '6', 'L', 'U' as const),
    address: fc.constantFrom(b('192.0.2.7'), b('IPv6:2001:db8::7'), b('/var/run/x')),
    helo: cBytes(),
    messages: fc.array(messageArb, { minLength: 1, maxLength: 3 }),
    ending: fc.constantFrom('quit', 'quit_nc', 'none'),
  })
  .map(({ offer, family, address, helo, messages, ending }) => {
    const out: Command[] = [
      { kind: 'optneg', ...offer },
      macro('C', { j: b('mx.example.org'), '{daemon_name}': b('smtpd') }),
      { kind: 'connect', hostname: b('[192.0.2.7]'), family, port: 25, address },
      macro('H', {}),
      { kind: 'helo', name: helo },
    ];
    for (const m of messages) out.push(...messageCommands(m));
    if (ending === 'quit') out.push({ kind: 'quit' });
    if (ending === 'quit_nc') out.push({ kind: 'quit_nc' }, { kind: 'helo', name: helo });
    return out;
  });

/** A change to the list of packets. */
export type PacketOp =
  | { readonly op: 'drop' | 'duplicate'; readonly at: number }
  | { readonly op: 'swap' | 'move'; readonly at: number; readonly to: number }
  | { readonly op: 'insert'; readonly at: number; readonly packet: Buffer };

/** A change to the byte stream. */
export type ByteOp =
  | { readonly op: 'flip'; readonly at: number; readonly bit: number }
  | { readonly op: 'set'; readonly at: number; readonly value: number }
  | { readonly op: 'insert'; readonly at: number; readonly bytes: Buffer }
  | { readonly op: 'delete' | 'duplicate'; readonly at: number; readonly length: number }
  | { readonly op: 'truncate'; readonly at: number };

const at = fc.nat();
const packetOpArb: fc.Arbitrary<PacketOp> = fc.oneof(
  fc.record({ op: fc.constantFrom('drop' as const, 'duplicate' as const), at }),
  fc.record({ op: fc.constantFrom('swap' as const, 'move' as const), at, to: at }),
  fc.record({
    op: fc.constant('insert' as const),
    at,
    packet: fc.oneof(
      commandArb.map(encodeCommand),
      frameArb.map((f) => encodeFrame(f.code, f.payload)),
    ),
  }),
);
const byteOpArb: fc.Arbitrary<ByteOp> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at, bit: fc.nat(7) }),
  fc.record({ op: fc.constant('set' as const), at, value: fc.nat(255) }),
  fc.record({ op: fc.constant('insert' as const), at, bytes: anyBytes(8) }),
  fc.record({
    op: fc.constantFrom('delete' as const, 'duplicate' as const),
    at,
    length: fc.nat(12),
  }),
  fc.record({ op: fc.constant('truncate' as const), at }),
);

/** A valid conversation and what to do to it. */
export interface Mutation {
  readonly commands: readonly Command[];
  readonly packetOps: readonly PacketOp[];
  readonly byteOps: readonly ByteOp[];
}

/** A conversation with up to three packet changes and up to three byte changes (maybe none). */
export const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  commands: conversationArb,
  packetOps: fc.array(packetOpArb, { maxLength: 3 }),
  // Half the time the framing stays intact, so the session sees whole (reordered) packets.
  byteOps: fc.oneof(fc.constant([]), fc.array(byteOpArb, { minLength: 1, maxLength: 3 })),
});

/** The byte stream a mutation describes. */
export function mutate(m: Mutation): Buffer {
  const packets = m.commands.map(encodeCommand);
  for (const op of m.packetOps) applyPacketOp(packets, op);
  let stream: Buffer = Buffer.concat(packets);
  for (const op of m.byteOps) stream = applyByteOp(stream, op);
  return stream;
}

function applyPacketOp(packets: Buffer[], op: PacketOp): void {
  if (op.op === 'insert') {
    packets.splice(op.at % (packets.length + 1), 0, op.packet);
    return;
  }
  if (packets.length === 0) return;
  const i = op.at % packets.length;
  const packet = packets[i] as Buffer;
  switch (op.op) {
    case 'drop':
      packets.splice(i, 1);
      return;
    case 'duplicate':
      packets.splice(i, 0, packet);
      return;
    case 'swap': {
      const j = op.to % packets.length;
      packets[i] = packets[j] as Buffer;
      packets[j] = packet;
      return;
    }
    case 'move':
      packets.splice(i, 1);
      packets.splice(op.to % (packets.length + 1), 0, packet);
  }
}

function applyByteOp(stream: Buffer, op: ByteOp): Buffer {
  const i = op.at % (stream.length + 1);
  const head = stream.subarray(0, i);
  switch (op.op) {
    case 'flip':
    case 'set': {
      if (i === stream.length) return stream;
      const out = Buffer.from(stream);
      out[i] = op.op === 'flip' ? (out[i] as number) ^ (1 << op.bit) : op.value;
      return out;
    }
    case 'insert':
      return Buffer.concat([head, op.bytes, stream.subarray(i)]);
    case 'delete':
      return Buffer.concat([head, stream.subarray(i + op.length)]);
    case 'duplicate':
      return Buffer.concat([stream.subarray(0, i + op.length), stream.subarray(i)]);
    case 'truncate':
      return head;
  }
}
