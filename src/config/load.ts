/**
 * Loads the configuration once: schema defaults < YAML file < SPAMWARD_* variables < flags,
 * validated by the one schema, checked for meaning (socket and scanner URLs parse), frozen.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { parseSocketAddress } from '../milter/socket-address.ts';
import { parseCidr } from '../policy/trust.ts';
import { createScanner } from '../scanners/factory.ts';
import { ConfigError } from './errors.ts';
import { envName, type Leaf, leaves } from './paths.ts';
import { type Config, ConfigSchema } from './schema.ts';

/** Where settings come from, lowest precedence first. */
export interface ConfigSources {
  /** A YAML file. */
  readonly file?: string | undefined;
  /** The environment to read SPAMWARD_* variables from (default: none). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Values by dotted path, e.g. `{ 'scanner.urls': ['spamd://…'] }` (command-line flags). */
  readonly flags?: Readonly<Record<string, unknown>>;
}

/** A loaded configuration and what was noticed on the way. */
export interface LoadedConfig {
  readonly config: Config;
  /** Harmless oddities to log, e.g. SPAMWARD_* variables that name no setting. */
  readonly warnings: readonly string[];
}

type Tree = Record<string, unknown>;

/** Loads, validates and freezes the configuration; throws ConfigError listing every problem. */
export async function loadConfig(sources: ConfigSources = {}): Promise<LoadedConfig> {
  const tree: Tree = sources.file === undefined ? {} : await readYaml(sources.file);
  const warnings: string[] = [];
  applyEnv(tree, sources.env ?? {}, warnings);
  for (const [path, value] of Object.entries(sources.flags ?? {})) setPath(tree, path, value);
  const source = sources.file ?? 'defaults, environment and flags';
  const config = validate(tree, source);
  return { config: deepFreeze(config), warnings };
}

/** Validates a settings tree against the schema and checks what the schema cannot express. */
export function validate(tree: unknown, source: string): Config {
  const parsed = ConfigSchema.safeParse(tree);
  if (!parsed.success) throw new ConfigError(source, parsed.error.issues.map(toProblem));
  const config = parsed.data;
  const problems: { path: string; reason: string }[] = [];
  check(problems, 'socket', () => parseSocketAddress(config.socket));
  config.scanner.urls.forEach((url, i) => {
    check(problems, `scanner.urls.${i}`, () =>
      createScanner(url, {
        spamdCompress: config.scanner.spamd.compress,
        ...optional('rspamdControllerUrl', config.scanner.rspamd.controllerUrl),
      }),
    );
  });
  config.trust.networks.forEach((cidr, i) => {
    check(problems, `trust.networks.${i}`, () => parseCidr(cidr));
  });
  config.trust.optOutRecipients.forEach((entry, i) => {
    if (!entry.includes('@'))
      problems.push({
        path: `trust.optOutRecipients.${i}`,
        reason: `"${entry}" is neither an address nor @domain`,
      });
  });
  if (problems.length > 0) throw new ConfigError(source, problems);
  return config;
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}

function check(
  problems: { path: string; reason: string }[],
  path: string,
  attempt: () => unknown,
): void {
  try {
    attempt();
  } catch (error) {
    problems.push({ path, reason: error instanceof Error ? error.message : String(error) });
  }
}

function toProblem(issue: z.core.$ZodIssue): { path: string; reason: string } {
  const path = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    return {
      path: path === '' ? '(top level)' : path,
      reason: `unknown key(s): ${issue.keys.join(', ')}`,
    };
  }
  return { path: path === '' ? '(top level)' : path, reason: issue.message };
}

async function readYaml(file: string): Promise<Tree> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError(
      file,
      [{ path: file, reason: `cannot read: ${(error as Error).message}` }],
      { cause: error },
    );
  }
  let value: unknown;
  try {
    value = parseYaml(text, { prettyErrors: true });
  } catch (error) {
    const reason =
      error instanceof YAMLParseError
        ? (error.message.split('\n')[0] ?? error.message)
        : String(error);
    throw new ConfigError(file, [{ path: file, reason: `not valid YAML: ${reason}` }], {
      cause: error,
    });
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(file, [
      { path: '(top level)', reason: 'the file must be a mapping of settings' },
    ]);
  }
  return value as Tree;
}

/** SPAMWARD_SCANNER_URLS=spamd://a,spamd://b → scanner.urls. Values are YAML scalars. */
function applyEnv(
  tree: Tree,
  env: Readonly<Record<string, string | undefined>>,
  warnings: string[],
): void {
  const known = new Map(leaves(ConfigSchema).map((leaf) => [envName(leaf.path), leaf]));
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith('SPAMWARD_') || raw === undefined) continue;
    const leaf = known.get(name);
    if (leaf === undefined) {
      // The test harness passes SPAMWARD_TEST_* through the environment; those are not settings.
      if (!name.startsWith('SPAMWARD_TEST_')) warnings.push(`${name} names no setting; ignored`);
      continue;
    }
    setPath(tree, leaf.path, envValue(leaf, raw));
  }
}

/** Lists may be comma-separated; strings are taken as they are; other types are YAML scalars. */
function envValue(leaf: Leaf, raw: string): unknown {
  if (leaf.isList) return raw.trim().startsWith('[') ? envScalar(raw) : splitList(raw);
  if (leaf.type === 'string' || leaf.type.startsWith('"')) return raw;
  return envScalar(raw);
}

function splitList(raw: string): string[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function envScalar(raw: string): unknown {
  try {
    return parseYaml(raw);
  } catch {
    return raw;
  }
}

function setPath(tree: Tree, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = tree;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[part] = {};
    node = node[part] as Tree;
  }
  node[parts[parts.length - 1] as string] = value;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
