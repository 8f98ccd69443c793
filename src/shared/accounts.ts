/**
 * User and group names to numeric ids, from /etc/passwd and /etc/group (Node has no getpwnam).
 * Numeric ids are taken as they are.
 */
import { readFile } from 'node:fs/promises';

/** A user's uid and primary gid. */
export interface UserIds {
  readonly uid: number;
  readonly gid: number;
}

/** A name that is in neither /etc/passwd nor /etc/group. */
export class UnknownAccountError extends Error {
  readonly code = 'UNKNOWN_ACCOUNT';

  constructor(kind: 'user' | 'group', name: string) {
    super(`unknown ${kind} "${name}"`);
    this.name = 'UnknownAccountError';
  }
}

/** The uid and primary gid of `user` (a name, or a number whose gid is then the same number). */
export async function userIds(user: string): Promise<UserIds> {
  if (/^\d+$/.test(user)) return { uid: Number(user), gid: Number(user) };
  const entry = (await readFile('/etc/passwd', 'utf8'))
    .split('\n')
    .map((line) => line.split(':'))
    .find(([name]) => name === user);
  const [, , uid, gid] = entry ?? [];
  if (uid === undefined || gid === undefined) throw new UnknownAccountError('user', user);
  return { uid: Number(uid), gid: Number(gid) };
}

/** The gid of `group` (a name or a number). */
export async function groupId(group: string | number): Promise<number> {
  if (typeof group === 'number') return group;
  if (/^\d+$/.test(group)) return Number(group);
  const entry = (await readFile('/etc/group', 'utf8'))
    .split('\n')
    .map((line) => line.split(':'))
    .find(([name]) => name === group);
  const gid = entry?.[2];
  if (gid === undefined) throw new UnknownAccountError('group', group);
  return Number(gid);
}
