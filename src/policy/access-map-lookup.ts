/**
 * Access map lookups: the keys each fact yields, the walk from the most to the least specific
 * key, and the trace of every key tried (printed by `explain`). Pure: plain strings in, a
 * structured decision out.
 */
import { assertNever } from '../shared/assert-never.ts';
import type { AccessEntry, AccessTag } from './access-map.ts';
import {
  addressKeys,
  canonicalAddress,
  canonicalHostName,
  canonicalIp,
  domainKeys,
  ipKeys,
} from './access-map-keys.ts';
import { firstMatch, type MapAction, type PatternSubject } from './access-map-pattern.ts';

/** The entries of a map, one hash map per tag keyed by normalised key (`''` = default). */
export type AccessTables = Readonly<Record<AccessTag, ReadonlyMap<string, AccessEntry>>>;

/** What is known of a message, as plain strings (a scanner Envelope fits). */
export interface AccessFacts {
  /** Client IP address; `[...]`, `IPv6:` and IPv4-mapped IPv6 are accepted. */
  readonly clientAddress?: string | undefined;
  /** Verified client host name; `[ip]` and `unknown` count as none. */
  readonly clientName?: string | undefined;
  /** Envelope sender, with or without angle brackets; `''` or `<>` for the null sender. */
  readonly sender?: string | undefined;
  /** Envelope recipients, with or without angle brackets. */
  readonly recipients: readonly string[];
  /** SMTP AUTH user, if the client authenticated. */
  readonly authUser?: string | undefined;
}

/** The outcomes of a lookup. */
export const AccessAction = {
  skip: 'skip',
  reject: 'reject',
  discard: 'discard',
  scan: 'scan',
  none: 'none',
} as const;

/** One outcome of a lookup; `none` means the map did not decide. */
export type AccessAction = (typeof AccessAction)[keyof typeof AccessAction];

/** The entry (and pattern, for a pattern list) that decided. */
export interface AccessSource {
  readonly tag: AccessTag;
  readonly key: string;
  readonly line: number;
  readonly pattern?: string;
}

/** A lookup result: undecided, or an action with where it came from and REJECT's text. */
export type AccessVerdict =
  | { readonly action: 'none' }
  | {
      readonly action: Exclude<AccessAction, 'none'>;
      readonly by: AccessSource;
      readonly text?: string;
    };

/** One key tried during a lookup, and what it gave. */
export type AccessTraceStep =
  | { readonly kind: 'note'; readonly tag: AccessTag; readonly note: string }
  | { readonly kind: 'miss'; readonly tag: AccessTag; readonly key: string }
  | {
      readonly kind: 'hit';
      readonly tag: AccessTag;
      readonly key: string;
      readonly line: number;
      readonly action: MapAction;
      readonly text?: string;
    }
  | {
      readonly kind: 'pattern';
      readonly tag: AccessTag;
      readonly key: string;
      readonly line: number;
      readonly pattern: string;
      readonly action: MapAction;
      readonly text?: string;
    }
  | {
      readonly kind: 'no-match';
      readonly tag: AccessTag;
      readonly key: string;
      readonly line: number;
    };

/** A verdict with the keys tried to reach it. */
export type TracedVerdict = AccessVerdict & { readonly trace: readonly AccessTraceStep[] };

/** The verdict for one recipient under `to:`. */
export type RecipientVerdict = TracedVerdict & { readonly recipient: string };

/** A full lookup: the message-level verdict (auth, connect, from) and one per recipient (to). */
export type AccessDecision = TracedVerdict & { readonly recipients: readonly RecipientVerdict[] };

const RESULT: Readonly<Record<Exclude<MapAction, 'next'>, Exclude<AccessAction, 'none'>>> = {
  ok: 'skip',
  reject: 'reject',
  discard: 'discard',
  scan: 'scan',
};

/** Tries keys in order; returns the first decided verdict, recording each step. */
function walk(
  table: ReadonlyMap<string, AccessEntry>,
  tag: AccessTag,
  keys: readonly string[],
  subject: PatternSubject,
  trace: AccessTraceStep[],
): AccessVerdict | undefined {
  for (const key of keys) {
    const entry = table.get(key);
    if (entry === undefined) {
      trace.push({ kind: 'miss', tag, key });
      continue;
    }
    const { line, value } = entry;
    const at = { tag, key, line };
    switch (value.kind) {
      case 'action': {
        const { action, text } = value;
        trace.push({ kind: 'hit', ...at, action, ...(text === undefined ? {} : { text }) });
        if (action !== 'next') return verdict(action, at, text);
        break;
      }
      case 'patterns': {
        const item = firstMatch(value.items, subject);
        if (item === undefined) {
          trace.push({ kind: 'no-match', ...at });
          break;
        }
        const { action, text, source: pattern } = item;
        trace.push({
          kind: 'pattern',
          ...at,
          pattern,
          action,
          ...(text === undefined ? {} : { text }),
        });
        if (action !== 'next') return verdict(action, { ...at, pattern }, text);
        break;
      }
      default:
        assertNever(value);
    }
  }
  return undefined;
}

