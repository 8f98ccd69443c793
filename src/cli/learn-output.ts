/**
 * What `spamward learn` shows: a one-line progress bar redrawn with `\r` on a terminal (stderr),
 * and the summary as text for a person or as JSON for a program.
 */
import type { LearnProgress } from './learn-run.ts';
import type { LearnSummary } from './learn-summary.ts';

/** The progress line for `p`, with a bar `width` characters wide. */
export function renderProgress(p: LearnProgress, width = 24): string {
  const fraction = p.filesTotal === 0 ? 1 : Math.min(1, p.filesDone / p.filesTotal);
  const filled = Math.round(fraction * width);
  const bar = `${'#'.repeat(filled)}${'-'.repeat(width - filled)}`;
  const percent = String(Math.floor(fraction * 100)).padStart(3);
  const moved = p.moved > 0 ? `, ${p.moved} moved` : '';
  return `[${bar}] ${percent}% ${p.filesDone}/${p.filesTotal} files: ${p.learned} learned, ${p.skipped} skipped, ${p.failed} failed${moved}`;
}

/** Where the progress line goes: a terminal stream. */
export interface ProgressStream {
  write(text: string): unknown;
  readonly columns?: number;
}

/** Redraws the progress line at most every `intervalMs`; `finish` clears it. */
export class ProgressLine {
  readonly #stream: ProgressStream;
  readonly #intervalMs: number;
  #last = 0;
  #shown = false;

  constructor(stream: ProgressStream, intervalMs = 100) {
    this.#stream = stream;
    this.#intervalMs = intervalMs;
  }

  /** Draws `p` unless the last drawing is too recent (the final state is always drawn). */
  update(p: LearnProgress): void {
    const now = Date.now();
    if (p.filesDone < p.filesTotal && now - this.#last < this.#intervalMs) return;
    this.#last = now;
    const columns = this.#stream.columns || 80; // 0 when the terminal size is unknown
    const line = renderProgress(p).slice(0, Math.max(10, columns - 1));
    this.#stream.write(`\r${line}\x1b[K`);
    this.#shown = true;
  }

  /** Clears the line. */
  finish(): void {
    if (this.#shown) this.#stream.write('\r\x1b[K');
    this.#shown = false;
  }
}

/** The summary as JSON (one object, pretty-printed). */
export function summaryJson(summary: LearnSummary): string {
  return `${JSON.stringify(summary, null, 2)}\n`;
}

/** The summary as a few lines of text. */
export function summaryText(summary: LearnSummary): string {
  const lines = [
    `${summary.scanner}: ${summary.learned} learned, ${summary.skipped} skipped, ${summary.failed} failed, ${summary.moved} moved`,
  ];
  for (const [folder, c] of Object.entries(summary.byFolder)) {
    const moved = c.moved > 0 ? `, ${c.moved} moved` : '';
    lines.push(
      `  ${c.kind.padEnd(6)} ${folder}: ${c.learned} learned, ${c.skipped} skipped, ${c.failed} failed${moved}`,
    );
  }
  if (summary.stopped !== null)
    lines.push(`stopped early: ${summary.stopped.code}: ${summary.stopped.message}`);
  if (summary.errors.length > 0) lines.push('errors:');
  for (const e of summary.errors) lines.push(`  ${e.path}: ${e.code}: ${e.message}`);
  if (summary.errorsOmitted > 0) lines.push(`  … and ${summary.errorsOmitted} more`);
  return `${lines.join('\n')}\n`;
}
