/**
 * The built-in engine's scanner URLs:
 *   `builtin`                          SQLite in the default data directory (/var/lib/spamward)
 *   `builtin:///path/to/datadir`       SQLite in that directory
 *   `builtin+redis://[:pw@]host[:port][/db][?prefix=p]`   Redis (default port 6379, db 0)
 */

/** The default data directory of the SQLite store. */
export const DEFAULT_DATA_DIR = '/var/lib/spamward';

/** Where a built-in engine keeps its tokens. */
export type BuiltinTarget =
  | { readonly kind: 'sqlite'; readonly dataDir: string }
  | {
      readonly kind: 'redis';
      readonly host: string;
      readonly port: number;
      readonly db: number;
      readonly password?: string;
      readonly prefix?: string;
    };

/** A parsed built-in URL: where the tokens live, and the URL to show (no password). */
export interface BuiltinEndpoint {
  readonly display: string;
  readonly target: BuiltinTarget;
}

/** A built-in URL that does not parse; same code as the factory's ScannerUrlError. */
export class BuiltinUrlError extends Error {
  readonly code = 'BAD_SCANNER_URL';

  constructor(url: string, reason: string) {
    super(`invalid scanner URL "${url}": ${reason}`);
    this.name = 'BuiltinUrlError';
  }
}

/** Parses `builtin`, `builtin:///dir` or `builtin+redis://…`; plain `builtin` uses `defaultDataDir`. */
export function parseBuiltinUrl(url: string, defaultDataDir = DEFAULT_DATA_DIR): BuiltinEndpoint {
  if (url === 'builtin')
    return { display: 'builtin', target: { kind: 'sqlite', dataDir: defaultDataDir } };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new BuiltinUrlError(url, 'not a URL');
  }
  const scheme = parsed.protocol.slice(0, -1).toLowerCase();
  if (scheme === 'builtin') {
    if (parsed.host !== '')
      throw new BuiltinUrlError(url, 'use builtin:///absolute/path (no host)');
    const dataDir = decodeURIComponent(parsed.pathname).replace(/(?<=.)\/+$/, '');
    if (dataDir === '' || dataDir === '/')
      throw new BuiltinUrlError(url, 'the data directory is missing');
    return { display: `builtin://${parsed.pathname}`, target: { kind: 'sqlite', dataDir } };
  }
  if (scheme !== 'builtin+redis')
    throw new BuiltinUrlError(url, 'the scheme must be builtin or builtin+redis');
  if (parsed.hostname === '') throw new BuiltinUrlError(url, 'the Redis host is missing');
  const port = parsed.port === '' ? 6379 : Number(parsed.port);
  const dbText = parsed.pathname.replace(/^\/+/, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0)
    throw new BuiltinUrlError(url, `bad Redis database "${dbText}"`);
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  const password = parsed.password === '' ? undefined : decodeURIComponent(parsed.password);
  const prefix = parsed.searchParams.get('prefix') ?? undefined;
  const display = `builtin+redis://${parsed.host}${dbText === '' ? '' : `/${db}`}`;
  return {
    display,
    target: {
      kind: 'redis',
      host,
      port,
      db,
      ...(password === undefined ? {} : { password }),
      ...(prefix === undefined ? {} : { prefix }),
    },
  };
}
