import { execFile, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import {
  chmod,
  chown,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { findExecutable, isExecutable } from './which.ts';

/** What Postfix does when the milter is unreachable or misbehaves (`milter_default_action`). */
export type MilterDefaultAction = 'accept' | 'reject' | 'tempfail' | 'quarantine';

/** Options for a private Postfix instance. */
export interface PostfixOptions {
  /** Postfix milter address, e.g. `inet:127.0.0.1:10025`. */
  milter: string;
  /** `milter_default_action`; defaults to Postfix's own default, `tempfail`. */
  defaultAction?: MilterDefaultAction;
  /** Extra main.cf parameters, applied after (and overriding) the harness defaults. */
  settings?: Record<string, string>;
}

/** A running private Postfix instance. */
export interface PostfixInstance {
  /** The loopback port smtpd listens on (127.0.0.1). */
  readonly smtpPort: number;
  /** The instance's temp directory (config, queue, data, maildir, maillog). */
  readonly dir: string;
  /** Mail to any address in this domain is delivered to the instance's Maildir. */
  readonly domain: string;
  /** Waits until `count` not-yet-returned messages are delivered and returns their raw bytes, oldest first. */
  waitForDelivery(count?: number, timeoutMs?: number): Promise<Buffer[]>;
  /** Returns (without waiting) every delivered message not returned before. */
  takeDeliveries(): Promise<Buffer[]>;
  /** Number of messages still in Postfix's queue (incoming, active, deferred, hold). */
  queueSize(): Promise<number>;
  /** The instance's maillog (Postfix logs here, not to syslog), for diagnostics. */
  log(): Promise<string>;
  /** Stops Postfix, makes sure all its processes are gone and removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

/** Recipient domain delivered locally by every instance. */
export const TEST_DOMAIN = 'inbox.spamward.test';

/**
 * uid/gid the virtual(8) agent delivers as (Debian's nobody/nogroup). virtual refuses uids below
 * `virtual_minimum_uid` (100), so root cannot be used; the uid needs no passwd entry.
 */
const MAIL_UID = 65534;
const MAIL_GID = 65534;

/** Daemons the harness's master.cf runs (from `daemon_directory`). */
const DAEMONS = [
  'master',
  'smtpd',
  'cleanup',
  'qmgr',
  'pickup',
  'trivial-rewrite',
  'bounce',
  'error',
  'virtual',
  'proxymap',
  'anvil',
  'postlogd',
];

/** Queue subdirectories that hold messages not yet delivered. */
const QUEUES = ['maildrop', 'incoming', 'active', 'deferred', 'hold'];

const START_ATTEMPTS = 3;
const COMMAND_TIMEOUT_MS = 30_000;

interface Layout {
  dir: string;
  config: string;
  queue: string;
  data: string;
  mail: string;
  maildirNew: string;
  maillog: string;
}

interface Live {
  layout: Layout;
  masterPid: number | null;
}

let availability: string | null | undefined;
const live = new Set<Live>();

/** Returns why a private Postfix instance cannot run here (missing binaries, not root), or null. */
export function postfixAvailable(): string | null {
  availability ??= checkAvailability();
  return availability;
}

/** Starts a private, loopback-only Postfix instance in a fresh temp dir, using the given milter. */
export async function startPostfix(options: PostfixOptions): Promise<PostfixInstance> {
  const missing = postfixAvailable();
  if (missing !== null) throw new Error(`cannot start Postfix: ${missing}`);
  const layout = await createLayout();
  const state: Live = { layout, masterPid: null };
  live.add(state);
  try {
    await writeConfig(join(layout.config, 'main.cf'), mainCf(layout, options));
    const smtpPort = await startOnFreePort(layout);
    state.masterPid = await readMasterPid(layout);
    return instance(state, smtpPort);
  } catch (error) {
    await stopInstance(state);
    throw error;
  }
}

/** A loopback TCP port that was free a moment ago (nothing listens on it). */
export async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port assigned');
  return address.port;
}

function checkAvailability(): string | null {
  const postfix = findExecutable('postfix');
  const postconf = findExecutable('postconf');
  if (postfix === null || postconf === null) return 'postfix/postconf not found in PATH or sbin';
  const result = spawnSync(postconf, ['-dh', 'daemon_directory'], { encoding: 'utf8' });
  if (result.status !== 0) return `postconf -dh daemon_directory failed: ${result.stderr}`;
  const daemonDir = result.stdout.trim();
  const absent = DAEMONS.filter((name) => !isExecutable(join(daemonDir, name)));
  if (absent.length > 0) return `missing Postfix daemons in ${daemonDir}: ${absent.join(', ')}`;
  if (process.getuid?.() !== 0) return 'cannot start a private instance without root';
  return null;
}

/** Creates the temp dir tree: config, queue and Maildir base (Postfix creates the rest). */
async function createLayout(): Promise<Layout> {
  const dir = await mkdtemp(join(tmpdir(), 'spamward-postfix-'));
  // mkdtemp creates 0700; Postfix daemons run as mail_owner and must reach the queue inside.
  await chmod(dir, 0o755);
  const layout: Layout = {
    dir,
    config: join(dir, 'config'),
    queue: join(dir, 'queue'),
    data: join(dir, 'data'),
    mail: join(dir, 'mail'),
    maildirNew: join(dir, 'mail', 'Maildir', 'new'),
    maillog: join(dir, 'maillog'),
  };
  await Promise.all([mkdir(layout.config), mkdir(layout.queue), mkdir(layout.mail)]);
  await chown(layout.mail, MAIL_UID, MAIL_GID);
  return layout;
}

/** main.cf: isolated directories, loopback only, no DNS, virtual delivery to one Maildir, the milter. */
function mainCf(layout: Layout, options: PostfixOptions): string {
  const refuse = 'error:5.7.1 delivery outside the test domain is disabled';
  const settings: Record<string, string> = {
    compatibility_level: '3.6',
    queue_directory: layout.queue,
    data_directory: layout.data,
    // No syslog here: postlogd writes to this file; its path must match maillog_file_prefixes.
    maillog_file: layout.maillog,
    maillog_file_prefixes: layout.dir,
    myhostname: 'mx.spamward.test',
    mydomain: 'spamward.test',
    myorigin: '$myhostname',
    mydestination: '',
    inet_interfaces: '127.0.0.1',
    inet_protocols: 'ipv4',
    mynetworks: '127.0.0.0/8',
    smtp_dns_support_level: 'disabled',
    smtpd_peername_lookup: 'no',
    alias_maps: '',
    alias_database: '',
    local_recipient_maps: '',
    biff: 'no',
    virtual_mailbox_domains: TEST_DOMAIN,
    virtual_mailbox_base: layout.mail,
    virtual_mailbox_maps: 'static:Maildir/',
    virtual_uid_maps: `static:${MAIL_UID}`,
    virtual_gid_maps: `static:${MAIL_GID}`,
    default_transport: refuse,
    relay_transport: refuse,
    local_transport: refuse,
    in_flow_delay: '0s',
    smtpd_error_sleep_time: '0s',
    smtpd_milters: options.milter,
    milter_protocol: '6',
    milter_default_action: options.defaultAction ?? 'tempfail',
    milter_connect_timeout: '2s',
    milter_command_timeout: '5s',
    milter_content_timeout: '15s',
    ...options.settings,
  };
  return Object.entries(settings)
    .map(([name, value]) => `${name} = ${value}\n`)
    .join('');
}

/**
 * Writes a config file backdated by a minute. Postfix treats a main.cf modified in the last ~2 s
 * as "hot" (maybe still being edited) and re-reads it every 300 ms until it cools down, which
 * would add ~2.4 s to every fresh instance's start.
 */
async function writeConfig(path: string, text: string): Promise<void> {
  await writeFile(path, text);
  const past = new Date(Date.now() - 60_000);
  await utimes(path, past, past);
}

/** master.cf: only the services needed for SMTP in, virtual delivery out; no chroot anywhere. */
function masterCf(port: number): string {
  const services = [
    `127.0.0.1:${port} inet n - n - - smtpd`,
    'pickup unix n - n 60 1 pickup',
    'cleanup unix n - n - 0 cleanup',
    'qmgr unix n - n 300 1 qmgr',
    'rewrite unix - - n - - trivial-rewrite',
    'bounce unix - - n - 0 bounce',
    'defer unix - - n - 0 bounce',
    'trace unix - - n - 0 bounce',
    'error unix - - n - - error',
    'retry unix - - n - - error',
    'virtual unix - n n - - virtual',
    'proxymap unix - - n - - proxymap',
    'anvil unix - - n - 1 anvil',
    'postlog unix-dgram n - n - 1 postlogd',
  ];
  return services.map((line) => `${line}\n`).join('');
}

/** Picks a free port and starts Postfix on it, retrying if another process grabbed the port. */
async function startOnFreePort(layout: Layout): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const port = await freeLoopbackPort();
    await writeConfig(join(layout.config, 'master.cf'), masterCf(port));
    const result = await postfixCommand(layout, 'start');
    if (result.ok) return port;
    const log = await readLog(layout);
    if (attempt >= START_ATTEMPTS || !log.includes('Address already in use')) {
      throw new Error(`postfix start failed: ${result.output}\n--- maillog ---\n${log}`);
    }
  }
}

