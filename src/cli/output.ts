/** The CLI's only way to the terminal, and the mapping from errors to exit codes. */

/** A mistake in the command line: exit 64 (EX_USAGE). */
export class CliUsageError extends Error {
  readonly code = 'CLI_USAGE';

  constructor(message: string) {
    super(message);
    this.name = 'CliUsageError';
  }
}

/** Writes to stdout. */
export function print(text: string): void {
  process.stdout.write(text);
}

/** Writes an error to stderr; returns the exit code for it (64 usage, 78 config, 70 otherwise). */
export function printError(error: unknown): number {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`spamward: ${message}\n`);
  if (error instanceof CliUsageError || error instanceof TypeError) return 64;
  if (error instanceof Error && 'code' in error && error.code === 'CONFIG_INVALID') return 78;
  if (error instanceof Error && 'code' in error && error.code === 'NO_INPUT') return 66;
  if (error instanceof Error && 'code' in error && error.code === 'BAD_SCANNER_URL') return 64;
  if (error instanceof Error && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))
    return 64;
  if (
    error instanceof Error &&
    'code' in error &&
    (error.code === 'BAD_SOCKET_ADDRESS' || error.code === 'EADDRINUSE')
  )
    return 78;
  return 70;
}
