/**
 * MTA → milter commands as a discriminated union, with a decoder (our side) and an encoder
 * (the MTA side: our fake MTA, load generator and round-trip tests). Every string stays bytes.
 */
import { assertNever } from '../shared/assert-never.ts';
import { Cmd } from './constants.ts';
import { cstring, readCString, splitCStrings, toBytes } from './cstring.ts';
import { MalformedPacketError, UnknownCommandError } from './errors.ts';
import { encodeFrame, type Frame } from './frame.ts';

/** CONNECT address families: IPv4, IPv6, unix socket, unknown. */
export type Family = '4' | '6' | 'L' | 'U';

/** One command from the MTA. */
export type Command =
  | {
      readonly kind: 'optneg';
      readonly version: number;
      readonly actions: number;
      readonly protocol: number;
    }
  | {
      readonly kind: 'macro';
      readonly stage: number;
      readonly macros: readonly (readonly [Buffer, Buffer])[];
    }
  | {
      readonly kind: 'connect';
      readonly hostname: Buffer;
      readonly family: Family;
      readonly port: number;
      readonly address: Buffer;
    }
  | { readonly kind: 'helo'; readonly name: Buffer }
  | { readonly kind: 'mail'; readonly address: Buffer; readonly args: readonly Buffer[] }
  | { readonly kind: 'rcpt'; readonly address: Buffer; readonly args: readonly Buffer[] }
  | { readonly kind: 'data' }
  | { readonly kind: 'header'; readonly name: Buffer; readonly value: Buffer }
  | { readonly kind: 'eoh' }
  | { readonly kind: 'body'; readonly chunk: Buffer }
  | { readonly kind: 'eob'; readonly chunk: Buffer }
  | { readonly kind: 'abort' }
  | { readonly kind: 'quit' }
  | { readonly kind: 'quit_nc' }
  | { readonly kind: 'unknown'; readonly line: Buffer };

/** The `kind` of a command. */
export type CommandKind = Command['kind'];

const EMPTY = Buffer.alloc(0);
const IPV6_PREFIX = Buffer.from('ipv6:');

/** Decodes one frame into a command; throws MalformedPacketError or UnknownCommandError. */
export function decodeCommand(frame: Frame): Command {
  const { code, payload } = frame;
  switch (code) {
    case Cmd.OptNeg:
      return decodeOptNeg(payload);
    case Cmd.Macro:
      return decodeMacro(payload);
    case Cmd.Connect:
      return decodeConnect(payload);
    case Cmd.Helo:
      return { kind: 'helo', name: oneString(code, payload) };
    case Cmd.Mail: {
      const [address, ...args] = argv(code, payload);
      return { kind: 'mail', address: address as Buffer, args };
    }
    case Cmd.Rcpt: {
      const [address, ...args] = argv(code, payload);
      return { kind: 'rcpt', address: address as Buffer, args };
    }
    case Cmd.Data:
      return { kind: 'data' };
    case Cmd.Header:
      return decodeHeader(payload);
    case Cmd.Eoh:
      return { kind: 'eoh' };
    case Cmd.Body:
      return { kind: 'body', chunk: payload };
    case Cmd.BodyEob:
      // Postfix sends it empty; libmilter treats any payload as a last body chunk.
      return { kind: 'eob', chunk: payload };
    case Cmd.Abort:
      return { kind: 'abort' };
    case Cmd.Quit:
      return { kind: 'quit' };
    case Cmd.QuitNc:
      return { kind: 'quit_nc' };
    case Cmd.Unknown:
      return { kind: 'unknown', line: oneString(code, payload) };
    default:
      throw new UnknownCommandError(code);
  }
}

// e.g. 'O' 00000006 000001ff 001fffff (version 6, actions 0x1ff, protocol 0x1fffff)
function decodeOptNeg(payload: Buffer): Command {
  // Extra bytes after the 12 are ignored, as libmilter does.
  if (payload.length < 12)
    throw new MalformedPacketError(Cmd.OptNeg, `needs 12 bytes, got ${payload.length}`);
  return {
    kind: 'optneg',
    version: payload.readUInt32BE(0),
    actions: payload.readUInt32BE(4),
    protocol: payload.readUInt32BE(8),
  };
}

// e.g. 'D' 'C' "j\0mx.example.org\0{daemon_name}\0smtpd\0"; Postfix also sends just 'D' 'H'.
function decodeMacro(payload: Buffer): Command {
  if (payload.length < 1) throw new MalformedPacketError(Cmd.Macro, 'no stage byte');
  const strings = splitCStrings(payload.subarray(1));
  if (strings === null) throw new MalformedPacketError(Cmd.Macro, 'macro list not NUL-terminated');
  const macros: (readonly [Buffer, Buffer])[] = [];
  // An odd trailing name has no value: ignore it, as libmilter does.
  for (let i = 0; i + 1 < strings.length; i += 2) {
    macros.push([strings[i] as Buffer, strings[i + 1] as Buffer]);
  }
  return { kind: 'macro', stage: payload[0] as number, macros };
}

