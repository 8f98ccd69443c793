/**
 * The protocol trace (`--verbose`): one short record per command and per reply, for a debug log.
 * Envelope and header names are shown; header values, body bytes and macro values are not
 * (message content and credentials stay out of logs), only their sizes.
 */
import { assertNever } from '../shared/assert-never.ts';
import type { Command } from './commands.ts';
import type { Response } from './responses.ts';

/** A flat, log-friendly description. */
export type TraceRecord = Readonly<Record<string, string | number | readonly string[]>>;

const text = (bytes: Buffer | Uint8Array | string): string =>
  typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('latin1');

/** What the MTA sent, e.g. `{ cmd: 'rcpt', address: '<a@b>', args: [] }`. */
export function traceCommand(command: Command): TraceRecord {
  switch (command.kind) {
    case 'optneg':
      return {
        cmd: 'optneg',
        version: command.version,
        actions: `0x${command.actions.toString(16)}`,
        protocol: `0x${command.protocol.toString(16)}`,
      };
    case 'macro':
      return {
        cmd: 'macro',
        stage: String.fromCharCode(command.stage),
        names: command.macros.map(([name]) => text(name)),
      };
    case 'connect':
      return {
        cmd: 'connect',
        hostname: text(command.hostname),
        family: command.family,
        address: text(command.address),
        port: command.port,
      };
    case 'helo':
      return { cmd: 'helo', name: text(command.name) };
    case 'mail':
    case 'rcpt':
      return { cmd: command.kind, address: text(command.address), args: command.args.map(text) };
    case 'header':
      return { cmd: 'header', name: text(command.name), bytes: command.value.length };
    case 'body':
    case 'eob':
      return { cmd: command.kind, bytes: command.chunk.length };
    case 'unknown':
      return { cmd: 'unknown', bytes: command.line.length };
    case 'data':
    case 'eoh':
    case 'abort':
    case 'quit':
    case 'quit_nc':
      return { cmd: command.kind };
    default:
      return assertNever(command);
  }
}

/** What we answered, e.g. `{ reply: 'addheader', name: 'X-Spam-Flag' }`. */
export function traceResponse(response: Response): TraceRecord {
  switch (response.kind) {
    case 'optneg':
      return {
        reply: 'optneg',
        version: response.version,
        actions: `0x${response.actions.toString(16)}`,
        protocol: `0x${response.protocol.toString(16)}`,
      };
    case 'replycode':
      return { reply: 'replycode', text: text(response.text) };
    case 'addheader':
      return { reply: 'addheader', name: text(response.name), bytes: text(response.value).length };
    case 'insheader':
    case 'chgheader':
      return {
        reply: response.kind,
        name: text(response.name),
        index: response.index,
        bytes: text(response.value).length,
      };
    case 'addrcpt':
    case 'delrcpt':
      return { reply: response.kind, rcpt: text(response.rcpt) };
    case 'addrcpt_par':
      return { reply: response.kind, rcpt: text(response.rcpt), args: response.args.map(text) };
    case 'chgfrom':
      return { reply: 'chgfrom', from: text(response.from), args: response.args.map(text) };
    case 'replbody':
      return { reply: 'replbody', bytes: response.chunk.length };
    case 'quarantine':
      return { reply: 'quarantine', reason: text(response.reason) };
    case 'accept':
    case 'continue':
    case 'discard':
    case 'reject':
    case 'tempfail':
    case 'skip':
    case 'progress':
    case 'shutdown':
      return { reply: response.kind };
    default:
      return assertNever(response);
  }
}
