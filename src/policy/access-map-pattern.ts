/**
 * Access map values: a single action (`OK`, `REJECT text`, …) or a pattern list
 * (`[CIDR]`, `!glob!`, `/regex/`, each optionally `=ACTION`, optionally ending with a default
 * action). Parsed and compiled once at load; matching is a loop over the compiled items.
 * The grammar is documented in `access-map.ts`.
 */
import { BlockList } from 'node:net';
import { assertNever } from '../shared/assert-never.ts';
import { parseCidr } from './trust.ts';

/** The actions a map value can name (`SKIP` is read as `OK`). */
export const MapAction = {
  ok: 'ok',
  reject: 'reject',
  discard: 'discard',
  scan: 'scan',
  next: 'next',
} as const;

/** One of the actions a map value can name. */
export type MapAction = (typeof MapAction)[keyof typeof MapAction];

const ACTION_WORDS: Readonly<Record<string, MapAction>> = {
  OK: 'ok',
  SKIP: 'ok',
  REJECT: 'reject',
  DISCARD: 'discard',
  SCAN: 'scan',
  NEXT: 'next',
};

/** An action with the reply text `REJECT` may carry. */
export interface ActionSpec {
  readonly action: MapAction;
  readonly text?: string;
}

/** How one pattern tests a value. */
export type Matcher =
  | { readonly kind: 'cidr'; readonly blocks: BlockList }
  | { readonly kind: 'glob'; readonly re: RegExp }
  | { readonly kind: 'regex'; readonly re: RegExp };

/** One compiled pattern of a list, with the action it yields when it matches. */
export interface PatternItem extends ActionSpec {
  /** The pattern as written, delimiters included, without `=ACTION` (for traces). */
  readonly source: string;
  readonly matcher: Matcher;
}

/** A parsed map value. */
export type MapValue =
  | ({ readonly kind: 'action' } & ActionSpec)
  | { readonly kind: 'patterns'; readonly items: readonly PatternItem[] };

/** What a pattern list is tested against: the canonical client IP (CIDR) and texts (glob, regex). */
export interface PatternSubject {
  /** Canonical client IP and family, for `[CIDR]`; absent outside `connect:` or when unknown. */
  readonly ip?: { readonly text: string; readonly family: 'ipv4' | 'ipv6' };
  /** Values for `!glob!` and `/regex/`; an item matches if any of them matches. */
  readonly texts: readonly string[];
}

/** A parsed value, or why it cannot be parsed. */
export type ValueResult =
  | { readonly ok: true; readonly value: MapValue }
  | { readonly ok: false; readonly reason: string };

type Fail = { readonly ok: false; readonly reason: string };
const fail = (reason: string): Fail => ({ ok: false, reason });

const CLOSERS: Readonly<Record<string, string>> = { '[': ']', '!': '!', '/': '/' };

/** Reads `ACTION [text]` (text only for REJECT). */
function parseAction(text: string): { ok: true; spec: ActionSpec } | Fail {
  const match = /^(\S+)\s*(.*)$/.exec(text);
  const word = match?.[1] ?? '';
  const rest = match?.[2] ?? '';
  const action = ACTION_WORDS[word.toUpperCase()];
  if (action === undefined)
    return fail(`unknown action "${word}" (use OK, SKIP, REJECT, DISCARD, SCAN or NEXT)`);
  if (action !== 'reject' && rest !== '') return fail(`${word} takes no text (only REJECT does)`);
  return { ok: true, spec: rest === '' ? { action } : { action, text: rest } };
}

/** A glob (`*` any run, `?` one character) over the whole value, as a case-insensitive RegExp. */
export function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\*?]/g, (c) =>
    c === '*' ? '.*' : c === '?' ? '.' : `\\${c}`,
  );
  return new RegExp(`^${body}$`, 'is');
}

