import type { Logger } from '../../src/shared/logger.ts';

/** One call made on a recording logger. */
export interface LogEntry {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly obj: Readonly<Record<string, unknown>>;
  readonly msg: string | undefined;
}

/** A Logger that prints nothing and keeps every entry (children share the parent's list). */
export class SilentLogger implements Logger {
  /** Every entry logged here or by a child, oldest first. */
  readonly entries: LogEntry[];
  readonly #bindings: Readonly<Record<string, unknown>>;
  /** Kept for the Logger contract; everything is recorded whatever the level. */
  level = 'debug';

  constructor(entries: LogEntry[] = [], bindings: Readonly<Record<string, unknown>> = {}) {
    this.entries = entries;
    this.#bindings = bindings;
  }

  debug(obj: object, msg?: string): void {
    this.#record('debug', obj, msg);
  }

  info(obj: object, msg?: string): void {
    this.#record('info', obj, msg);
  }

  warn(obj: object, msg?: string): void {
    this.#record('warn', obj, msg);
  }

  error(obj: object, msg?: string): void {
    this.#record('error', obj, msg);
  }

  child(bindings: Record<string, unknown>): Logger {
    return new SilentLogger(this.entries, { ...this.#bindings, ...bindings });
  }

  /** Entries at `level`, e.g. `log.at('warn')`. */
  at(level: LogEntry['level']): LogEntry[] {
    return this.entries.filter((entry) => entry.level === level);
  }

  #record(level: LogEntry['level'], obj: object, msg: string | undefined): void {
    this.entries.push({ level, obj: { ...this.#bindings, ...obj }, msg });
  }
}
