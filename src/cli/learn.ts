/**
 * `spamward learn`: teaches a scanner's classifier from stored mail — message files, mboxes and
 * Maildirs — or runs the training loop over users' Maildirs (learn the Train folders, move what
 * was learned to the trash). See HELP for the options and exit statuses.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { buildScannerPool, scannerSettings, scannerUrls } from '../daemon/scanner-pool.ts';
import { LEDGER_FILE, type Ledger, openLedger } from '../mailbox/ledger.ts';
import { parseBuiltinUrl } from '../scanners/builtin/url.ts';
import { createScanner, scannerKind } from '../scanners/factory.ts';
import type { LearnKind, Scanner } from '../scanners/scanner.ts';
import { ProgressLine, summaryJson, summaryText } from './learn-output.ts';
import { LEARN_CONCURRENCY, type LearnJob, runLearn } from './learn-run.ts';
import { jobsFromPaths, jobsFromTraining, type TrainingPlan } from './learn-sources.ts';
import { LearnExit, LearnTally } from './learn-summary.ts';
import { CliUsageError, print } from './output.ts';

const HELP = `Usage: spamward learn --spam|--ham|--forget [options] PATH…
       spamward learn --maildir-root GLOB [--spam-folder NAME] [--ham-folder NAME]
                      [--move-to NAME] [options]

Teaches a scanner's classifier from stored mail. A PATH is a message file, an mbox (a file
starting with a "From " line) or a directory, read recursively (Maildirs: cur/ and new/, and
their Maildir++ subfolders).
  --spam | --ham | --forget  what to teach (forget unlearns; rspamd cannot forget)
  --scanner URL        the scanner to teach (repeat for a pool sharing one database); default
                       the configured scanner.urls, else the built-in engine in
                       scanner.builtin.dataDir (as the daemon would use it)
  --config FILE        YAML configuration (scanner settings, rspamd password, data directory)
  --password PW        rspamd controller password (scanner.rspamd.password)
  --user NAME          whose Bayes database to teach (spamd User:, rspamd Deliver-To)
  --timeout-ms N       timeout per message (default scanner.scanTimeoutMs)
  --json               print the summary as JSON (the default when stdout is not a terminal)
  --ledger FILE        the learned-messages ledger (default DATADIR/${LEDGER_FILE}, DATADIR
                       being the built-in engine's data directory)
  --no-ledger          neither read nor write the ledger

Training loop:
  --maildir-root GLOB  the Maildirs to train from; * and ? match within one path segment,
                       e.g. '/home/*/Maildir' (quote it; repeatable)
  --spam-folder NAME   a folder of each Maildir holding spam, e.g. .Train.Spam (repeatable)
  --ham-folder NAME    a folder holding ham, e.g. .Train.Ham (repeatable)
  --move-to NAME       move each learned (or already known) message file into this folder's
                       cur/, e.g. .Trash (created when missing); without it files stay put

A message the ledger lists as taught to this scanner as that class is skipped without asking
the scanner (it is known by Message-ID and body hash); one the scanner already knew also counts
as skipped. ${LEARN_CONCURRENCY} learn calls run at once. Progress goes to stderr on a terminal.

