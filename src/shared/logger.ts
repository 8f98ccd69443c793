/** The logging surface the daemon layer hands down (pino's Logger satisfies it). */
export interface Logger {
  /** The minimum level written (`info`, `debug`…); settable, so a reload can change it. */
  level: string;
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}
