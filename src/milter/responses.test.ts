import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MalformedPacketError, UnknownCommandError } from './errors.ts';
import { encodeFrame, type Frame, FrameDecoder } from './frame.ts';
import {
  decodeResponse,
  encodeResponse,
  formatReplyText,
  type Response,
  replaceBody,
} from './responses.ts';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

function roundTrip(response: Response): Response {
  const frames: Frame[] = new FrameDecoder().push(encodeResponse(response));
  assert.equal(frames.length, 1);
  return decodeResponse(frames[0] as Frame);
}

/** Every reply, with byte-valued text fields so the decoded form compares equal. */
const EVERY_RESPONSE: readonly Response[] = [
  {
    kind: 'optneg',
    version: 6,
    actions: 0x11,
    protocol: 0x1c0080,
    macros: { 0: 'j {client_addr}', 5: 'i' },
  },
  { kind: 'optneg', version: 2, actions: 0x01, protocol: 0, macros: {} },
  { kind: 'accept' },
  { kind: 'continue' },
  { kind: 'discard' },
  { kind: 'reject' },
  { kind: 'tempfail' },
  { kind: 'skip' },
  { kind: 'progress' },
  { kind: 'shutdown' },
  { kind: 'replycode', text: b('550 5.7.1 no') },
  { kind: 'addheader', name: b('X-Spam-Flag'), value: b(' YES') },
  { kind: 'insheader', index: 0, name: b('X-Top'), value: Buffer.from(' üñï\n\tfolded') },
  { kind: 'chgheader', index: 2, name: b('Subject'), value: b('') },
  { kind: 'addrcpt', rcpt: b('<quarantine@example.org>') },
  { kind: 'addrcpt_par', rcpt: b('<a@example.org>'), args: [b('NOTIFY=NEVER')] },
  { kind: 'delrcpt', rcpt: b('<b@example.org>') },
  { kind: 'chgfrom', from: b('<>'), args: [] },
  { kind: 'replbody', chunk: Buffer.from([0, 1, 0xff, 0x0d, 0x0a]) },
  { kind: 'quarantine', reason: b('spam score 15.2') },
];

describe('responses', () => {
  it('round-trips every reply', () => {
    for (const response of EVERY_RESPONSE)
      assert.deepEqual(roundTrip(response), response, response.kind);
  });

  it('encodes the bytes the MTA expects', () => {
    assert.deepEqual(encodeResponse({ kind: 'continue' }), Buffer.from('0000000163', 'hex'));
    // 'h' "X-A\0" " 1\0"
    assert.deepEqual(
      encodeResponse({ kind: 'addheader', name: 'X-A', value: ' 1' }),
      Buffer.from('0000000868582d41002031' + '00', 'hex'),
    );
    // 'm' index 1 "Subject\0" "\0" (empty value deletes)
    assert.deepEqual(
      encodeResponse({ kind: 'chgheader', index: 1, name: 'Subject', value: '' }),
      Buffer.concat([Buffer.from('0000000e6d00000001', 'hex'), b('Subject\0\0')]),
    );
    // 'O' 6, actions, protocol, then stage 0 "j\0"
    assert.deepEqual(
      encodeResponse({
        kind: 'optneg',
        version: 6,
        actions: 0x101,
        protocol: 0x80,
        macros: { 0: 'j' },
      }),
      Buffer.from('000000134f' + '00000006' + '00000101' + '00000080' + '00000000' + '6a00', 'hex'),
    );
  });

  it('sends JS strings as UTF-8', () => {
    const packet = encodeResponse({ kind: 'addheader', name: 'X-T', value: 'ü' });
    assert.ok(packet.includes(Buffer.from([0xc3, 0xbc, 0x00])));
  });

  it('refuses a REPLBODY packet over 65,535 bytes', () => {
    assert.throws(
      () => encodeResponse({ kind: 'replbody', chunk: Buffer.alloc(65536) }),
      RangeError,
    );
  });

  it('rejects malformed and unknown replies', () => {
    assert.throws(() => decodeResponse({ code: 0x68, payload: b('X-A\0') }), MalformedPacketError);
    assert.throws(() => decodeResponse({ code: 0x6d, payload: b('\0\0') }), MalformedPacketError);
    assert.throws(
      () => decodeResponse({ code: 0x4f, payload: Buffer.alloc(12 + 3) }),
      MalformedPacketError,
    );
    assert.throws(() => decodeResponse({ code: 0x7a, payload: b('') }), UnknownCommandError);
    assert.equal(encodeFrame(0x7a).length, 5);
  });
});

describe('replaceBody', () => {
  it('splits a body into contiguous chunks of at most 65,535 bytes', () => {
    const body = Buffer.alloc(200_000);
    for (let i = 0; i < body.length; i++) body[i] = i % 251;
    const parts = replaceBody(body);
    assert.deepEqual(
      parts.map((p) => (p.kind === 'replbody' ? p.chunk.byteLength : -1)),
      [65535, 65535, 65535, 3395],
    );
    const joined = Buffer.concat(
      parts.map((p) => (p.kind === 'replbody' ? p.chunk : Buffer.alloc(0))),
    );
    assert.ok(joined.equals(body));
  });

  it('replaces with an empty body using one empty packet', () => {
    assert.deepEqual(replaceBody(Buffer.alloc(0)).length, 1);
  });
});

describe('formatReplyText', () => {
  it('builds a one-line reply', () => {
    assert.equal(formatReplyText(550, '5.7.1', ['Rejected as spam']), '550 5.7.1 Rejected as spam');
    assert.equal(formatReplyText(451, undefined, ['later']), '451 later');
  });

  it('builds a multi-line reply with CRLF and dashes', () => {
    assert.equal(
      formatReplyText(550, '5.7.1', ['one', 'two', 'three']),
      '550-5.7.1 one\r\n550-5.7.1 two\r\n550 5.7.1 three',
    );
  });

  it("doubles '%' (the MTA treats the text as a format string)", () => {
    assert.equal(formatReplyText(550, '5.7.1', ['100% spam']), '550 5.7.1 100%% spam');
  });

  it('refuses what the MTA would refuse', () => {
    assert.throws(() => formatReplyText(250, '2.0.0', ['fine']), RangeError);
    assert.throws(() => formatReplyText(550, '4.7.1', ['class mismatch']), RangeError);
    assert.throws(() => formatReplyText(550, '5.7.1', ['a\r\nb']), RangeError);
    assert.throws(() => formatReplyText(550, '5.7.1', []), RangeError);
    assert.throws(() => formatReplyText(550, '5.7.1', ['x'.repeat(980)]), RangeError);
  });
});