/** Runs `postfix -c CONFIG <command>`. */
function postfixCommand(layout: Layout, command: string): Promise<{ ok: boolean; output: string }> {
  const postfix = findExecutable('postfix') ?? 'postfix';
  return new Promise((resolve) => {
    const args = ['-c', layout.config, command];
    execFile(postfix, args, { timeout: COMMAND_TIMEOUT_MS }, (error, stdout, stderr) => {
      resolve({ ok: error === null, output: `${stdout}${stderr}`.trim() });
    });
  });
}

async function readMasterPid(layout: Layout): Promise<number> {
  const text = await readFile(join(layout.queue, 'pid', 'master.pid'), 'utf8');
  const pid = Number.parseInt(text.trim(), 10);
  if (!Number.isInteger(pid) || pid <= 1)
    throw new Error(`bad master.pid: ${JSON.stringify(text)}`);
  return pid;
}

function readLog(layout: Layout): Promise<string> {
  return readFile(layout.maillog, 'utf8').catch(() => '');
}

function instance(state: Live, smtpPort: number): PostfixInstance {
  const { layout } = state;
  const taken = new Set<string>();
  const take = async (names: string[]): Promise<Buffer[]> => {
    for (const name of names) taken.add(name);
    return Promise.all(names.map((name) => readFile(join(layout.maildirNew, name))));
  };
  const fresh = async (): Promise<string[]> =>
    (await listDeliveries(layout)).filter((name) => !taken.has(name));
  let stopping: Promise<void> | undefined;
  return {
    smtpPort,
    dir: layout.dir,
    domain: TEST_DOMAIN,
    async waitForDelivery(count = 1, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const names = await fresh();
        if (names.length >= count) return take(names.slice(0, count));
        if (Date.now() >= deadline) {
          const queued = await queueSize(layout);
          throw new Error(
            `expected ${count} new delivered message(s) within ${timeoutMs} ms, found ${names.length} ` +
              `(${queued} still queued)\n--- maillog ---\n${await readLog(layout)}`,
          );
        }
        await sleep(25);
      }
    },
    async takeDeliveries() {
      return take(await fresh());
    },
    queueSize: () => queueSize(layout),
    log: () => readLog(layout),
    stop() {
      stopping ??= stopInstance(state);
      return stopping;
    },
  };
}

