/**
 * rspamd's own milter as a peer of Spamward → rspamd: the proxy worker of the SAME rspamd instance
 * the bench starts (same main process, configuration, Redis and DNS stub; see
 * test/support/rspamd-config.ts `proxyMilterPort`), in milter mode with self-scan. Self-scan means
 * the proxy runs the rules in its own process instead of passing the message to the normal worker
 * Spamward talks to: one process parses milter and scans, where Spamward adds a hop over HTTP.
 */
import type { Response } from '../src/milter/responses.ts';
import type { PeerMilter } from './peer-measure.ts';
import { childPids, commandLine, treeCpuMs } from './peer-proc.ts';
import type { EomJudge } from './peers-load.ts';
import { describe, text } from './verdict.ts';

/** The proxy milter of the rspamd whose main process is `mainPid`, listening on `port`. */
export function rspamdProxyPeer(mainPid: number, port: number): PeerMilter {
  const worker = (): number | undefined =>
    childPids(mainPid).find((pid) => commandLine(pid).startsWith('rspamd: rspamd_proxy process'));
  if (worker() === undefined) throw new Error(`no rspamd_proxy worker under rspamd ${mainPid}`);
  return {
    label: 'rspamd proxy milter (self-scan)',
    port,
    judge: proxyJudge,
    cpu: () => {
      const pid = worker();
      return pid === undefined ? 0 : treeCpuMs(pid);
    },
    notes: [
      `- rspamd proxy milter: a \`worker "rspamd_proxy"\` in the same rspamd instance with \`milter = yes; timeout = 120s; count = 1; upstream "local" { default = yes; self_scan = yes; }\` (the stock \`spam_header = "X-Spam"\`, \`reject_message = "Spam message rejected"\`, no discard or quarantine on reject). With self-scan the proxy process runs the rules itself, so its "milter CPU" is milter work plus the scan, and "server CPU" is the rest of rspamd (main, controller, the idle normal worker; on the Spamward rows the normal worker's scans).`,
      '- Right answer from the proxy: exactly one `X-Rspamd-Action` header (proof of a scan; the milter_headers set of the test config) and what that action asks for: `no action` or `greylist` (a score band, 4–6; with the greylist module off nothing defers the message) → ACCEPT or CONTINUE, unmarked; `add header` → `X-Spam: Yes` then ACCEPT or CONTINUE; `rewrite subject` → a Subject change then ACCEPT or CONTINUE; `reject` → REPLYCODE `5xx` (rspamd refuses at its reject score, 15; Spamward here only tags, its reject is at required + 100). A 4xx, TEMPFAIL, DISCARD or another action (soft reject) is an error. Spam = any action but `no action` and `greylist`.',
    ],
    problems: () => [],
    stop: async () => {},
  };
}

/** rspamd_proxy in milter mode: the answer its X-Rspamd-Action header calls for. */
export const proxyJudge: EomJudge = {
  check(replies) {
    const bad = (why: string): string => `${why}: ${describe(replies)}`;
    if (replies.some((r) => r.kind === 'replbody')) return bad('unexpected body replacement');
    const actions = headerValues(replies, 'x-rspamd-action');
    if (actions.length !== 1) return bad('expected exactly one X-Rspamd-Action');
    const action = actions[0] as string;
    const last = replies.at(-1);
    if (action === 'reject') {
      if (last?.kind === 'replycode' && text(last.text).startsWith('5')) return 'reject';
      return bad('action reject without a 5xx reply');
    }
    if (last?.kind !== 'accept' && last?.kind !== 'continue')
      return bad(`action ${action}: expected accept or continue`);
    const spamHeader = headerValues(replies, 'x-spam').some((v) => /^yes$/i.test(v));
    const subject = headerValues(replies, 'subject').length > 0;
    // greylist is an action by score (4 to 6 with the stock thresholds); with the greylist module
    // off, as in the test config, nothing defers the message and the proxy accepts it as ham.
    if (HAM_ACTIONS.has(action) && !spamHeader && !subject) return null;
    if (action === 'add header' && spamHeader && !subject) return null;
    if (action === 'rewrite subject' && subject) return null;
    return bad(`action ${action} not applied as expected`);
  },
  spam: (replies) => {
    const [action] = headerValues(replies, 'x-rspamd-action');
    return action !== undefined && !HAM_ACTIONS.has(action);
  },
};

/** Actions that deliver the message unmarked (what the accuracy bench counts as ham too). */
const HAM_ACTIONS = new Set(['no action', 'greylist']);

function headerValues(replies: readonly Response[], name: string): string[] {
  const out: string[] = [];
  for (const r of replies) {
    if (r.kind !== 'addheader' && r.kind !== 'insheader' && r.kind !== 'chgheader') continue;
    if (text(r.name).toLowerCase() === name) out.push(text(r.value).trim());
  }
  return out;
}
