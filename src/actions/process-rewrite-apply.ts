/**
 * Header and body modifications applied to a message the way Postfix applies a milter's
 * replies, with HDR_LEADSPC agreed, and shown one per line: a pure model for previews and tests
 * (it is what lets the tests check that spamd's rewrite is reproduced), not the delivery path.
 */
import type { Modification } from '../filter/decision.ts';
import type { HeaderField, Message } from '../message/message.ts';
import { assertNever } from '../shared/assert-never.ts';

/** Stands for the Received line Postfix adds itself: never shown to the milter, never counted. */
const HIDDEN = Symbol('postfix-received');

type Entry = HeaderField | typeof HIDDEN;

/**
 * The message after `modifications`, in order. Header values get the one space after the colon
 * back; `insert-header` counts Postfix's hidden Received as element 0 (index 0 = above it, 1 =
 * top of the visible headers); `change-header` past the last occurrence appends and an empty
 * value deletes; recipient, sender and quarantine changes do not touch the message and are
 * skipped. Throws a RangeError for an occurrence below 1 (the milter layer refuses those).
 */
export function applyModifications(
  message: Pick<Message, 'headers' | 'body'>,
  modifications: readonly Modification[],
): { headers: HeaderField[]; body: Buffer } {
  const list: Entry[] = [HIDDEN, ...message.headers];
  let body = message.body;
  for (const m of modifications) {
    switch (m.kind) {
      case 'add-header':
        list.push(field(m.name, m.value));
        break;
      case 'insert-header':
        list.splice(Math.max(0, m.index), 0, field(m.name, m.value));
        break;
      case 'change-header': {
        const at = position(list, m.name, m.occurrence);
        const empty = (typeof m.value === 'string' ? m.value.length : m.value.length) === 0;
        if (at === undefined) {
          if (!empty) list.push(field(m.name, m.value));
        } else if (empty) list.splice(at, 1);
        else list[at] = field(m.name, m.value);
        break;
      }
      case 'delete-header': {
        const at = position(list, m.name, m.occurrence);
        if (at !== undefined) list.splice(at, 1);
        break;
      }
      case 'replace-body':
        body = m.body;
        break;
      case 'add-recipient':
      case 'delete-recipient':
      case 'change-sender':
      case 'quarantine':
        break;
      default:
        assertNever(m);
    }
  }
  return { headers: list.filter((entry): entry is HeaderField => entry !== HIDDEN), body };
}

function field(name: string, value: string | Buffer): HeaderField {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  return { name, value: Buffer.concat([Buffer.from(' '), bytes]) };
}

/** Index in `list` of the `occurrence`-th visible header called `name` (case-insensitive). */
function position(list: readonly Entry[], name: string, occurrence: number): number | undefined {
  if (!Number.isInteger(occurrence) || occurrence < 1) {
    throw new RangeError(`header occurrence must be >= 1, got ${occurrence}`);
  }
  const lower = name.toLowerCase();
  let seen = 0;
  for (let i = 0; i < list.length; i++) {
    const entry = list[i];
    if (entry === HIDDEN || entry?.name.toLowerCase() !== lower) continue;
    seen++;
    if (seen === occurrence) return i;
  }
  return undefined;
}

/** One line per modification, values JSON-quoted (bytes read as Latin-1), for previews and tests. */
export function describeModification(m: Modification): string {
  const quote = (value: string | Buffer): string =>
    JSON.stringify(Buffer.isBuffer(value) ? value.toString('latin1') : value);
  switch (m.kind) {
    case 'add-header':
      return `add ${m.name} ${quote(m.value)}`;
    case 'insert-header':
      return `insert@${m.index} ${m.name} ${quote(m.value)}`;
    case 'change-header':
      return `change ${m.name}#${m.occurrence} ${quote(m.value)}`;
    case 'delete-header':
      return `delete ${m.name}#${m.occurrence}`;
    case 'replace-body':
      return `replace-body ${m.body.length}`;
    case 'add-recipient':
    case 'delete-recipient':
    case 'change-sender':
      return `${m.kind} ${quote(m.address)}`;
    case 'quarantine':
      return `quarantine ${quote(m.reason)}`;
    default:
      return assertNever(m);
  }
}
