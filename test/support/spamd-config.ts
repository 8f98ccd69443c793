/**
 * The private spamd's files and command line: a temp dir with a copy of the site config (Bayes
 * under the temp dir, no auto-learning), spamd's HOME, a throwaway TLS certificate when openssl
 * is there, and the run directory (socket, pid file, logs). Nothing under /etc is modified.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { chmod, chown, copyFile, mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { findExecutable } from './which.ts';

/** The unprivileged user the Debian package creates; spamd refuses to scan as root. */
export const SPAMD_USER = 'debian-spamd';

/**
 * spamd users with preferences of their own (`User: lenient`): GTUBE's 1000 points are ham for
 * them, so a test can see that the user reached spamd. Users not listed get the site defaults.
 */
export const PREFS_USERS: Readonly<Record<string, string>> = { lenient: 'required_score 5000' };

/** Paths inside one instance's temp dir. */
export interface SpamdLayout {
  readonly dir: string;
  readonly site: string;
  readonly home: string;
  /** The `bayes_path` prefix (also what `sa-learn --dbpath` takes). */
  readonly bayesPath: string;
  readonly socket: string;
  readonly pidFile: string;
  readonly logFile: string;
  readonly stderrFile: string;
  /** Self-signed certificate and key for `--listen=ssl:…`, or null without openssl. */
  readonly tls: { readonly cert: string; readonly key: string } | null;
}

/** Ports of one launch attempt. */
export interface SpamdPorts {
  readonly tcp: number;
  readonly tls: number | null;
}

/** Fills `dir` (a fresh temp dir) with config, HOME, certificate and run directory. */
export async function createLayout(dir: string): Promise<SpamdLayout> {
  await chmod(dir, 0o755); // spamd's children run as debian-spamd and must reach home/
  const site = join(dir, 'site');
  const home = join(dir, 'home');
  const run = join(dir, 'run');
  await Promise.all([mkdir(site), mkdir(join(home, 'bayes'), { recursive: true }), mkdir(run)]);
  const etc = '/etc/spamassassin';
  const files = readdirSync(etc).filter((name) => name.endsWith('.cf') || name.endsWith('.pre'));
  await Promise.all(files.map((name) => copyFile(join(etc, name), join(site, name))));
  const bayesPath = join(home, 'bayes', 'bayes');
  // Loaded last (zz-): Bayes under the temp dir, no auto-learning so verdicts stay reproducible.
  const local = [`bayes_path ${bayesPath}`, 'bayes_file_mode 0777', 'bayes_auto_learn 0', ''];
  await writeFile(join(site, 'zz-spamward-test.cf'), local.join('\n'));
  const users = join(home, 'users');
  await mkdir(users);
  const prefsDirs: string[] = [];
  for (const [user, prefs] of Object.entries(PREFS_USERS)) {
    const userDir = join(users, user);
    await mkdir(userDir);
    await writeFile(join(userDir, 'user_prefs'), `${prefs}\n`);
    prefsDirs.push(userDir, join(userDir, 'user_prefs'));
  }
  const owner = spamdOwner();
  if (owner !== null) {
    for (const path of [home, join(home, 'bayes'), users, ...prefsDirs])
      await chown(path, owner.uid, owner.gid);
  }
  return {
    dir,
    site,
    home,
    bayesPath,
    socket: join(run, 'spamd.sock'),
    pidFile: join(run, 'spamd.pid'),
    logFile: join(run, 'spamd.log'),
    stderrFile: join(run, 'spamd.stderr'),
    tls: selfSignedCertificate(run),
  };
}

/** spamd's command line for one launch. */
export function spamdArgs(layout: SpamdLayout, ports: SpamdPorts): string[] {
  const args = [
    '--local', // -L: no DNS/network tests, so no lookup can time out
    '--nouser-config', // -x: no ~/.spamassassin/user_prefs
    // Per-user preferences by `User:` (what spamd's virtual users read): see PREFS_USERS.
    `--virtual-config-dir=${join(layout.home, 'users', '%u')}`,
    '--allow-tell', // -l: TELL (learning)
    `--helper-home-dir=${layout.home}`,
    `--siteconfigpath=${layout.site}`,
    `--listen=127.0.0.1:${ports.tcp}`,
    `--listen=${layout.socket}`,
    '--max-children=2',
    '--min-children=2',
    `--syslog=${layout.logFile}`, // a path: log to this file
    `--pidfile=${layout.pidFile}`,
  ];
  if (layout.tls !== null && ports.tls !== null) {
    args.push(
      `--listen=ssl:127.0.0.1:${ports.tls}`,
      `--server-cert=${layout.tls.cert}`,
      `--server-key=${layout.tls.key}`,
    );
  }
  // spamd refuses to scan as root ("still running as root! dying").
  if (spamdOwner() !== null) args.push(`--username=${SPAMD_USER}`, `--groupname=${SPAMD_USER}`);
  return args;
}

/** uid/gid of debian-spamd when running as root (spamd must drop root), else null. */
export function spamdOwner(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  const [, , uid, gid] = passwdEntry(SPAMD_USER)?.split(':') ?? [];
  if (uid === undefined || gid === undefined)
    throw new Error(`no ${SPAMD_USER} user in /etc/passwd`);
  return { uid: Number(uid), gid: Number(gid) };
}

/** Why spamd cannot run here, or null. */
export function checkAvailability(): string | null {
  for (const tool of ['spamd', 'sa-learn']) {
    if (findExecutable(tool) === null)
      return `${tool} not found (apt-get install spamassassin spamd)`;
  }
  const version = spawnSync(findExecutable('spamd') ?? 'spamd', ['--version'], {
    encoding: 'utf8',
  });
  if (version.status !== 0) return `spamd --version failed: ${version.stderr}`;
  if (process.getuid?.() === 0 && passwdEntry(SPAMD_USER) === undefined) {
    return `running as root but there is no ${SPAMD_USER} user for spamd to drop to`;
  }
  return null;
}

/** A loopback TCP port that was free a moment ago. */
export async function freeLoopbackPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', resolve);
  });
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port assigned');
  return address.port;
}

/** A throwaway P-256 certificate for 127.0.0.1 (the client trusts it as its CA), or null. */
function selfSignedCertificate(run: string): { cert: string; key: string } | null {
  const openssl = findExecutable('openssl');
  if (openssl === null) return null;
  const cert = join(run, 'tls-cert.pem');
  const key = join(run, 'tls-key.pem');
  const result = spawnSync(
    openssl,
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
      .concat(['-keyout', key, '-out', cert, '-days', '7', '-subj', '/CN=localhost'])
      .concat(['-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost']),
    { encoding: 'utf8' },
  );
  return result.status === 0 ? { cert, key } : null;
}

function passwdEntry(user: string): string | undefined {
  return readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith(`${user}:`));
}
