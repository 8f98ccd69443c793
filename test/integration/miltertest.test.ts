/**
 * The miltertest tier: OpenDKIM's `miltertest` plays the MTA against one real Spamward daemon,
 * one Lua script per test (the scripts and their shared helpers live in ./miltertest/).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { SpamwardProcess } from '../support/daemon.ts';
import { startSpamward } from '../support/daemon.ts';
import type { MiltertestResult } from '../support/miltertest.ts';
import { miltertestAvailable, runMiltertest } from '../support/miltertest.ts';
import { requireComponent } from '../support/require-component.ts';

const SCRIPT_DIR = fileURLToPath(new URL('miltertest/', import.meta.url));

/** Every script in SCRIPT_DIR with what it shows. */
const SCRIPTS: readonly (readonly [file: string, title: string])[] = [
  ['normal.lua', 'a plain message gets CONTINUE and exactly one X-Spam-Checker-Version'],
  ['gtube.lua', 'a GTUBE body gets REPLYCODE 550 5.7.1 at end-of-message'],
  ['two-messages.lua', 'several messages on one connection with ABORT between them'],
  ['abort-midmessage.lua', 'ABORT in the middle of a body discards the buffered body'],
  ['macros.lua', 'MACRO packets at every stage, some empty-valued, change nothing'],
  ['unknown.lua', 'unknown SMTP commands get CONTINUE'],
  ['split-gtube.lua', 'GTUBE split across BODY packets is still detected'],
  ['bodyfile-large.lua', '65536-byte BODY packets from mt.bodyfile are accepted'],
];

/** The version in package.json, which the daemon puts in X-Spam-Checker-Version. */
function packageVersion(): string {
  const url = new URL('../../package.json', import.meta.url);
  const pkg: unknown = JSON.parse(readFileSync(url, 'utf8'));
  assert.ok(typeof pkg === 'object' && pkg !== null && 'version' in pkg);
  assert.ok(typeof pkg.version === 'string');
  return pkg.version;
}

/** The reject text the daemon is configured with (no placeholders, so miltertest can compare it). */
const REPLY_TEXT = 'Message rejected as spam';

/**
 * The daemon as these scripts expect it: the built-in engine (no scanner configured) rejecting
 * spam with a fixed text; nothing trusted, whatever client address a script announces.
 */
const DAEMON_ENV = {
  ...process.env,
  SPAMWARD_TRUST_NETWORKS: '',
  SPAMWARD_ACTIONS_REJECT: 'required + 0',
  SPAMWARD_ACTIONS_REJECT_REPLY_TEXT: REPLY_TEXT,
};

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
  const checker = `Spamward ${version} (builtin) on ${hostname()}`;

  before(async () => {
    if (missing === null) daemon = await startSpamward([], { env: DAEMON_ENV });
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
        checker,
        reply_text: REPLY_TEXT,
      });
      assert.equal(result.code, 0, failureReport(file, result, daemon));
    });
  }
});
