/**
 * docs/migrating.md and docs/access-map.md name configuration keys, environment variables and
 * command-line flags; every one of them must exist. Nothing is listed by hand: keys and
 * environment names come from the schema (src/config/paths.ts), flags from each command's
 * `--help` output, YAML examples are validated like a configuration file and access map
 * examples are parsed like a map file. The structure of the migration guide (one section per
 * tool, every option of the tool in its tables) is checked as well.
 *
 * Conventions the checker relies on (stated at the top of docs/migrating.md):
 * - In a table, the column whose header contains "Spamward" holds Spamward's side: there every
 *   backticked key is checked, `key: value` also has its value validated, and a bare `--flag`
 *   is a `spamward run` flag. Elsewhere only tokens that are clearly ours are checked: dotted
 *   paths starting with a top-level key, camelCase names, `SPAMWARD_*` and `spamward CMD …`.
 * - ```yaml blocks are Spamward configurations; ```access-map blocks are access maps;
 *   `spamward …` lines in ```sh blocks are checked like inline commands.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../../src/config/errors.ts';
import { validate } from '../../src/config/load.ts';
import { envName, leaves } from '../../src/config/paths.ts';
import { ConfigSchema } from '../../src/config/schema.ts';
import { parseAccessMap } from '../../src/policy/access-map.ts';

const ROOT = new URL('../../', import.meta.url);
const MIGRATING = readFileSync(new URL('docs/migrating.md', ROOT), 'utf8');
const ACCESS_MAP = readFileSync(new URL('docs/access-map.md', ROOT), 'utf8');

/** What the documentation may name. */
interface Vocabulary {
  /** Leaves and the sections above them, as dotted paths. */
  readonly keys: ReadonlySet<string>;
  readonly topLevel: ReadonlySet<string>;
  readonly envNames: ReadonlySet<string>;
  /** Command name → its long flags (`--dry-run`); '' is `spamward` itself. */
  readonly commands: ReadonlyMap<string, ReadonlySet<string>>;
}

/** One thing in a document that does not exist, with the line it is on. */
interface Problem {
  readonly line: number;
  readonly token: string;
  readonly reason: string;
}

/** `spamward ARGS…` through the source, as `npm test` runs it; resolves with standard output. */
async function cli(args: readonly string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', ...args],
    { cwd: ROOT, encoding: 'utf8', timeout: 60_000 },
  );
  return stdout;
}

/** Every `--long-flag` a help text mentions. */
function helpFlags(help: string): Set<string> {
  return new Set(['--help', ...(help.match(/(?<![\w-])--[a-z][a-z0-9-]*/g) ?? [])]);
}

/** Reads the schema and the commands' help texts. */
async function vocabulary(): Promise<Vocabulary> {
  const keys = new Set<string>();
  const envNames = new Set<string>();
  for (const leaf of leaves(ConfigSchema)) {
    const parts = leaf.path.split('.');
    for (let i = 1; i <= parts.length; i++) keys.add(parts.slice(0, i).join('.'));
    envNames.add(envName(leaf.path));
  }
  const topLevel = new Set([...keys].filter((k) => !k.includes('.')));
  const usage = await cli(['--help']);
  const listed = usage.split(/^Commands:$/m)[1]?.split(/\n\s*\n/)[0] ?? '';
  const names = [...listed.matchAll(/^ {2}([a-z][a-z-]*)\b/gm)].map((m) => m[1] ?? '');
  assert.ok(names.includes('run'), `no commands found in:\n${usage}`);
  const commands = new Map<string, ReadonlySet<string>>([['', helpFlags('')]]);
  const helps = await Promise.all(names.map((name) => cli([name, '--help'])));
  names.forEach((name, i) => {
    commands.set(name, helpFlags(helps[i] ?? ''));
  });
  return { keys, topLevel, envNames, commands };
}

/** `a.b.c` optionally followed by `: value` (a space after the colon, so URLs never match). */
const KEY = /^([a-z][A-Za-z0-9]*(?:\.[a-z][A-Za-z0-9]*)*)(?::\s+(.+))?$/;

