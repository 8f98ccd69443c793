/**
 * The header work the policy needs, behind one small interface: our X-Spam-* family, the
 * scanner's own add/remove instructions, deletion of forged verdicts, and the subject tag.
 */
import { hasOverlongLine } from '../actions/fold.ts';
import { forgedHeaderDeletions } from '../actions/forged-headers.ts';
import { spamHeaderModifications } from '../actions/spam-headers.ts';
import { subjectTagModification } from '../actions/subject-tag.ts';
import type { Config } from '../config/schema.ts';
import type { Modification } from '../filter/decision.ts';
import type { HeaderField } from '../message/message.ts';
import type { Verdict } from '../scanners/verdict.ts';

/** Header modifications for one message. */
export interface HeaderKit {
  /** Our verdict headers (profile from the config); `queueId` is the MTA's. */
  spamHeaders(verdict: Verdict, queueId: string): Modification[];
  /**
   * What the scanner itself asked to add or remove (rspamd's milter block), minus the headers in
   * `ours` (what `spamHeaders` gave for this message: our rendering wins over the scanner's copy).
   */
  scannerHeaders(
    headers: readonly HeaderField[],
    verdict: Verdict,
    ours: readonly Modification[],
  ): Modification[];
  /** Deletions of headers of our family that arrived with the message. */
  forgedDeletions(headers: readonly HeaderField[]): Modification[];
  /** The Subject change for spam, if any. */
  subjectTag(headers: readonly HeaderField[], verdict: Verdict): Modification | undefined;
}

/** The kit for a configuration. */
export function headerKit(config: Config, info: { version: string; hostname: string }): HeaderKit {
  const profile = config.headers.profile;
  const render = (verdict: Verdict, queueId?: string): Modification[] =>
    spamHeaderModifications(verdict, {
      profile,
      checkerVersion: `Spamward ${info.version} (${scannerName(verdict.scanner)})`,
      hostname: info.hostname,
      report: config.headers.report,
      ...(queueId === undefined ? {} : { queueId }),
    });
  return {
    spamHeaders: render,
    scannerHeaders(headers, verdict, rendered) {
      // Our own rendering wins over the scanner's copy of the same header (rspamd's milter_headers).
      const ours = new Set(rendered.map((m) => ('name' in m ? m.name.toLowerCase() : '')));
      const out: Modification[] = [];
      for (const remove of verdict.removeHeaders) {
        if (ours.has(remove.name.toLowerCase())) continue;
        out.push(...deletions(headers, remove.name, remove.index));
      }
      for (const add of verdict.addHeaders) {
        // A scanner's line longer than RFC 5322 allows (998) is dropped, never sent to the MTA.
        if (ours.has(add.name.toLowerCase()) || hasOverlongLine(add.name, add.value)) continue;
        out.push({ kind: 'add-header', name: add.name, value: add.value });
      }
      return out;
    },
    forgedDeletions: (headers) => forgedHeaderDeletions(headers, profile),
    subjectTag: (headers, verdict) =>
      subjectTagModification(headers, config.subjectTag.text, verdict),
  };
}

/** `spamd://127.0.0.1:783` → `spamd`, `builtin` → `builtin`; no addresses in the header. */
export function scannerName(url: string): string {
  if (url === 'builtin') return 'builtin';
  return /^[a-z+]+(?=:)/i.exec(url)?.[0]?.replace(/\+.*/, '') ?? 'scanner';
}

/**
 * rspamd's removal: index 0 = every occurrence, n > 0 = the n-th, n < 0 = the n-th from the end.
 * Deleted from the highest occurrence down, so earlier indices stay valid.
 */
function deletions(headers: readonly HeaderField[], name: string, index: number): Modification[] {
  const count = headers.filter((h) => h.name.toLowerCase() === name.toLowerCase()).length;
  const targets =
    index === 0
      ? Array.from({ length: count }, (_, i) => count - i)
      : [index > 0 ? index : count + 1 + index];
  return targets
    .filter((n) => n >= 1 && n <= count)
    .map((occurrence) => ({ kind: 'delete-header', name, occurrence }));
}
