/**
 * rspamd scanner addresses: `rspamd://host[:port]` (plain HTTP; `rspamd+http://` is the same) and
 * `rspamd+https://host[:port]` (HTTPS, for an rspamd behind a TLS proxy: rspamd itself speaks no
 * TLS). Parsed by hand rather
 * than with WHATWG `URL`, which keeps non-special schemes' hosts opaque and would drop an explicit
 * `:80`/`:443` once the scheme is mapped to http(s).
 */
import { isIPv6 } from 'node:net';

/** Where an rspamd worker listens. */
export interface RspamdEndpoint {
  readonly scheme: 'rspamd' | 'rspamd+https';
  readonly https: boolean;
  /** Host name or address, IPv6 without brackets. */
  readonly host: string;
  readonly port: number;
  /** The address without credentials, e.g. `rspamd://127.0.0.1:11333`. */
  readonly display: string;
  /** Basic-auth credentials given in the URL (`rspamd://user:pass@host`), if any. */
  readonly credentials?: { readonly username: string; readonly password: string };
}

/** The normal worker's stock port. */
export const DEFAULT_RSPAMD_PORT = 11333;
/** The controller worker's stock port. */
export const DEFAULT_CONTROLLER_PORT = 11334;

/** A scanner URL that cannot be used; the message names the URL (password masked) and why. */
export class RspamdUrlError extends Error {
  readonly code = 'BAD_SCANNER_URL';

  constructor(url: string, reason: string) {
    super(
      `invalid rspamd URL "${maskPassword(url)}": ${reason} (use rspamd://HOST:PORT, rspamd+http://HOST:PORT or rspamd+https://HOST:PORT)`,
    );
    this.name = 'RspamdUrlError';
  }
}

const URL_SHAPE =
  /^(?<scheme>[A-Za-z][A-Za-z0-9+.-]*):\/\/(?:(?<userinfo>[^@/?#]*)@)?(?<host>\[[^\]/?#]*\]|[^:/?#]*)(?::(?<port>[^/?#]*))?(?<rest>.*)$/s;
const LABEL = '[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?';
const HOST_NAME = new RegExp(`^(?=.{1,253}$)${LABEL}(?:\\.${LABEL})*\\.?$`);

/** Parses an rspamd URL; `defaultPort` applies when the URL names none. Throws RspamdUrlError. */
export function parseRspamdUrl(
  url: string,
  defaultPort: number = DEFAULT_RSPAMD_PORT,
): RspamdEndpoint {
  const match = URL_SHAPE.exec(url.trim());
  const groups = match?.groups;
  if (groups === undefined) throw new RspamdUrlError(url, 'not of the form SCHEME://HOST[:PORT]');
  const given = (groups['scheme'] ?? '').toLowerCase();
  if (given !== 'rspamd' && given !== 'rspamd+http' && given !== 'rspamd+https') {
    throw new RspamdUrlError(url, `unknown scheme "${given}:"`);
  }
  const scheme = given === 'rspamd+https' ? 'rspamd+https' : 'rspamd';
  const rest = groups['rest'] ?? '';
  if (rest !== '' && rest !== '/') {
    throw new RspamdUrlError(url, `unexpected path, query or fragment "${rest}"`);
  }
  const host = parseHost(url, groups['host'] ?? '');
  const port = parsePort(url, groups['port'], defaultPort);
  const https = scheme === 'rspamd+https';
  const display = `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const userinfo = groups['userinfo'];
  if (userinfo === undefined) return { scheme, https, host, port, display };
  return { scheme, https, host, port, display, credentials: parseUserinfo(url, userinfo) };
}

/** The controller endpoint that goes with a normal worker: same scheme and host, port 11334. */
export function defaultControllerUrl(worker: RspamdEndpoint): string {
  const host = worker.host.includes(':') ? `[${worker.host}]` : worker.host;
  return `${worker.scheme}://${host}:${DEFAULT_CONTROLLER_PORT}`;
}

function parseHost(url: string, raw: string): string {
  if (raw.startsWith('[')) {
    const inner = raw.slice(1, -1);
    if (!isIPv6(inner)) throw new RspamdUrlError(url, `"${raw}" is not an IPv6 address`);
    return inner.toLowerCase();
  }
  if (raw === '') throw new RspamdUrlError(url, 'no host');
  if (!HOST_NAME.test(raw)) throw new RspamdUrlError(url, `"${raw}" is not a host name or address`);
  return raw.toLowerCase();
}

function parsePort(url: string, raw: string | undefined, defaultPort: number): number {
  if (raw === undefined || raw === '') return defaultPort;
  if (!/^\d{1,5}$/.test(raw) || Number(raw) < 1 || Number(raw) > 65535) {
    throw new RspamdUrlError(url, `port "${raw}" is not a number from 1 to 65535`);
  }
  return Number(raw);
}

function parseUserinfo(url: string, userinfo: string): { username: string; password: string } {
  const colon = userinfo.indexOf(':');
  const user = colon === -1 ? userinfo : userinfo.slice(0, colon);
  const pass = colon === -1 ? '' : userinfo.slice(colon + 1);
  try {
    return { username: decodeURIComponent(user), password: decodeURIComponent(pass) };
  } catch {
    throw new RspamdUrlError(url, 'credentials are not valid percent-encoding');
  }
}

/** Replaces the password part of `scheme://user:password@host` with `***`. */
function maskPassword(url: string): string {
  return url.replace(/^([^:/?#]+:\/\/[^:@/?#]*:)[^@/?#]*@/, '$1***@');
}