/** Delivered Maildir file names, oldest first. */
async function listDeliveries(layout: Layout): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(layout.maildirNew);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const stamped = await Promise.all(
    names.map(async (name) => ({
      name,
      mtime: (await stat(join(layout.maildirNew, name), { bigint: true })).mtimeNs,
    })),
  );
  stamped.sort((a, b) =>
    a.mtime === b.mtime ? a.name.localeCompare(b.name) : a.mtime < b.mtime ? -1 : 1,
  );
  return stamped.map((entry) => entry.name);
}

async function queueSize(layout: Layout): Promise<number> {
  let count = 0;
  for (const queue of QUEUES) {
    const entries = await readdir(join(layout.queue, queue), {
      recursive: true,
      withFileTypes: true,
    }).catch(() => []);
    count += entries.filter((entry) => entry.isFile()).length;
  }
  return count;
}

/** `postfix stop`, then wait for (or force) the end of every process in master's process group. */
async function stopInstance(state: Live): Promise<void> {
  const { layout, masterPid } = state;
  await postfixCommand(layout, 'stop'); // fails harmlessly when master is not running
  if (masterPid !== null) {
    if (!(await waitForGroupExit(masterPid, 5_000))) {
      killGroup(masterPid);
      if (!(await waitForGroupExit(masterPid, 2_000))) {
        throw new Error(`Postfix processes of group ${masterPid} survived SIGKILL`);
      }
    }
  }
  live.delete(state);
  await rm(layout.dir, { recursive: true, force: true, maxRetries: 3 });
}

async function waitForGroupExit(pgid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (groupAlive(pgid)) {
    if (Date.now() >= deadline) return false;
    await sleep(20);
  }
  return true;
}

/**
 * True while a non-zombie process of the group runs. master(8) leads its own process group and
 * all Postfix daemons inherit it. Zombies are ignored: in containers whose PID 1 does not reap
 * orphans, exited Postfix processes linger as zombies forever.
 */
function groupAlive(pgid: number): boolean {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return signalGroup(pgid, 0);
  }
  return pids.some((pid) => {
    const fields = procStat(pid);
    return fields !== null && fields.state !== 'Z' && fields.pgrp === pgid;
  });
}

function procStat(pid: string): { state: string; pgrp: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Format: "pid (comm) state ppid pgrp ..."; comm may contain spaces and parentheses.
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0] ?? '', pgrp: Number(rest[2]) };
  } catch {
    return null;
  }
}

function killGroup(pgid: number): void {
  signalGroup(pgid, 'SIGKILL');
}

function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Last-resort cleanup if the test process exits without calling stop(). */
process.once('exit', () => {
  const postfix = findExecutable('postfix');
  for (const { layout, masterPid } of live) {
    if (postfix !== null && masterPid !== null) {
      spawnSync(postfix, ['-c', layout.config, 'stop'], { stdio: 'ignore', timeout: 10_000 });
      if (groupAlive(masterPid)) killGroup(masterPid);
    }
    rmSync(layout.dir, { recursive: true, force: true });
  }
});