/** Sets `value` at a dotted path of a new tree. */
function tree(path: string, value: unknown): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  let node = root;
  const parts = path.split('.');
  for (const part of parts.slice(0, -1)) {
    const child: Record<string, unknown> = {};
    node[part] = child;
    node = child;
  }
  node[parts[parts.length - 1] ?? ''] = value;
  return root;
}

/** The problems `validate` finds in a settings tree, or its own failure. */
function configProblems(settings: unknown): string[] {
  try {
    validate(settings, 'doc');
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.path}: ${p.reason}`);
    throw error;
  }
}

/** Checks `spamward CMD --flag …`: the command exists and has each long flag. */
function checkCommandLine(text: string, vocab: Vocabulary): string[] {
  const words = text.trim().split(/\s+/).slice(1);
  const first = words[0] ?? '';
  const command = first.startsWith('-') ? '' : first;
  const flags = vocab.commands.get(command);
  if (flags === undefined) return [`spamward has no command "${command}"`];
  const out: string[] = [];
  for (const word of command === '' ? words : words.slice(1)) {
    if (/^-[A-Za-z]$/.test(word)) out.push(`short flag ${word}: document the long form`);
    if (!word.startsWith('--')) continue;
    const flag = word.replace(/=.*$/, '');
    if (!flags.has(flag)) out.push(`spamward ${command || '(no command)'} has no ${flag}`);
  }
  return out;
}

/** Checks one backticked token; `strict` inside a table's Spamward column. */
function checkToken(raw: string, strict: boolean, vocab: Vocabulary): string[] {
  const token = raw.trim();
  if (/^spamward(\s|$)/.test(token)) return checkCommandLine(token, vocab);
  if (/^SPAMWARD_[A-Z0-9_]+$/.test(token))
    return vocab.envNames.has(token) ? [] : [`no configuration key has the variable ${token}`];
  if (token.startsWith('--')) return strict ? checkCommandLine(`spamward run ${token}`, vocab) : [];
  const match = KEY.exec(token);
  if (match === null) return [];
  const key = match[1] ?? '';
  const value = match[2];
  const ours = strict
    ? key.includes('.') || /[A-Z]/.test(key) || value !== undefined || vocab.topLevel.has(key)
    : vocab.topLevel.has(key.split('.')[0] ?? '') || /[A-Z]/.test(key);
  if (!ours) return [];
  if (!vocab.keys.has(key)) return [`no configuration key ${key}`];
  if (value === undefined) return [];
  let parsed: unknown;
  try {
    parsed = parseYaml(value);
  } catch (error) {
    return [`value of ${key} is not YAML: ${(error as Error).message}`];
  }
  return configProblems(tree(key, parsed));
}

/** Splits a table row into cells (pipes escaped as `\|` stay inside their cell). */
function cells(row: string): string[] {
  return row
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split(/(?<!\\)\|/)
    .map((c) => c.trim().replaceAll('\\|', '|'));
}

/** The backticked spans of a piece of Markdown. */
function codeSpans(text: string): string[] {
  return [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1] ?? '');
}

const SEPARATOR = /^\|?\s*:?-{3,}/;

/** Every key, variable, flag, YAML example and access map example of a document that is wrong. */
function checkDoc(text: string, vocab: Vocabulary): Problem[] {
  const problems: Problem[] = [];
  const lines = text.split('\n');
  let spamwardColumn = -1;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const report = (token: string, reasons: readonly string[], at = i + 1) => {
      for (const reason of reasons) problems.push({ line: at, token, reason });
    };
    const fence = /^\s*(`{3,}|~{3,})\s*([\w-]*)/.exec(line);
    if (fence !== null) {
      const [, marker = '```', lang = ''] = fence;
      const start = i + 1;
      const body: string[] = [];
      for (i++; i < lines.length && !(lines[i] ?? '').trim().startsWith(marker); i++)
        body.push(lines[i] ?? '');
      const block = body.join('\n');
      if (lang === 'yaml') {
        try {
          report('```yaml', configProblems(parseYaml(block) ?? {}), start);
        } catch (error) {
          report('```yaml', [`not YAML: ${(error as Error).message}`], start);
        }
      } else if (lang === 'access-map') {
        try {
          parseAccessMap(block, 'example');
        } catch (error) {
          report('```access-map', [(error as Error).message], start);
        }
      } else if (['sh', 'shell', 'console', 'bash'].includes(lang)) {
        body.forEach((command, n) => {
          const found = /(?:^|[\s$])(spamward\s[^#|;&]*)/.exec(command);
          if (found?.[1] !== undefined)
            report(found[1].trim(), checkCommandLine(found[1], vocab), start + n + 1);
        });
      }
      spamwardColumn = -1;
      continue;
    }
    if (!line.trimStart().startsWith('|')) {
      spamwardColumn = -1;
      for (const span of codeSpans(line)) report(span, checkToken(span, false, vocab));
      continue;
    }
    if (SEPARATOR.test(line.trim())) continue;
    const row = cells(line);
    if (SEPARATOR.test((lines[i + 1] ?? '').trim())) {
      spamwardColumn = row.findIndex((c) => /spamward/i.test(c));
      continue;
    }
    row.forEach((cell, column) => {
      for (const span of codeSpans(cell))
        report(span, checkToken(span, column === spamwardColumn, vocab));
    });
  }
  return problems;
}