/** Compiles the inside of a pattern; `open` is its first character. */
function compile(open: string, body: string, allowCidr: boolean): Matcher | string {
  if (body === '') return 'empty pattern';
  switch (open) {
    case '[': {
      if (!allowCidr) return '[CIDR] patterns only apply to connect: entries';
      try {
        const [address, prefix, family] = parseCidr(body);
        const blocks = new BlockList();
        blocks.addSubnet(address, prefix, family);
        return { kind: 'cidr', blocks };
      } catch (error) {
        return error instanceof Error ? error.message : String(error);
      }
    }
    case '!':
      return { kind: 'glob', re: globToRegExp(body) };
    case '/':
      try {
        return { kind: 'regex', re: new RegExp(body, 'i') };
      } catch (error) {
        return `bad regular expression: ${error instanceof Error ? error.message : String(error)}`;
      }
    default:
      return `unknown pattern delimiter "${open}"`;
  }
}

/** Reads one pattern token such as `[192.0.2.0/24]=OK`, `!*.example.com!` or `/^mx\d/=SCAN`. */
function parsePattern(
  token: string,
  allowCidr: boolean,
): { ok: true; source: string; matcher: Matcher; spec?: ActionSpec } | Fail {
  const open = token[0] ?? '';
  const close = token.lastIndexOf(CLOSERS[open] ?? '\0');
  if (close < 1) return fail(`pattern "${token}" has no closing "${CLOSERS[open]}"`);
  const source = token.slice(0, close + 1);
  const matcher = compile(open, token.slice(1, close), allowCidr);
  if (typeof matcher === 'string') return fail(`pattern "${source}": ${matcher}`);
  const suffix = token.slice(close + 1);
  if (suffix === '') return { ok: true, source, matcher };
  if (!suffix.startsWith('='))
    return fail(`unexpected "${suffix}" after pattern "${source}" (write ${source}=ACTION)`);
  const action = parseAction(suffix.slice(1));
  if (!action.ok) return fail(`pattern "${source}": ${action.reason}`);
  return { ok: true, source, matcher, spec: action.spec };
}

/** Parses a value; `allowCidr` is true for `connect:` entries only. */
export function parseValue(text: string, allowCidr: boolean): ValueResult {
  if (text === '') return fail('no value after the key');
  if (CLOSERS[text[0] ?? ''] === undefined) {
    const action = parseAction(text);
    return action.ok ? { ok: true, value: { kind: 'action', ...action.spec } } : action;
  }
  const parsed: { source: string; matcher: Matcher; spec?: ActionSpec }[] = [];
  let fallback: ActionSpec | undefined;
  const tokens = /\S+/g;
  for (let m = tokens.exec(text); m !== null; m = tokens.exec(text)) {
    if (CLOSERS[m[0][0] ?? ''] === undefined) {
      const action = parseAction(text.slice(m.index));
      if (!action.ok) return action;
      fallback = action.spec;
      break;
    }
    const item = parsePattern(m[0], allowCidr);
    if (!item.ok) return item;
    parsed.push(item);
  }
  const items: PatternItem[] = [];
  for (const { source, matcher, spec } of parsed) {
    const chosen = spec ?? fallback;
    if (chosen === undefined)
      return fail(
        `pattern "${source}" has no action (write ${source}=ACTION or end the list with an action)`,
      );
    items.push({ source, matcher, ...chosen });
  }
  return { ok: true, value: { kind: 'patterns', items } };
}

/** True when the pattern matches the subject. */
export function matches(matcher: Matcher, subject: PatternSubject): boolean {
  switch (matcher.kind) {
    case 'cidr':
      return subject.ip !== undefined && matcher.blocks.check(subject.ip.text, subject.ip.family);
    case 'glob':
    case 'regex':
      return subject.texts.some((t) => matcher.re.test(t));
    default:
      return assertNever(matcher);
  }
}

/** The first item of a list that matches the subject, or undefined. */
export function firstMatch(
  items: readonly PatternItem[],
  subject: PatternSubject,
): PatternItem | undefined {
  return items.find((item) => matches(item.matcher, subject));
}
