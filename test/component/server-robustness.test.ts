/**
 * A misbehaving or vanishing MTA costs one connection, never the server: EOF mid-body, a
 * truncated packet, an HTTP request on the milter port, length 0, an unknown command byte, and an
 * MTA that stays silent past the idle timeout.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { encodeFrame } from '../../src/milter/frame.ts';
import { VERSION } from '../../src/version.ts';
import type { FakeMta } from '../support/fake-mta.ts';
import { type Harness, kinds, plain, recordingFilter, startServer } from './harness.ts';

const ACCEPTED = [
  { kind: 'addheader', name: 'X-Spamward', value: ` ${VERSION}` },
  { kind: 'continue' },
];

describe('a misbehaving MTA', () => {
  const recorder = recordingFilter();
  let h: Harness;
  before(async () => {
    h = await startServer(recorder.filter);
  });
  after(() => h.stop());

  /** A whole message on a fresh connection still works. */
  async function assertServing(): Promise<void> {
    const mta = await h.connectNegotiated();
    assert.deepEqual(plain((await mta.message()).eob), ACCEPTED);
    await mta.quit();
  }

  /** True when the server logged a protocol error with `code`. */
  const warned = (code: string): boolean => h.log.at('warn').some((e) => e.obj['code'] === code);

  it('survives EOF in the middle of the body and never filters that message', async () => {
    const before = recorder.messages.length;
    const mta = await h.connectNegotiated();
    const steps = await mta.run([
      {
        command: { kind: 'mail', address: Buffer.from('<a@example.org>'), args: [] },
        reply: false,
      },
      { command: { kind: 'body', chunk: Buffer.from('half a bo') }, reply: false },
    ]);
    assert.deepEqual(kinds(steps.steps), [], 'MAIL and BODY are not answered (NR_MAIL, NR_BODY)');
    mta.destroy();
    await mta.closed();
    await assertServing();
    assert.equal(recorder.messages.length, before + 1, 'only the second message was filtered');
    assert.deepEqual(h.log.at('error'), []);
  });

  it('closes on a truncated packet (length 100, 10 bytes, then EOF)', async () => {
    const mta = await h.connectNegotiated();
    const header = Buffer.alloc(4);
    header.writeUInt32BE(100, 0);
    await mta.sendRaw(Buffer.concat([header, Buffer.from('B123456789')]));
    await mta.close();
    assert.ok(warned('MILTER_FRAME_TRUNCATED'));
    await assertServing();
  });

  it('closes a connection that speaks HTTP while other connections keep working', async () => {
    const busy = await h.connectNegotiated();
    const first = await busy.run([
      {
        command: { kind: 'mail', address: Buffer.from('<a@example.org>'), args: [] },
        reply: false,
      },
      { command: { kind: 'rcpt', address: Buffer.from('<b@example.net>'), args: [] }, reply: true },
    ]);
    assert.deepEqual(kinds(first.steps), ['continue']);

    const http = await h.connect();
    // 'GET ' read as a length is 0x47455420, about 1.2 GB: refused before anything is allocated.
    await http.sendRaw(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    await http.closed();
    assert.deepEqual(http.unread, []);
    assert.ok(warned('MILTER_FRAME_TOO_LARGE'));

    const { eob } = await busy.message({ client: null, helo: null });
    assert.deepEqual(plain(eob), ACCEPTED);
    await busy.quit();
  });

  const garbage: readonly (readonly [string, string, (mta: FakeMta) => Promise<void>])[] = [
    ['a packet of length 0', 'MILTER_FRAME_EMPTY', (mta) => mta.sendRaw(Buffer.alloc(4))],
    [
      'an unknown command byte',
      'MILTER_UNKNOWN_COMMAND',
      (mta) => mta.sendRaw(encodeFrame(0x5a, Buffer.from('zzz'))),
    ],
    [
      'a malformed HEADER (no NUL)',
      'MILTER_MALFORMED_PACKET',
      (mta) => mta.sendRaw(encodeFrame(0x4c, Buffer.from('Subject'))),
    ],
  ];
  for (const [what, code, send] of garbage) {
    it(`closes the connection on ${what} and keeps serving`, async () => {
      const mta = await h.connectNegotiated();
      await send(mta);
      await mta.closed();
      assert.deepEqual(mta.unread, []);
      assert.ok(warned(code), `no ${code} warning`);
      await assertServing();
    });
  }
});

describe('an idle MTA', () => {
  it('is disconnected after idleTimeoutMs', async (t) => {
    const h = await startServer(undefined, { connection: { idleTimeoutMs: 100 } });
    t.after(() => h.stop());
    const mta = await h.connectNegotiated();
    const started = performance.now();
    await mta.closed(2000);
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 80 && elapsed < 1500, `closed after ${Math.round(elapsed)} ms`);
  });
});