Exit: 0 everything learned or skipped; 64 usage; 65 some messages refused by the scanner or
empty; 66 some paths unreadable, or a glob matched nothing; 70 internal error; 73 a learned
message could not be moved; 74 the token store or the ledger failed (stopped); 75 the scanner
was unavailable or timed out, or Ctrl-C (stopped; messages not learned are not moved, run it
again); 78 bad configuration, or the scanner cannot learn (spamd without --allow-tell, rspamd
without password). With several problems, the first of 78 75 74 70 73 66 65 is returned.`;

/** The parsed command line. */
interface LearnArgs {
  readonly configFile: string | undefined;
  readonly flags: Record<string, unknown>;
  readonly json: boolean;
  readonly user: string | undefined;
  readonly ledger: string | false | undefined;
  readonly mode:
    | { readonly kind: 'paths'; readonly learn: LearnKind; readonly paths: readonly string[] }
    | { readonly kind: 'training'; readonly plan: TrainingPlan };
}

/** Runs `learn`; resolves with the exit code. */
export async function learnCommand(args: string[]): Promise<number> {
  const parsed = parseLearnArgs(args);
  if (parsed === 'help') {
    print(`${HELP}\n`);
    return 0;
  }
  const { config, warnings } = await loadConfig({
    file: parsed.configFile,
    env: process.env,
    flags: parsed.flags,
  });
  for (const warning of warnings) process.stderr.write(`spamward: warning: ${warning}\n`);
  const { scanner, scannerId, dataDir } = buildLearnScanner(config);
  const tally = new LearnTally(scannerId);

  let ledger: Ledger | undefined;
  if (parsed.ledger !== false) {
    const file = parsed.ledger ?? join(dataDir, LEDGER_FILE);
    try {
      ledger = await openLedger(file);
    } catch (error) {
      process.stderr.write(
        `spamward: cannot open the ledger ${file}: ${(error as Error).message} (use --ledger FILE or --no-ledger)\n`,
      );
      return LearnExit.IoErr;
    }
  }

  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once('SIGINT', onSigint);
  const progress =
    process.stderr.isTTY === true && !parsed.json ? new ProgressLine(process.stderr) : undefined;
  try {
    const jobs: LearnJob[] =
      parsed.mode.kind === 'paths'
        ? await jobsFromPaths(parsed.mode.paths, parsed.mode.learn, tally)
        : await jobsFromTraining(parsed.mode.plan, tally);
    await runLearn(jobs, tally, {
      scanner,
      scannerId,
      ledger,
      timeoutMs: config.scanner.scanTimeoutMs,
      signal: controller.signal,
      envelope: {
        recipients: [],
        ...(parsed.user === undefined ? {} : { prefsUser: parsed.user }),
      },
      ...(progress === undefined ? {} : { onProgress: (p) => progress.update(p) }),
    });
  } finally {
    progress?.finish();
    process.off('SIGINT', onSigint);
    await ledger?.close();
    await scanner.close?.();
  }
  const summary = tally.summary();
  print(parsed.json || process.stdout.isTTY !== true ? summaryJson(summary) : summaryText(summary));
  return tally.exitCode();
}

/** The scanner to teach (as the daemon would build it), its ledger name and data directory. */
export function buildLearnScanner(config: Config): {
  scanner: Scanner;
  scannerId: string;
  dataDir: string;
} {
  const settings = scannerSettings(config.scanner);
  const urls = scannerUrls(config.scanner);
  const first = urls[0] ?? 'builtin';
  let dataDir = settings.builtinDataDir ?? '.';
  if (urls.length === 1 && scannerKind(first) === 'builtin') {
    const { target } = parseBuiltinUrl(first, dataDir);
    if (target.kind === 'sqlite') dataDir = target.dataDir;
  }
  if (urls.length === 1) {
    const scanner = createScanner(first, settings);
    return { scanner, scannerId: scanner.url, dataDir };
  }
  const pool = buildScannerPool(config.scanner);
  return { scanner: pool, scannerId: pool.memberUrls.join(','), dataDir };
}

/** Parses and checks the command line (throws CliUsageError). */
export function parseLearnArgs(args: string[]): LearnArgs | 'help' {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      spam: { type: 'boolean' },
      ham: { type: 'boolean' },
      forget: { type: 'boolean' },
      scanner: { type: 'string', multiple: true },
      config: { type: 'string' },
      password: { type: 'string' },
      user: { type: 'string' },
      'timeout-ms': { type: 'string' },
      json: { type: 'boolean' },
      ledger: { type: 'string' },
      'no-ledger': { type: 'boolean' },
      'maildir-root': { type: 'string', multiple: true },
      'spam-folder': { type: 'string', multiple: true },
      'ham-folder': { type: 'string', multiple: true },
      'move-to': { type: 'string' },
    },
  });
  if (values.help === true) return 'help';
  const flags: Record<string, unknown> = {};
  if (values.scanner !== undefined) {
    for (const url of values.scanner) scannerKind(url); // a bad scheme is a usage error
    flags['scanner.urls'] = values.scanner;
  }
  if (values.password !== undefined) flags['scanner.rspamd.password'] = values.password;
  const timeout = values['timeout-ms'];
  if (timeout !== undefined) {
    if (!/^\d+$/.test(timeout) || Number(timeout) < 1)
      throw new CliUsageError(`--timeout-ms: "${timeout}" is not a positive number`);
    flags['scanner.scanTimeoutMs'] = Number(timeout);
  }
  if (values.ledger !== undefined && values['no-ledger'] === true)
    throw new CliUsageError('--ledger and --no-ledger exclude each other');
  const kinds = (['spam', 'ham', 'forget'] as const).filter((k) => values[k] === true);
  const common = {
    configFile: values.config,
    flags,
    json: values.json === true,
    user: values.user,
    ledger: values['no-ledger'] === true ? (false as const) : values.ledger,
  };
  const roots = values['maildir-root'] ?? [];
  const spamFolders = values['spam-folder'] ?? [];
  const hamFolders = values['ham-folder'] ?? [];
  const moveTo = values['move-to'];
  if (roots.length === 0) {
    if (spamFolders.length + hamFolders.length > 0 || moveTo !== undefined)
      throw new CliUsageError('--spam-folder, --ham-folder and --move-to need --maildir-root');
    const [learn, ...more] = kinds;
    if (learn === undefined || more.length > 0)
      throw new CliUsageError('learn needs exactly one of --spam, --ham or --forget');
    if (positionals.length === 0) throw new CliUsageError('learn needs at least one PATH');
    return { ...common, mode: { kind: 'paths', learn, paths: positionals } };
  }
  if (kinds.length > 0 || positionals.length > 0)
    throw new CliUsageError(
      'with --maildir-root, the folders say what to learn: no --spam/--ham/--forget, no PATHs',
    );
  if (spamFolders.length + hamFolders.length === 0)
    throw new CliUsageError('--maildir-root needs --spam-folder and/or --ham-folder');
  const folders = [...spamFolders, ...hamFolders, ...(moveTo === undefined ? [] : [moveTo])];
  for (const folder of folders) checkFolderName(folder);
  if (new Set(folders).size !== folders.length)
    throw new CliUsageError(
      '--spam-folder, --ham-folder and --move-to must name different folders',
    );
  return {
    ...common,
    mode: { kind: 'training', plan: { roots, spamFolders, hamFolders, moveTo } },
  };
}

function checkFolderName(folder: string): void {
  const segments = folder.split('/');
  if (folder === '' || folder.startsWith('/') || segments.some((s) => s === '..' || s === ''))
    throw new CliUsageError(`"${folder}" must be a folder name relative to the Maildir root`);
  if (['cur', 'new', 'tmp'].includes(segments[0] ?? ''))
    throw new CliUsageError(`"${folder}" names a Maildir's own cur/, new/ or tmp/`);
}
