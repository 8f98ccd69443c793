/**
 * The miltertest tier: OpenDKIM's `miltertest` plays the MTA against one real Spamward daemon,
 * one Lua script per test (the scripts and their shared helpers live in ./miltertest/).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createGtubeFilter, GTUBE } from '../../src/filter/gtube-filter.ts';
import type { Message } from '../../src/message/message.ts';
import type { SpamwardProcess } from '../support/daemon.ts';
import { startSpamward } from '../support/daemon.ts';
import type { MiltertestResult } from '../support/miltertest.ts';
import { miltertestAvailable, runMiltertest } from '../support/miltertest.ts';
import { requireComponent } from '../support/require-component.ts';

const SCRIPT_DIR = fileURLToPath(new URL('miltertest/', import.meta.url));

/** Every script in SCRIPT_DIR with what it shows. */
const SCRIPTS: readonly (readonly [file: string, title: string])[] = [
  ['normal.lua', 'a plain message gets CONTINUE and exactly one X-Spamward: <version>'],
  ['gtube.lua', 'a GTUBE body gets REPLYCODE 550 5.7.1 at end-of-message'],
  ['two-messages.lua', 'several messages on one connection with ABORT between them'],
  ['abort-midmessage.lua', 'ABORT in the middle of a body discards the buffered body'],
  ['macros.lua', 'MACRO packets at every stage, some empty-valued, change nothing'],
  ['unknown.lua', 'unknown SMTP commands get CONTINUE'],
  ['split-gtube.lua', 'GTUBE split across BODY packets is still detected'],
  ['bodyfile-large.lua', '65536-byte BODY packets from mt.bodyfile are accepted'],
];

/** The version in package.json, which the daemon must put in X-Spamward. */
function packageVersion(): string {
  const url = new URL('../../package.json', import.meta.url);
  const pkg: unknown = JSON.parse(readFileSync(url, 'utf8'));
  assert.ok(typeof pkg === 'object' && pkg !== null && 'version' in pkg);
  assert.ok(typeof pkg.version === 'string');
  return pkg.version;
}

/** A message with only a body, for asking the filter what it decides. */
function bodyOnly(body: Buffer): Message {
  return {
    id: 'miltertest',
    client: { hostname: 'localhost', family: 'U', address: '', port: 0, helo: undefined },
    sender: undefined,
    recipients: [],
    headers: [],
    body,
    bodyBytes: body.length,
    bodyTruncated: false,
    macros: {},
  };
}

/**
 * The text after `550 5.7.1 ` in the daemon's GTUBE rejection. miltertest can only compare a
 * whole reply, so the wording comes from the filter itself; the wire encoding is what we test.
 */
async function gtubeReplyText(version: string): Promise<string> {
  const signal = AbortSignal.timeout(5_000);
  const { verdict } = await createGtubeFilter(version).filter(bodyOnly(GTUBE), signal);
  assert.ok(verdict.kind === 'reject' && verdict.reply !== undefined, 'GTUBE is rejected');
  const { code, enhanced, lines } = verdict.reply;
  assert.deepEqual([code, enhanced, lines.length], [550, '5.7.1', 1], 'a one-line 550 5.7.1');
  return lines[0] ?? '';
}

/** The last `count` lines of `text`. */
function tail(text: string, count: number): string {
  return text.trimEnd().split('\n').slice(-count).join('\n');
}

/** Everything needed to see why a script failed: its echoes, miltertest's errors, the daemon log. */
function failureReport(file: string, result: MiltertestResult, daemon: SpamwardProcess): string {
  return [
    `miltertest ${file} exited with status ${result.code}`,
    '--- miltertest stdout ---',
    result.stdout.trimEnd(),
    '--- miltertest stderr ---',
    result.stderr.trimEnd(),
    '--- daemon output (last 30 lines) ---',
    tail(daemon.output(), 30),
  ].join('\n');
}

describe('miltertest against the daemon', () => {
  const missing = miltertestAvailable();
  const version = packageVersion();
  let daemon: SpamwardProcess | undefined;
  let replyText = '';

  before(async () => {
    replyText = await gtubeReplyText(version);
    if (missing === null) daemon = await startSpamward();
  });

  after(async () => {
    await daemon?.stop();
  });

  it('lists every script in test/integration/miltertest/', () => {
    const onDisk = readdirSync(SCRIPT_DIR).filter((name) => name.endsWith('.lua'));
    assert.deepEqual(onDisk.sort(), SCRIPTS.map(([file]) => file).sort());
  });

  for (const [file, title] of SCRIPTS) {
    it(`${title} (${file})`, async (t) => {
      if (!requireComponent(t, 'miltertest', missing)) return;
      assert.ok(daemon, 'the daemon is running');
      const result = await runMiltertest(join(SCRIPT_DIR, file), {
        port: String(daemon.port),
        version,
        reply_text: replyText,
      });
      assert.equal(result.code, 0, failureReport(file, result, daemon));
    });
  }
});
