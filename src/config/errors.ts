/** A configuration that cannot be used: every problem, each with its key path and reason. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  /** Each problem: `path` like `scanner.urls.1` (or the file / variable name) and why. */
  readonly problems: readonly { readonly path: string; readonly reason: string }[];

  constructor(
    source: string,
    problems: readonly { readonly path: string; readonly reason: string }[],
    options?: ErrorOptions,
  ) {
    super(
      `invalid configuration (${source}):\n${problems.map((p) => `  ${p.path}: ${p.reason}`).join('\n')}`,
      options,
    );
    this.name = 'ConfigError';
    this.problems = problems;
  }
}
