/**
 * Macros as libmilter scopes them: stored per stage, a stage's arrival clears every later stage
 * (a new MAIL forgets the last message's RCPT and EOM macros), lookups search the newest first.
 */

// Stage bytes in protocol order. Postfix also sends 'L' (before each header) and 'B' (before each
// body chunk), carrying the EOH and EOM lists; they sit beside 'N' and 'E'.
const ORDER = ['C', 'H', 'M', 'R', 'T', 'L', 'N', 'B', 'E'] as const;
// 'U' (before UNKNOWN) can come at any point, so it is kept apart and searched last.
const UNORDERED = 'U';

/** `{daemon_name}` and `daemon_name` are the same macro; so are `j` and `{j}`. */
export function macroKey(name: string): string {
  return name.startsWith('{') && name.endsWith('}') ? name.slice(1, -1) : name;
}

/** Per-connection macro store. */
export class MacroStore {
  readonly #stages = new Map<string, Map<string, string>>();

  /** Stores a MACRO packet's pairs for `stage` (its command byte as a letter), replacing that stage. */
  set(stage: string, pairs: Iterable<readonly [string, string]>): void {
    this.clearAfter(stage);
    const map = new Map<string, string>();
    for (const [name, value] of pairs) map.set(macroKey(name), value);
    this.#stages.set(stage, map);
  }

  /** Forgets every stage after `stage` (called when that stage's command arrives). */
  clearAfter(stage: string): void {
    const at = ORDER.indexOf(stage as (typeof ORDER)[number]);
    if (at === -1) return;
    for (const later of ORDER.slice(at + 1)) this.#stages.delete(later);
  }

  /** Forgets the message stages (MAIL onward), e.g. on ABORT. */
  clearMessage(): void {
    this.clearAfter('H');
  }

  /** Forgets everything (QUIT_NC starts a new connection on the same socket). */
  clear(): void {
    this.#stages.clear();
  }

  /** The newest value of a macro, e.g. `get('i')` or `get('{client_addr}')`. */
  get(name: string): string | undefined {
    const key = macroKey(name);
    for (let i = ORDER.length - 1; i >= 0; i--) {
      const value = this.#stages.get(ORDER[i] as string)?.get(key);
      if (value !== undefined) return value;
    }
    return this.#stages.get(UNORDERED)?.get(key);
  }

  /** Every macro currently visible, newest value per name, keys without braces. */
  snapshot(): Record<string, string> {
    const out: Record<string, string> = {};
    const stages = [UNORDERED, ...ORDER];
    for (const stage of stages) {
      for (const [k, v] of this.#stages.get(stage) ?? []) out[k] = v;
    }
    return out;
  }
}
