/** Errors of `spamward check` that map to their own exit codes. */

/** A file that cannot be read: exit 66 (EX_NOINPUT). */
export class NoInputError extends Error {
  readonly code = 'NO_INPUT';
}
