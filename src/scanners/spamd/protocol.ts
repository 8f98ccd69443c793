/**
 * SPAMC/SPAMD protocol constants, spelled exactly as spamd 4.0.1 spells them (header names are
 * case-sensitive on the wire: `Content-length`, not `Content-Length`).
 */

/** The protocol version we send on every request line. */
export const SPAMC_VERSION = 'SPAMC/1.5';

/** Request verbs (case-sensitive). */
export const SpamdVerb = {
  Check: 'CHECK',
  Symbols: 'SYMBOLS',
  Report: 'REPORT',
  ReportIfSpam: 'REPORT_IFSPAM',
  Process: 'PROCESS',
  Headers: 'HEADERS',
  Ping: 'PING',
  Tell: 'TELL',
} as const;

/** One request verb. */
export type SpamdVerb = (typeof SpamdVerb)[keyof typeof SpamdVerb];

/** The verbs that scan a message and answer with a `Spam:` header. */
export type SpamdScanVerb = Exclude<SpamdVerb, 'PING' | 'TELL'>;

/** Every scan verb, for validating configuration. */
export const SCAN_VERBS: readonly SpamdScanVerb[] = [
  SpamdVerb.Check,
  SpamdVerb.Symbols,
  SpamdVerb.Report,
  SpamdVerb.ReportIfSpam,
  SpamdVerb.Process,
  SpamdVerb.Headers,
];

/** Header names in requests and replies. */
export const SpamdHeader = {
  ContentLength: 'Content-length',
  Spam: 'Spam',
  User: 'User',
  Compress: 'Compress',
  MessageClass: 'Message-class',
  Set: 'Set',
  Remove: 'Remove',
  DidSet: 'DidSet',
  DidRemove: 'DidRemove',
} as const;

/** The only `Compress:` value spamd accepts. */
export const COMPRESS_ZLIB = 'zlib';

/** `Message-class:` values (spamd compares case-sensitively; anything else is learned as ham). */
export const MessageClass = { Spam: 'spam', Ham: 'ham' } as const;

/** One message class. */
export type MessageClass = (typeof MessageClass)[keyof typeof MessageClass];

/** Databases a TELL can set or remove a message in (`remote` = Razor/Pyzor/DCC reporting). */
export const TellTarget = { Local: 'local', Remote: 'remote' } as const;

/** One TELL database. */
export type TellTarget = (typeof TellTarget)[keyof typeof TellTarget];

/** sysexits.h codes as spamd uses them on its status line. */
export const SysExit = {
  EX_OK: 0,
  EX_USAGE: 64,
  EX_DATAERR: 65,
  EX_NOINPUT: 66,
  EX_NOUSER: 67,
  EX_NOHOST: 68,
  EX_UNAVAILABLE: 69,
  EX_SOFTWARE: 70,
  EX_OSERR: 71,
  EX_OSFILE: 72,
  EX_CANTCREAT: 73,
  EX_IOERR: 74,
  EX_TEMPFAIL: 75,
  EX_PROTOCOL: 76,
  EX_NOPERM: 77,
  EX_CONFIG: 78,
  EX_TIMEOUT: 79,
} as const;

/**
 * Error codes after which another server (or a later try) may succeed: the server was
 * unavailable or failed on I/O. Protocol, usage and data errors would fail the same way
 * everywhere; EX_TIMEOUT (spamd's own child timeout) is, like our ScanTimeoutError, time already
 * spent on a message another server would likely find as slow.
 */
const RETRYABLE: ReadonlySet<number> = new Set([
  SysExit.EX_UNAVAILABLE,
  SysExit.EX_OSERR,
  SysExit.EX_IOERR,
  SysExit.EX_TEMPFAIL,
]);

/** True when a spamd error status may succeed on another server. */
export function isRetryableStatus(code: number): boolean {
  return RETRYABLE.has(code);
}

/** The sysexits name of a code (`EX_PROTOCOL`), or undefined for codes spamd does not use. */
export function sysExitName(code: number): string | undefined {
  for (const [name, value] of Object.entries(SysExit)) if (value === code) return name;
  return undefined;
}

/** spamd's 69 reply when it was started without `--allow-tell`. */
export const TELL_DISABLED_TEXT = 'TELL commands are not enabled';
