/**
 * Milter socket specifications in the forms Postfix and Sendmail configurations use:
 * `inet:PORT@HOST`, `inet:HOST:PORT`, `inet6:PORT@HOST`, `unix:PATH` and `local:PATH`.
 */

/** Where the milter listens. */
export type SocketAddress =
  | { readonly kind: 'inet'; readonly host: string; readonly port: number }
  | { readonly kind: 'unix'; readonly path: string };

/** A socket specification that cannot be parsed. */
export class SocketAddressError extends Error {
  readonly code = 'BAD_SOCKET_ADDRESS';

  constructor(spec: string, reason: string) {
    super(
      `invalid socket "${spec}": ${reason} (use inet:PORT@HOST, inet:HOST:PORT, inet6:PORT@HOST or unix:PATH)`,
    );
    this.name = 'SocketAddressError';
  }
}

/** The host used when a spec names only a port: loopback, not every interface (an open milter port accepts anyone). */
export const DEFAULT_INET_HOST = '127.0.0.1';

/** Parses a socket specification; throws SocketAddressError naming the problem. */
export function parseSocketAddress(spec: string): SocketAddress {
  const colon = spec.indexOf(':');
  if (colon === -1) throw new SocketAddressError(spec, 'no "type:" prefix');
  const type = spec.slice(0, colon).toLowerCase();
  const rest = spec.slice(colon + 1);
  switch (type) {
    case 'unix':
    case 'local':
      if (rest === '') throw new SocketAddressError(spec, 'empty path');
      return { kind: 'unix', path: rest };
    case 'inet':
    case 'inet6': {
      const { host, port } = splitHostPort(
        spec,
        rest,
        type === 'inet6' ? '::1' : DEFAULT_INET_HOST,
      );
      return { kind: 'inet', host, port };
    }
    default:
      throw new SocketAddressError(spec, `unknown type "${type}"`);
  }
}

function splitHostPort(
  spec: string,
  rest: string,
  defaultHost: string,
): { host: string; port: number } {
  let host: string;
  let portText: string;
  const at = rest.indexOf('@');
  if (at !== -1) {
    // libmilter form: PORT@HOST
    portText = rest.slice(0, at);
    host = rest.slice(at + 1);
  } else {
    // Postfix form: HOST:PORT, [v6]:PORT, or a bare PORT
    const last = rest.lastIndexOf(':');
    portText = last === -1 ? rest : rest.slice(last + 1);
    host = last === -1 ? defaultHost : rest.slice(0, last);
  }
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (host === '') host = defaultHost;
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
    throw new SocketAddressError(spec, `port "${portText}" is not a number from 0 to 65535`);
  }
  return { host, port: Number(portText) };
}

/** Formats an address the libmilter way, e.g. `inet:11332@127.0.0.1`, `unix:/run/spamward.sock`. */
export function formatSocketAddress(address: SocketAddress): string {
  if (address.kind === 'unix') return `unix:${address.path}`;
  return address.host.includes(':')
    ? `inet6:${address.port}@${address.host}`
    : `inet:${address.port}@${address.host}`;
}
