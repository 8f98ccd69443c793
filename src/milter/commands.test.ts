import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Command, decodeCommand, encodeCommand } from './commands.ts';
import { MalformedPacketError, UnknownCommandError } from './errors.ts';
import { encodeFrame, type Frame, FrameDecoder } from './frame.ts';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

/** One example of every command, with 8-bit bytes and NULs where the protocol allows them. */
export const EVERY_COMMAND: readonly Command[] = [
  { kind: 'optneg', version: 6, actions: 0x1ff, protocol: 0x1fffff },
  {
    kind: 'macro',
    stage: 0x43,
    macros: [
      [b('j'), b('mx.example.org')],
      [b('{daemon_name}'), b('')],
    ],
  },
  { kind: 'macro', stage: 0x48, macros: [] },
  {
    kind: 'connect',
    hostname: b('[192.0.2.7]'),
    family: '4',
    port: 12345,
    address: b('192.0.2.7'),
  },
  { kind: 'connect', hostname: b('v6.example'), family: '6', port: 25, address: b('2001:db8::1') },
  { kind: 'connect', hostname: b('localhost'), family: 'L', port: 0, address: b('/run/smtp.sock') },
  { kind: 'connect', hostname: b('unknown'), family: 'U', port: 0, address: b('') },
  { kind: 'helo', name: b('client.example') },
  { kind: 'mail', address: b('<a@example.org>'), args: [b('SIZE=1000'), b('BODY=8BITMIME')] },
  { kind: 'mail', address: b('<>'), args: [] },
  { kind: 'rcpt', address: Buffer.from('<jürgen@example.de>'), args: [b('NOTIFY=NEVER')] },
  { kind: 'data' },
  { kind: 'header', name: b('Subject'), value: Buffer.from(' Grüße\n\tfolded') },
  { kind: 'header', name: b('X-Empty'), value: b('') },
  { kind: 'eoh' },
  { kind: 'body', chunk: Buffer.from([0, 0xff, 0x0d, 0x0a, 0x80]) },
  { kind: 'eob', chunk: b('') },
  { kind: 'eob', chunk: b('last chunk\r\n') },
  { kind: 'abort' },
  { kind: 'quit' },
  { kind: 'quit_nc' },
  { kind: 'unknown', line: b('XFOO') },
];

function decode(packet: Buffer): Command {
  const frames: Frame[] = new FrameDecoder().push(packet);
  assert.equal(frames.length, 1);
  return decodeCommand(frames[0] as Frame);
}

describe('commands', () => {
  it('round-trips every command through the wire', () => {
    for (const command of EVERY_COMMAND) {
      assert.deepEqual(decode(encodeCommand(command)), command, command.kind);
    }
  });

  it('decodes a CONNECT exactly as Postfix sends it', () => {
    // 'C' "[127.0.0.1]\0" '4' port 0xd431 (54321) "127.0.0.1\0"
    const bytes = Buffer.from(
      '0000001a 43 5b3132372e302e302e315d00 34 d431 3132372e302e302e3100'.replace(/ /g, ''),
      'hex',
    );
    assert.deepEqual(decode(bytes), {
      kind: 'connect',
      hostname: b('[127.0.0.1]'),
      family: '4',
      port: 54321,
      address: b('127.0.0.1'),
    });
  });

  it("strips Sendmail's IPv6: tag, in any case", () => {
    for (const tag of ['IPv6:', 'ipv6:', 'IPV6:']) {
      const packet = encodeFrame(0x43, b(`h\x006\x00\x19${tag}2001:db8::5\0`));
      const command = decode(packet);
      assert.equal(command.kind === 'connect' && command.address.toString(), '2001:db8::5');
    }
  });

  it('decodes an empty macro packet (Postfix sends just the stage byte)', () => {
    assert.deepEqual(decode(Buffer.from('0000000244' + '48', 'hex')), {
      kind: 'macro',
      stage: 0x48,
      macros: [],
    });
  });

  it('ignores an odd trailing macro name, as libmilter does', () => {
    const command = decode(encodeFrame(0x44, b('Mi\0ABC\0{orphan}\0')));
    assert.deepEqual(command, { kind: 'macro', stage: 0x4d, macros: [[b('i'), b('ABC')]] });
  });

  it('ignores bytes after the 12 of an OPTNEG', () => {
    const payload = Buffer.alloc(16);
    payload.writeUInt32BE(6, 0);
    assert.equal(decode(encodeFrame(0x4f, payload)).kind, 'optneg');
  });

  it('treats a BODYEOB payload as a last body chunk', () => {
    const command = decode(encodeFrame(0x45, b('tail')));
    assert.equal(command.kind === 'eob' && command.chunk.toString(), 'tail');
  });

  const malformed: [string, Buffer][] = [
    ['short OPTNEG', encodeFrame(0x4f, Buffer.alloc(11))],
    ['MACRO without stage', encodeFrame(0x44)],
    ['MACRO without final NUL', encodeFrame(0x44, b('Ci\0abc'))],
    ['CONNECT without NUL', encodeFrame(0x43, b('host'))],
    ['CONNECT without family', encodeFrame(0x43, b('host\0'))],
    ['CONNECT with unknown family', encodeFrame(0x43, b('host\0X\0\0a\0'))],
    ['CONNECT without port', encodeFrame(0x43, b('host\x004\x00'))],
    ['CONNECT address without NUL', encodeFrame(0x43, b('host\x004\x00\x19abc'))],
    ['HELO without NUL', encodeFrame(0x48, b('client'))],
    ['HELO empty', encodeFrame(0x48)],
    ['MAIL empty', encodeFrame(0x4d)],
    ['RCPT without NUL', encodeFrame(0x52, b('<a@b>'))],
    ['HEADER with one string', encodeFrame(0x4c, b('Subject\0'))],
    ['HEADER with three strings', encodeFrame(0x4c, b('a\0b\0c\0'))],
    ['UNKNOWN without NUL', encodeFrame(0x55, b('XFOO'))],
  ];
  for (const [name, packet] of malformed) {
    it(`rejects ${name} with MalformedPacketError`, () => {
      assert.throws(() => decode(packet), MalformedPacketError);
    });
  }

  it('rejects an unknown command byte', () => {
    assert.throws(
      () => decode(encodeFrame(0x5a)),
      (err: unknown) =>
        err instanceof UnknownCommandError &&
        err.byte === 0x5a &&
        err.code === 'MILTER_UNKNOWN_COMMAND',
    );
  });
});
