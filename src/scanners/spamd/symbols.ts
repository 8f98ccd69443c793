/**
 * Rule names (and, where spamd gives them, scores and descriptions) from SYMBOLS, REPORT and the
 * X-Spam-Status header of PROCESS/HEADERS output.
 */
import type { ScanSymbol } from '../verdict.ts';

/** A rule name as SpamAssassin writes them (meta sub-rules `__X` never appear in replies). */
const RULE_NAME = /^[A-Za-z0-9_.-]+$/;

/**
 * Parses the SYMBOLS body: comma-separated rule names, no trailing newline (scores unknown → 0).
 * e.g. `GTUBE,NO_RECEIVED,NO_RELAYS`; an empty body when no rule fired.
 */
export function parseSymbolList(text: string): ScanSymbol[] | null {
  const trimmed = text.trim();
  if (trimmed === '' || trimmed === 'none') return [];
  const names = trimmed.split(',').map((name) => name.trim());
  if (!names.every((name) => RULE_NAME.test(name))) return null;
  return names.map((name) => ({ name, score: 0 }));
}

/**
 * Parses the rule table of spamd's report template (10_default_prefs.cf), or null when the report
 * has no such table (a custom `report` template).
 * e.g.
 * ```
 *  pts rule name              description
 * ---- ---------------------- --------------------------------------------------
 * -0.0 NO_RECEIVED            Informational: message has no Received headers
 * 1000 GTUBE                  BODY: Generic Test for Unsolicited Bulk Email
 * ```
 * Long descriptions and rule details (`[URIs: …]`) continue on lines indented by 27+ spaces.
 */
export function parseReportTable(report: string): ScanSymbol[] | null {
  const lines = report.split(/\r?\n/);
  const ruler = lines.findIndex((line) => /^-{4} -{22} -+\s*$/.test(line));
  if (ruler < 1 || !/^\s*pts\s+rule name\s+description\s*$/.test(lines[ruler - 1] ?? '')) {
    return null;
  }
  const symbols: { name: string; score: number; description: string }[] = [];
  for (const line of lines.slice(ruler + 1)) {
    if (line.trim() === '') break;
    const row = /^ {0,3}(-?\d+(?:\.\d+)?) (\S+)(?: +(.*))?$/.exec(line);
    if (row !== null && RULE_NAME.test(row[2] ?? '')) {
      const [, score = '', name = '', description = ''] = row;
      symbols.push({ name, score: Number(score) + 0, description: description.trim() });
      continue;
    }
    const last = symbols.at(-1);
    if (last === undefined || !/^ {4,}\S/.test(line)) return null;
    last.description = `${last.description} ${line.trim()}`.trim();
  }
  return symbols.map(({ name, score, description }) =>
    description === '' ? { name, score } : { name, score, description },
  );
}

/**
 * Rule names from the `tests=` field of an X-Spam-Status header in a header block (PROCESS or
 * HEADERS output), or null when there is no such header.
 * e.g. `X-Spam-Status: Yes, score=1000.0 required=5.0 tests=GTUBE,NO_RECEIVED,\n\tNO_RELAYS autolearn=disabled version=4.0.1`
 */
export function symbolsFromStatusHeader(headerBlock: string): ScanSymbol[] | null {
  const match = /^X-Spam-Status:((?:[^\r\n]*(?:\r?\n[ \t][^\r\n]*)*))/im.exec(headerBlock);
  if (match === null) return null;
  // SpamAssassin folds after a comma inside the list, or in place of a space between fields.
  const unfolded = (match[1] ?? '').replace(/,\r?\n[ \t]+/g, ',').replace(/\r?\n[ \t]+/g, ' ');
  const tests = /(?:^|[\s,])tests=(\S*)/.exec(unfolded);
  if (tests === null) return null;
  return parseSymbolList(tests[1] ?? '');
}