function verdict(
  action: Exclude<MapAction, 'next'>,
  by: AccessSource,
  text: string | undefined,
): AccessVerdict {
  return { action: RESULT[action], by, ...(text === undefined ? {} : { text }) };
}

/** The client: IP keys, then host name keys, then the `connect:` default. */
function client(tables: AccessTables, facts: AccessFacts, trace: AccessTraceStep[]) {
  const address = facts.clientAddress ?? '';
  const ip = address === '' ? undefined : canonicalIp(address);
  const name = canonicalHostName(facts.clientName ?? '');
  if (address !== '' && ip === undefined)
    trace.push({ kind: 'note', tag: 'connect', note: `"${address}" is not an IP address` });
  if (ip === undefined && name === undefined) {
    trace.push({ kind: 'note', tag: 'connect', note: 'no client address or host name' });
    return undefined;
  }
  const keys = [
    ...(ip === undefined ? [] : ipKeys(ip)),
    ...(name === undefined ? [] : domainKeys(name)),
    '',
  ];
  const subject: PatternSubject = {
    ...(ip === undefined ? {} : { ip: { text: ip.text, family: ip.family } }),
    texts: [...(name === undefined ? [] : [name]), ...(ip === undefined ? [] : [ip.text])],
  };
  return walk(tables.connect, 'connect', keys, subject, trace);
}

/** A sender or recipient: the address, its domains, `user@`, then the default. */
function address(tables: AccessTables, tag: 'from' | 'to', raw: string, trace: AccessTraceStep[]) {
  const text = canonicalAddress(raw);
  return walk(tables[tag], tag, [...addressKeys(text), ''], { texts: [text] }, trace);
}

/** The message-level verdict: auth, then the client, then the sender; the first decided wins. */
function messageVerdict(
  tables: AccessTables,
  facts: AccessFacts,
  trace: AccessTraceStep[],
): AccessVerdict {
  const auth = facts.authUser?.trim().toLowerCase() ?? '';
  if (auth === '') trace.push({ kind: 'note', tag: 'auth', note: 'not authenticated' });
  else {
    const found = walk(tables.auth, 'auth', [auth, ''], { texts: [auth] }, trace);
    if (found !== undefined) return found;
  }
  const byClient = client(tables, facts, trace);
  if (byClient !== undefined) return byClient;
  if (facts.sender === undefined) trace.push({ kind: 'note', tag: 'from', note: 'no sender' });
  else {
    const found = address(tables, 'from', facts.sender, trace);
    if (found !== undefined) return found;
  }
  return { action: 'none' };
}

/** Looks up every fact of a message in order and returns the decision with its traces. */
export function decideAccess(tables: AccessTables, facts: AccessFacts): AccessDecision {
  const trace: AccessTraceStep[] = [];
  const message = messageVerdict(tables, facts, trace);
  const recipients = facts.recipients.map((recipient): RecipientVerdict => {
    const steps: AccessTraceStep[] = [];
    const found = address(tables, 'to', recipient, steps) ?? { action: 'none' as const };
    return { ...found, recipient, trace: steps };
  });
  return { ...message, trace, recipients };
}

const ACTION_WORD: Readonly<Record<MapAction, string>> = {
  ok: 'OK',
  reject: 'REJECT',
  discard: 'DISCARD',
  scan: 'SCAN',
  next: 'NEXT',
};

/**
 * One trace step as a line of text, the entry's location at the end: `connect:192.0.2 → SCAN
 * (line 3)`, or `(access.map:3)` when the file name is given.
 */
export function formatTraceStep(step: AccessTraceStep, file?: string): string {
  const what = (action: MapAction, text: string | undefined) =>
    text === undefined ? ACTION_WORD[action] : `${ACTION_WORD[action]} ${text}`;
  const at = (line: number) => (file === undefined ? `(line ${line})` : `(${file}:${line})`);
  switch (step.kind) {
    case 'note':
      return `${step.tag}: ${step.note}`;
    case 'miss':
      return `${step.tag}:${step.key} → no entry${step.key === '' ? ' (default)' : ''}`;
    case 'hit':
      return `${step.tag}:${step.key} → ${what(step.action, step.text)} ${at(step.line)}`;
    case 'pattern':
      return `${step.tag}:${step.key} → ${step.pattern} matched → ${what(step.action, step.text)} ${at(step.line)}`;
    case 'no-match':
      return `${step.tag}:${step.key} → no pattern matched, NEXT ${at(step.line)}`;
    default:
      return assertNever(step);
  }
}
