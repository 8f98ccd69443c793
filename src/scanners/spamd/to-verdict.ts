/**
 * Normalises a spamd scan reply to the shared Verdict: spam → `reject`, ham → `no action`,
 * symbols from whatever the verb gives (names only from SYMBOLS and X-Spam-Status, scores and
 * descriptions from REPORT's table), the report text, PROCESS/HEADERS output as `rewritten`.
 */
import { assertNever } from '../../shared/assert-never.ts';
import { BadResponseError } from '../errors.ts';
import { ScanAction, type ScanSymbol, type Verdict } from '../verdict.ts';
import type { SpamdScanReply } from './codec.ts';
import type { SpamdScanVerb } from './protocol.ts';
import { stripReceived } from './received.ts';
import { parseReportTable, parseSymbolList, symbolsFromStatusHeader } from './symbols.ts';

/**
 * Builds the Verdict for a reply to `verb`. `received` is the Received header we prepended: it
 * is cut out of PROCESS/HEADERS output again, so `rewritten` only holds spamd's own changes.
 */
export function toVerdict(
  scanner: string,
  verb: SpamdScanVerb,
  reply: SpamdScanReply,
  received: Buffer | null,
): Verdict {
  const { isSpam, score, required } = reply.spam;
  const base = {
    scanner,
    score,
    required,
    isSpam,
    action: isSpam ? ScanAction.Reject : ScanAction.NoAction,
    addHeaders: [],
    removeHeaders: [],
  };
  switch (verb) {
    case 'CHECK':
      return { ...base, symbols: [] };
    case 'SYMBOLS': {
      const symbols = parseSymbolList(reply.body.toString('latin1'));
      if (symbols === null) throw new BadResponseError(scanner, 'SYMBOLS body is not a rule list');
      return { ...base, symbols };
    }
    case 'REPORT':
    case 'REPORT_IFSPAM': {
      const report = reply.body.toString('utf8');
      const symbols: ScanSymbol[] = parseReportTable(report) ?? [];
      return report === '' ? { ...base, symbols } : { ...base, symbols, report };
    }
    case 'PROCESS':
    case 'HEADERS': {
      const bytes = received === null ? reply.body : stripReceived(reply.body, received);
      const symbols = symbolsFromStatusHeader(headerBlock(bytes)) ?? [];
      const kind = verb === 'PROCESS' ? 'message' : 'headers';
      return { ...base, symbols, rewritten: { kind, bytes } };
    }
    default:
      return assertNever(verb);
  }
}

/** The header block of a message as text (up to the first blank line). */
function headerBlock(message: Buffer): string {
  const text = message.toString('latin1');
  const end = /\r?\n\r?\n/.exec(text);
  return end === null ? text : text.slice(0, end.index);
}