/** A Markdown table: header cells and data rows. */
interface Table {
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

/** `## ` sections of a document by heading text. */
function sections(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of text.split(/^## /m).slice(1)) {
    const newline = part.indexOf('\n');
    out.set(part.slice(0, newline).trim(), part.slice(newline + 1));
  }
  return out;
}

/** The tables of a piece of Markdown, outside code blocks. */
function tables(text: string): Table[] {
  const out: Table[] = [];
  const lines = text.split('\n');
  let inCode = false;
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    if (/^(`{3,}|~{3,})/.test(line)) inCode = !inCode;
    if (inCode || !line.startsWith('|') || !SEPARATOR.test((lines[i + 1] ?? '').trim())) continue;
    const header = cells(line);
    const rows: string[][] = [];
    for (i += 2; i < lines.length && (lines[i] ?? '').trim().startsWith('|'); i++)
      rows.push(cells(lines[i] ?? ''));
    i--;
    out.push({ header, rows });
  }
  return out;
}

/** The section whose heading starts with `name`. */
function section(text: string, name: string): string {
  for (const [heading, body] of sections(text))
    if (heading.toLowerCase().startsWith(name.toLowerCase())) return body;
  assert.fail(`no "## ${name}…" section`);
}

/** The option spans of a first cell, without the +/- of boolean options (`-quit` → `quit`). */
function optionSpans(cell: string): string[] {
  return codeSpans(cell).map((span) => {
    const text = span.trim();
    return /^[+-][a-z]{2,}/.test(text) ? text.slice(1) : text;
  });
}

/** Does a first cell name `option` (alone, or followed by its argument)? */
function names(cell: string, option: string): boolean {
  return optionSpans(cell).some(
    (span) =>
      span === option || (span.startsWith(option) && /[\s=]/.test(span[option.length] ?? '')),
  );
}

/**
 * Each tool's options as the reference inventory lists them; every one must be in the first
 * column of one of the section's tables.
 */
const TOOLS: Readonly<Record<string, readonly string[]>> = {
  'spamassassin-milter': [
    'SOCKET',
    '-a',
    '-t',
    '-n',
    '-r',
    '-C',
    '-S',
    '-R',
    '-B',
    '-H',
    '-s',
    '-v',
    'SPAMC_ARGS',
  ],
  'spamass-milter': [
    '-p',
    '-f',
    '-P',
    '-d',
    '-D',
    '-i',
    '-a',
    '-I',
    '-m',
    '-M',
    '-r',
    '-R',
    '-C',
    '-b',
    '-B',
    '-u',
    '-e',
    '-x',
    '-S',
    '--',
    '-g',
    '-T',
    '-c',
    '-l',
    '-A',
    '-Q',
    'SOCKETOWNER',
    'SOCKETMODE',
    'RUNAS',
  ],
  'milter-spamc': [
    'access-db',
    'milter-spamc-Connect:',
    'milter-spamc-From:',
    'milter-spamc-To:',
    'milter-spamc-Auth:',
    'Spam:FRIEND',
    'Spam:HATER',
    'NEXT',
    'SKIP',
    'extra-reject',
    'extra-discard',
    'extra-low-spam',
    'mail-policy',
    'mail-spam',
    'mail-low-spam',
    'mail-ham',
    'mail-archive',
    'mail-format',
    'subject-tag',
    'subject-tag-score',
    'discard-low-precedence',
    'max-untrusted',
    'smtp-detailed-reply',
    'spamd-command',
    'always-add-flag',
    'always-add-level',
    'always-add-report',
    'level-character',
    'is-gateway',
    'spamd-user',
    'no-user-config',
    'spamd-socket',
    'spamd-timeout',
    'spamd-max-size',
    'milter-socket',
    'milter-timeout',
    'verbose',
    'file',
    'daemon',
    'run-user',
    'run-group',
    'pid-file',
    'quit',
    'restart',
    'help',
  ],
  rmilter: [
    'bind_socket',
    'pidfile',
    'tempdir',
    'max_size',
    'strict_auth',
    'our_networks',
    'whitelist',
    '.include',
    'servers',
    'connect_timeout',
    'results_timeout',
    'retry_count',
    'retry_timeout',
    'error_time',
    'dead_time',
    'maxerrors',
    'reject_message',
    'rspamd_metric',
    'spamd_soft_fail',
    'spamd_greylist',
    'spamd_never_reject',
    'spamd_settings_id',
    'extended_spam_headers',
    'extended_headers_rcpt',
    'spam_header',
    'spam_header_value',
    'spam_no_auth_header',
    'spam_bar_char',
    'compression',
    'tempfail_on_error',
    'also_check',
    'spam_channel',
  ],
  'rspamd proxy': [
    'milter',
    'bind_socket',
    'timeout',
    'upstream',
    'self_scan',
    'compression',
    'key',
    'mirror',
    'script',
    'max_retries',
    'discard_on_reject',
    'quarantine_on_reject',
    'spam_header',
    'reject_message',
    'client_ca_name',
    'keypair',
    'ssl',
    'reject',
    'add_header',
    'greylist',
    'rewrite_subject',
    'soft reject',
    'force_actions',
    'settings',
    'remove_upstream_spam_flag',
    'skip_local',
    'skip_authenticated',
    'skip_all',
    'use',
    'extended_spam_headers',
    'local_headers',
    'authenticated_headers',
    'extended_headers_rcpt',
  ],
};

/** Fewest data rows a mapping table may have. */
const MIN_ROWS = 3;

const vocab = await vocabulary();

describe('the documentation checker', () => {
  const fake = [
    '| option | Spamward | notes |',
    '|---|---|---|',
    '| `-x` | `trust.nonexistentKey` | made up |',
    '| `-y` | `spamward run --no-such-flag` | made up |',
    '| `-z` | `--also-missing` | a bare flag in the Spamward column is a run flag |',
    '| `-w` | `trust.networksMode: sometimes` | a bad value |',
    '| `-k` | `trust.networks`, `--dry-run`, `spamward check --json --rcpt a@b` | all real |',
    'Prose names `scanner.spamd.bogus`, `fakeTopLevel`, `SPAMWARD_NOT_A_KEY`, `spamward explode`,',
    'and real ones: `scanner.urls`, `SPAMWARD_TRUST_NETWORKS`, `spamward config check --config x`.',
    'Peer options are left alone in prose: `--trusted-networks`, `spamd.whitelist`, `max_size`.',
    '```yaml',
    'trust:',
    '  networksMode: sometimes',
    '```',
    '```access-map',
    'from:example.org OKAY',
    '```',
    '```sh',
    'spamward run --config /etc/spamward.yaml --bogus-flag',
    '```',
  ].join('\n');
  const problems = checkDoc(fake, vocab);
  const reported = (pattern: RegExp) =>
    problems.some((p) => pattern.test(p.token) || pattern.test(p.reason));

  it('reports keys, flags, values, variables and commands that do not exist', () => {
    for (const wrong of [
      /trust\.nonexistentKey/,
      /--no-such-flag/,
      /--also-missing/,
      /trust\.networksMode/,
      /scanner\.spamd\.bogus/,
      /fakeTopLevel/,
      /SPAMWARD_NOT_A_KEY/,
      /no command "explode"/,
      /--bogus-flag/,
      /OKAY/,
    ]) {
      assert.ok(reported(wrong), `${wrong} not reported: ${JSON.stringify(problems, null, 2)}`);
    }
  });

  it('reports nothing else (no false alarms on real keys, flags or peer options)', () => {
    assert.equal(problems.length, 11, JSON.stringify(problems, null, 2));
  });

  it('reads the flags of every command from its help', () => {
    assert.ok(vocab.commands.get('run')?.has('--dry-run'));
    assert.ok(vocab.commands.get('check')?.has('--scanner'));
    assert.ok(vocab.commands.get('config')?.has('--config'));
    assert.ok(vocab.keys.has('trust.accessMap') && vocab.keys.has('actions.rejectReply'));
  });
});

describe('docs/migrating.md', () => {
  it('names only keys, flags and commands that exist; its YAML examples are valid', () => {
    assert.deepEqual(checkDoc(MIGRATING, vocab), []);
  });

  for (const [tool, options] of Object.entries(TOOLS)) {
    describe(tool, () => {
      const body = section(MIGRATING, tool);
      const mapping = tables(body).filter((t) => t.header.some((c) => /spamward/i.test(c)));

      it(`maps every option in tables of at least ${MIN_ROWS} rows`, () => {
        assert.ok(mapping.length > 0, 'no table with a Spamward column');
        const rows = mapping.flatMap((t) => t.rows);
        for (const t of mapping) assert.ok(t.rows.length >= MIN_ROWS, `${t.header.join('|')}`);
        assert.ok(rows.length >= options.length, `${rows.length} rows for ${options.length}`);
        const missing = options.filter((o) => !rows.some((r) => names(r[0] ?? '', o)));
        assert.deepEqual(missing, [], `options without a row: ${missing.join(' ')}`);
      });

      it('gives each option a Spamward key or flag, or says why none is needed', () => {
        for (const t of mapping) {
          const column = t.header.findIndex((c) => /spamward/i.test(c));
          for (const row of t.rows) {
            const cell = row[column] ?? '';
            assert.ok(
              codeSpans(cell).length > 0 || /^(not needed|not supported):/i.test(cell),
              `row "${row[0]}": "${cell}"`,
            );
          }
        }
      });

      it('has a worked example configuration', () => {
        assert.match(body, /```yaml\n/);
      });
    });
  }

  it('shows the Postfix and Sendmail settings', () => {
    const mta = section(MIGRATING, 'Postfix');
    for (const setting of [
      'smtpd_milters',
      'milter_default_action',
      'milter_protocol = 6',
      'milter_content_timeout',
      'INPUT_MAIL_FILTER',
    ])
      assert.ok(mta.includes(setting), setting);
  });
});

describe('docs/access-map.md', () => {
  it('names only keys, flags and commands that exist; its examples parse', () => {
    assert.deepEqual(checkDoc(ACCESS_MAP, vocab), []);
    assert.ok(/```access-map\n/.test(ACCESS_MAP), 'no access-map example');
  });

  it('quotes the error messages the parser really gives', () => {
    const errors = tables(ACCESS_MAP).find((t) => /map line/i.test(t.header[0] ?? ''));
    assert.ok(errors !== undefined && errors.rows.length >= 5, 'no table of error messages');
    for (const row of errors.rows) {
      const [line] = codeSpans(row[0] ?? '');
      const [message] = codeSpans(row[1] ?? '');
      assert.ok(line !== undefined && message !== undefined, row.join(' | '));
      assert.throws(
        () => parseAccessMap(line.replaceAll('\\n', '\n'), 'access.map'),
        (error: Error) => error.message === message,
        `${line} should fail with ${message}`,
      );
    }
  });
});
