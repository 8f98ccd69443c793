/**
 * Shared by the Postfix → Spamward → scanner tests: test messages, a rig of one Spamward with a
 * YAML config plus a private Postfix using it, and header parsing of delivered mail.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { type SpamwardProcess, startSpamward } from './daemon.ts';
import { dateHeaderNow } from './date.ts';
import { type PostfixInstance, postfixAvailable, startPostfix, TEST_DOMAIN } from './postfix.ts';
import { requireComponent } from './require-component.ts';
import { getRspamd, type RspamdInstance, rspamdAvailable } from './rspamd-server.ts';
import { swaksAvailable } from './smtp.ts';
import { getSpamd, type SpamdEndpoints, spamdAvailable } from './spamd-server.ts';

export const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';

/** A small message from alice@example.org to bob in the test domain. */
export function message(subject: string, body: string, extraHeaders: string[] = []): Buffer {
  return Buffer.from(
    [
      'From: Alice <alice@example.org>',
      `To: bob@${TEST_DOMAIN}`,
      `Subject: ${subject}`,
      `Date: ${dateHeaderNow()}`,
      `Message-ID: <${Math.random().toString(36).slice(2)}@example.org>`,
      ...extraHeaders,
      '',
      body,
      '',
    ].join('\r\n'),
  );
}

/** A plain ham message. */
export const HAM = message(
  'Lunch on Thursday',
  'Hi Bob,\r\n\r\nare we still on for lunch on Thursday at noon?\r\n\r\nAlice',
);
/** GTUBE, with extra header lines. */
export const SPAM = (extra: string[] = []) =>
  message('Test', `This is the GTUBE test string:\r\n${GTUBE}`, extra);

/** Unfolded headers of a delivered message, name (lower case) → values in order. */
export function headersOf(raw: Buffer): Map<string, string[]> {
  const text = raw.toString('utf8');
  const end = text.search(/\r?\n\r?\n/);
  const map = new Map<string, string[]>();
  for (const line of text.slice(0, end).split(/\r?\n(?![ \t])/)) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).toLowerCase();
    map.set(name, [
      ...(map.get(name) ?? []),
      line
        .slice(colon + 1)
        .replace(/\r?\n[ \t]+/g, ' ')
        .trim(),
    ]);
  }
  return map;
}

/** A Spamward and a private Postfix using it. */
export interface Rig {
  readonly daemon: SpamwardProcess;
  readonly postfix: PostfixInstance;
  stop(): Promise<void>;
}

/**
 * A Spamward with this YAML config, and a private Postfix using it as its milter. The test client
 * connects from loopback, which is trusted (not scanned) by default, so the rigs empty the trusted
 * networks unless the YAML sets `trust:` itself.
 */
export async function rig(
  dir: string,
  name: string,
  yaml: string,
  postfixSettings: Record<string, string> = {},
): Promise<Rig> {
  const file = join(dir, `${name}.yaml`);
  await writeFile(file, /^trust:/m.test(yaml) ? yaml : `${yaml}trust:\n  networks: []\n`);
  const daemon = await startSpamward(['--config', file]);
  const postfix = await startPostfix({
    milter: `inet:127.0.0.1:${daemon.port}`,
    settings: postfixSettings,
  });
  return {
    daemon,
    postfix,
    async stop() {
      await postfix.stop();
      await daemon.stop();
    },
  };
}

/** Runs `body`; on failure prints Spamward's output and Postfix's maillog. */
export async function diagnose(
  t: TestContext,
  r: Rig | undefined,
  body: () => Promise<void>,
): Promise<void> {
  try {
    await body();
  } catch (error) {
    if (r !== undefined) {
      t.diagnostic(`--- spamward ---\n${r.daemon.output()}`);
      t.diagnostic(`--- maillog ---\n${await r.postfix.log()}`);
    }
    throw error;
  }
}

/** Postfix, swaks and the scanner are installed (skips or fails the test otherwise). */
export const present = (t: TestContext, scanner: 'spamd' | 'rspamd'): boolean =>
  requireComponent(t, 'postfix', postfixAvailable()) &&
  requireComponent(t, 'swaks', swaksAvailable()) &&
  (scanner === 'spamd'
    ? requireComponent(t, 'spamd', spamdAvailable())
    : requireComponent(t, 'rspamd', rspamdAvailable()));

/**
 * The rigs of one test file: a temp dir, the scanners started on first use, and every rig made;
 * `close()` (in `after`) stops them all.
 */
export class RigSet {
  readonly #prefix: string;
  #dir = '';
  #spamd: SpamdEndpoints | undefined;
  #rspamd: RspamdInstance | undefined;
  readonly #rigs: Rig[] = [];

  constructor(prefix: string) {
    this.#prefix = prefix;
  }

  /** The temp dir (for config and map files); valid after `open()`. */
  get dir(): string {
    return this.#dir;
  }

  /** Makes the temp dir (call in `before`). */
  async open(): Promise<void> {
    this.#dir = await mkdtemp(join(tmpdir(), `spamward-${this.#prefix}-`));
  }

  /** A rig scanning with the shared spamd (YAML continues the `scanner:` section), or undefined when a part is missing. */
  async spamd(
    t: TestContext,
    name: string,
    yaml: string,
    postfixSettings: Record<string, string> = {},
  ): Promise<Rig | undefined> {
    if (!present(t, 'spamd')) return undefined;
    this.#spamd ??= await getSpamd();
    return this.#add(
      rig(this.#dir, name, `scanner:\n  urls: [${this.#spamd.tcpUrl}]\n${yaml}`, postfixSettings),
    );
  }

  /** A rig scanning with the shared rspamd, likewise. */
  async rspamd(t: TestContext, name: string, yaml: string): Promise<Rig | undefined> {
    if (!present(t, 'rspamd')) return undefined;
    this.#rspamd ??= await getRspamd();
    return this.#add(rig(this.#dir, name, `scanner:\n  urls: [${this.#rspamd.url}]\n${yaml}`));
  }

  /** A rig with a config of its own (no shared scanner). */
  custom(name: string, yaml: string): Promise<Rig> {
    return this.#add(rig(this.#dir, name, yaml));
  }

  async #add(pending: Promise<Rig>): Promise<Rig> {
    const made = await pending;
    this.#rigs.push(made);
    return made;
  }

  /** Stops every rig and the scanners this process started, and removes the temp dir. */
  async close(): Promise<void> {
    await Promise.allSettled(this.#rigs.map((r) => r.stop()));
    await this.#spamd?.stop?.();
    await this.#rspamd?.stop?.();
    if (this.#dir !== '') await rm(this.#dir, { recursive: true, force: true });
  }
}
