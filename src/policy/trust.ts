/**
 * Who is trusted: clients in the trusted networks and SMTP-authenticated senders, each with its
 * mode (skip, tag only, scan), and recipients that opted out of filtering.
 */
import { BlockList, isIP } from 'node:net';
import type { Config } from '../config/schema.ts';
import type { ScanMode } from '../filter/scan-filter.ts';
import type { Message } from '../message/message.ts';
import { bareAddress } from './envelope.ts';

/** `10.0.0.0/8`, `2001:db8::/32` or a single address → [address, prefix, family]; throws on nonsense. */
export function parseCidr(cidr: string): [string, number, 'ipv4' | 'ipv6'] {
  const [address = '', prefixText] = cidr.split('/');
  const version = isIP(address);
  if (version === 0) throw new Error(`"${cidr}" is not an IP address or CIDR block`);
  const max = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (
    !Number.isInteger(prefix) ||
    prefix < 0 ||
    prefix > max ||
    (prefixText !== undefined && !/^\d+$/.test(prefixText))
  ) {
    throw new Error(`"${cidr}" has a bad prefix length (0 to ${max})`);
  }
  return [address, prefix, version === 4 ? 'ipv4' : 'ipv6'];
}

/** The trust rules of a configuration, compiled once. */
export class TrustRules {
  readonly #networks = new BlockList();
  readonly #trust: Config['trust'];
  readonly #optOut: ReadonlySet<string>;

  constructor(trust: Config['trust']) {
    this.#trust = trust;
    for (const cidr of trust.networks) {
      const [address, prefix, family] = parseCidr(cidr);
      this.#networks.addSubnet(address, prefix, family);
    }
    this.#optOut = new Set(trust.optOutRecipients.map((r) => r.toLowerCase()));
  }

  /** True when the address is in a trusted network (IPv4-mapped IPv6 counts as IPv4). */
  trustedAddress(address: string): boolean {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
    const ip = mapped ?? address;
    const version = isIP(ip);
    if (version === 0) return false;
    return this.#networks.check(ip, version === 4 ? 'ipv4' : 'ipv6');
  }

  /** True when the client is trusted or authenticated (recipient caps do not apply to it). */
  trustedClient(address: string, authUser: string | undefined): boolean {
    return (authUser !== undefined && authUser !== '') || this.trustedAddress(address);
  }

  /** True when this recipient opted out, by address or by domain. */
  optedOut(recipient: string): boolean {
    const address = bareAddress(recipient).toLowerCase();
    const at = address.lastIndexOf('@');
    return this.#optOut.has(address) || (at !== -1 && this.#optOut.has(address.slice(at)));
  }

  /**
   * How to handle a message: by client trust, sender authentication, then recipients' opt-out
   * (`alsoOptedOut`: bare lower-case recipients opted out by other means, e.g. the access map).
   */
  scanMode(message: Message, alsoOptedOut?: ReadonlySet<string>): ScanMode {
    const auth = message.macros['auth_authen'];
    const client = message.client;
    const local = client.family === 'L';
    if (
      local ||
      ((client.family === '4' || client.family === '6') && this.trustedAddress(client.address))
    ) {
      const reason = local
        ? 'client on a local socket'
        : `client ${client.address} in trusted networks`;
      const mode = this.#trust.networksMode;
      if (mode !== 'scan') return { mode, reason };
    }
    if (auth !== undefined && auth !== '') {
      const mode = this.#trust.authenticatedMode;
      if (mode !== 'scan') return { mode, reason: `sender authenticated as ${auth}` };
    }
    return this.recipientMode(message, alsoOptedOut);
  }

  /** The recipients' part alone: skip when all opted out, tag only when some did. */
  recipientMode(message: Message, alsoOptedOut?: ReadonlySet<string>): ScanMode {
    const optedOut = message.recipients.filter(
      (r) =>
        this.optedOut(r.address) ||
        alsoOptedOut?.has(bareAddress(r.address).toLowerCase()) === true,
    ).length;
    if (optedOut > 0 && optedOut === message.recipients.length)
      return { mode: 'skip', reason: 'every recipient opted out of filtering' };
    // One end-of-message verdict covers every recipient: refusing the message would refuse it
    // for the ones that opted out too, so such mail is tagged at most.
    if (optedOut > 0) return { mode: 'tag', reason: `${optedOut} recipient(s) opted out` };
    return { mode: 'scan' };
  }
}
