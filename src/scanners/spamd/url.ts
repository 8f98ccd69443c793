/**
 * spamd scanner URLs: `spamd://host[:port]` (TCP), `spamd:///path/to.sock` (unix socket),
 * `spamd+tls://host[:port]` (TLS). The port defaults to spamd's 783.
 */
import { isIP } from 'node:net';

/** spamd's default port (also for `--listen=ssl:…`). */
export const SPAMD_DEFAULT_PORT = 783;

/** Where a spamd listens. */
export type SpamdEndpoint =
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number; readonly tls: boolean }
  | { readonly kind: 'unix'; readonly path: string };

/** A spamd URL that could not be used; `url` has any credentials removed. */
export class SpamdUrlError extends Error {
  /** Stable code shared with the other scanner URL errors. */
  readonly code = 'BAD_SCANNER_URL';
  /** The offending URL (credentials removed). */
  readonly url: string;
  /** Why it was rejected. */
  readonly reason: string;

  constructor(url: string, reason: string) {
    const shown = redact(url);
    super(`invalid spamd URL "${shown}": ${reason}`);
    this.name = 'SpamdUrlError';
    this.url = shown;
    this.reason = reason;
  }
}

/** Parses a spamd URL; throws SpamdUrlError naming the URL and the reason. */
export function parseSpamdUrl(text: string): SpamdEndpoint {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new SpamdUrlError(text, 'not a valid URL (check the host and port)');
  }
  const fail = (reason: string): never => {
    throw new SpamdUrlError(text, reason);
  };
  if (url.protocol !== 'spamd:' && url.protocol !== 'spamd+tls:') {
    fail(`scheme must be spamd: or spamd+tls:, not ${url.protocol}`);
  }
  if (!/^[a-z+]+:\/\//i.test(text)) fail('expected spamd://host:port or spamd:///path');
  if (url.username !== '' || url.password !== '') fail('spamd URLs take no user or password');
  if (url.search !== '' || url.hash !== '') fail('spamd URLs take no query or fragment');
  const tls = url.protocol === 'spamd+tls:';
  if (url.host === '') {
    if (tls) fail('TLS needs a host and port, not a socket path');
    const path = decodeURIComponent(url.pathname);
    if (path === '' || path === '/' || path.endsWith('/')) fail('no unix socket path');
    if (path.includes('\0')) fail('NUL in socket path');
    return { kind: 'unix', path };
  }
  if (url.pathname !== '' && url.pathname !== '/') {
    fail('a TCP URL has no path (for a unix socket write spamd:///path)');
  }
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  if (host === '') fail('no host');
  if (url.hostname.startsWith('[') && isIP(host) !== 6) fail(`bad IPv6 address ${url.hostname}`);
  const port = url.port === '' ? SPAMD_DEFAULT_PORT : Number(url.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) fail(`bad port ${url.port}`);
  return { kind: 'tcp', host, port, tls };
}

/** The canonical URL of an endpoint, e.g. `spamd://127.0.0.1:783`, `spamd:///run/spamd.sock`. */
export function formatSpamdUrl(endpoint: SpamdEndpoint): string {
  switch (endpoint.kind) {
    case 'unix':
      return `spamd://${encodeURI(endpoint.path)}`;
    case 'tcp': {
      const host = isIP(endpoint.host) === 6 ? `[${endpoint.host}]` : endpoint.host;
      return `${endpoint.tls ? 'spamd+tls' : 'spamd'}://${host}:${endpoint.port}`;
    }
  }
}

/** The URL with any `user:password@` removed, for messages. */
function redact(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@?#]*@/i, '$1');
}
