/**
 * Root handling for the daemon: refuse to run as root unless told to, or bind as root and then
 * switch to an unprivileged user and group, giving that user the socket and the data directory.
 */
import { chown, mkdir } from 'node:fs/promises';
import { ConfigError } from '../config/errors.ts';
import type { Config } from '../config/schema.ts';
import { groupId, UnknownAccountError, userIds } from '../shared/accounts.ts';

/** Who the daemon will run as after binding, when it switches. */
export interface Identity {
  readonly user: string;
  readonly uid: number;
  readonly gid: number;
}

/** True when this process runs as root. */
export function runningAsRoot(): boolean {
  return process.getuid?.() === 0;
}

/**
 * Checks the configuration against who we are, before anything is bound: as root, `user` is
 * needed unless `allowRoot`; not as root, `user` cannot be honoured. Returns the identity to
 * switch to, or undefined to stay as we are. Config mistakes are ConfigErrors naming the key.
 */
export async function plannedIdentity(config: Config): Promise<Identity | undefined> {
  const { user } = config;
  if (!runningAsRoot()) {
    if (user !== null && process.getuid?.() !== (await resolve(config)).uid)
      throw new ConfigError('user', [
        {
          path: 'user',
          reason: `switching to "${user}" needs root; start as root or drop the key`,
        },
      ]);
    return undefined;
  }
  if (user === null) {
    if (config.allowRoot) return undefined;
    throw new ConfigError('user', [
      {
        path: 'user',
        reason:
          'Spamward was started as root: set user (and group) to switch after binding, or allowRoot: true',
      },
    ]);
  }
  return resolve(config);
}

/** The user's uid and the gid to use (config.group, else the user's primary group). */
async function resolve(config: Config): Promise<Identity> {
  const user = config.user as string;
  try {
    const ids = await userIds(user);
    const gid = config.group === null ? ids.gid : await groupId(config.group);
    return { user, uid: ids.uid, gid };
  } catch (error) {
    if (!(error instanceof UnknownAccountError)) throw error;
    const path = error.message.includes('group') ? 'group' : 'user';
    throw new ConfigError(path, [{ path, reason: error.message }], { cause: error });
  }
}

/** Gives `identity` the paths it must write (created if missing), then switches to it for good. */
export async function switchTo(
  identity: Identity,
  paths: {
    readonly files: readonly string[];
    readonly dirs: readonly string[];
  },
): Promise<void> {
  for (const dir of paths.dirs) {
    await mkdir(dir, { recursive: true, mode: 0o750 });
    await chown(dir, identity.uid, identity.gid);
  }
  // Files (the unix socket) keep their group: socketGroup decides who may connect.
  for (const file of paths.files) await chown(file, identity.uid, -1);
  // Supplementary groups first, then the group, then the user: after setuid nothing else may.
  process.setgroups?.([identity.gid]);
  process.setgid?.(identity.gid);
  process.setuid?.(identity.uid);
}