// e.g. 'C' "[192.0.2.7]\0" '4' 0x3039 "192.0.2.7\0"; family 'U' ends right after the family byte.
function decodeConnect(payload: Buffer): Command {
  const host = readCString(payload, 0);
  if (host === null) throw new MalformedPacketError(Cmd.Connect, 'hostname not NUL-terminated');
  const familyByte = payload[host.next];
  if (familyByte === undefined) throw new MalformedPacketError(Cmd.Connect, 'no address family');
  const family = String.fromCharCode(familyByte);
  if (family === 'U')
    return { kind: 'connect', hostname: host.value, family, port: 0, address: EMPTY };
  if (family !== '4' && family !== '6' && family !== 'L') {
    throw new MalformedPacketError(Cmd.Connect, `unknown address family '${family}'`);
  }
  const portAt = host.next + 1;
  if (payload.length < portAt + 2) throw new MalformedPacketError(Cmd.Connect, 'no port');
  const port = payload.readUInt16BE(portAt);
  const addr = readCString(payload, portAt + 2);
  if (addr === null) throw new MalformedPacketError(Cmd.Connect, 'address not NUL-terminated');
  let address = addr.value;
  // Sendmail writes IPv6 peers as "IPv6:2001:db8::1"; libmilter strips the tag, so do we.
  if (
    family === '6' &&
    address.subarray(0, IPV6_PREFIX.length).toString('latin1').toLowerCase() === 'ipv6:'
  ) {
    address = address.subarray(IPV6_PREFIX.length);
  }
  return { kind: 'connect', hostname: host.value, family, port, address };
}

// e.g. 'L' "Subject\0 hello\0" (the leading space only when HDR_LEADSPC was negotiated)
function decodeHeader(payload: Buffer): Command {
  const strings = splitCStrings(payload);
  if (strings === null || strings.length !== 2) {
    throw new MalformedPacketError(Cmd.Header, 'expected name\\0value\\0');
  }
  return { kind: 'header', name: strings[0] as Buffer, value: strings[1] as Buffer };
}

function oneString(code: number, payload: Buffer): Buffer {
  const strings = splitCStrings(payload);
  if (strings === null || strings.length < 1)
    throw new MalformedPacketError(code, 'expected one NUL-terminated string');
  return strings[0] as Buffer;
}

function argv(code: number, payload: Buffer): [Buffer, ...Buffer[]] {
  const strings = splitCStrings(payload);
  if (strings === null || strings.length < 1)
    throw new MalformedPacketError(code, 'expected address\\0[args\\0...]');
  return strings as [Buffer, ...Buffer[]];
}

/** Encodes a command as the MTA would send it (used by the fake MTA and the tests). */
export function encodeCommand(command: Command): Buffer {
  switch (command.kind) {
    case 'optneg': {
      const body = Buffer.alloc(12);
      body.writeUInt32BE(command.version, 0);
      body.writeUInt32BE(command.actions, 4);
      body.writeUInt32BE(command.protocol, 8);
      return encodeFrame(Cmd.OptNeg, body);
    }
    case 'macro':
      return encodeFrame(
        Cmd.Macro,
        Buffer.of(command.stage),
        ...command.macros.flatMap(([n, v]) => [cstring(n), cstring(v)]),
      );
    case 'connect': {
      const family = Buffer.from(command.family, 'latin1');
      if (command.family === 'U')
        return encodeFrame(Cmd.Connect, cstring(command.hostname), family);
      const port = Buffer.alloc(2);
      port.writeUInt16BE(command.port, 0);
      return encodeFrame(
        Cmd.Connect,
        cstring(command.hostname),
        family,
        port,
        cstring(command.address),
      );
    }
    case 'helo':
      return encodeFrame(Cmd.Helo, cstring(command.name));
    case 'mail':
      return encodeFrame(Cmd.Mail, cstring(command.address), ...command.args.map(cstring));
    case 'rcpt':
      return encodeFrame(Cmd.Rcpt, cstring(command.address), ...command.args.map(cstring));
    case 'data':
      return encodeFrame(Cmd.Data);
    case 'header':
      return encodeFrame(Cmd.Header, cstring(command.name), cstring(command.value));
    case 'eoh':
      return encodeFrame(Cmd.Eoh);
    case 'body':
      return encodeFrame(Cmd.Body, toBytes(command.chunk));
    case 'eob':
      return encodeFrame(Cmd.BodyEob, toBytes(command.chunk));
    case 'abort':
      return encodeFrame(Cmd.Abort);
    case 'quit':
      return encodeFrame(Cmd.Quit);
    case 'quit_nc':
      return encodeFrame(Cmd.QuitNc);
    case 'unknown':
      return encodeFrame(Cmd.Unknown, cstring(command.line));
    default:
      return assertNever(command);
  }
}
