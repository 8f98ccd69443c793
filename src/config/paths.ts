/**
 * The leaves of the schema (`scanner.scanTimeoutMs`, …) with their help text and defaults, for
 * environment variables and the generated reference. Reads zod's definitions, nothing else.
 */
import type { z } from 'zod';

/** One configurable key. */
export interface Leaf {
  /** Dotted path, e.g. `scanner.spamd.verb`. */
  readonly path: string;
  readonly description: string;
  /** The default as JSON, or undefined when the key has none (optional). */
  readonly defaultValue: unknown;
  /** A short type description, e.g. `number`, `boolean`, `string[]`, `"a" | "b"`. */
  readonly type: string;
  /** True for list-valued keys (environment values may then be comma-separated). */
  readonly isList: boolean;
}

interface Def {
  readonly type: string;
  readonly innerType?: z.ZodType;
  readonly shape?: Record<string, z.ZodType>;
  readonly element?: z.ZodType;
  readonly entries?: Record<string, string>;
  readonly options?: readonly z.ZodType[];
  readonly defaultValue?: unknown;
}

const WRAPPERS = new Set(['default', 'prefault', 'optional', 'nullable']);

function def(schema: z.ZodType): Def {
  return (schema as unknown as { def: Def }).def;
}

/** Every leaf of an object schema, depth first, in declaration order. */
export function leaves(schema: z.ZodType, prefix = ''): Leaf[] {
  const out: Leaf[] = [];
  const inner = unwrap(schema);
  const shape = def(inner.schema).shape ?? {};
  for (const [key, child] of Object.entries(shape)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    const unwrapped = unwrap(child);
    if (def(unwrapped.schema).type === 'object') {
      out.push(...leaves(child, path));
      continue;
    }
    out.push({
      path,
      description: child.description ?? unwrapped.schema.description ?? '',
      defaultValue: unwrapped.defaultValue,
      type: typeName(unwrapped.schema) + (unwrapped.nullable ? ' | null' : ''),
      isList: def(unwrapped.schema).type === 'array',
    });
  }
  return out;
}

function unwrap(schema: z.ZodType): {
  schema: z.ZodType;
  defaultValue: unknown;
  nullable: boolean;
} {
  let current = schema;
  let defaultValue: unknown;
  let nullable = false;
  for (;;) {
    const d = def(current);
    if (!WRAPPERS.has(d.type) || d.innerType === undefined) break;
    if (d.type === 'default' && defaultValue === undefined) defaultValue = d.defaultValue;
    if (d.type === 'nullable') nullable = true;
    current = d.innerType;
  }
  return { schema: current, defaultValue, nullable };
}

function typeName(schema: z.ZodType): string {
  const d = def(schema);
  switch (d.type) {
    case 'enum':
      return Object.values(d.entries ?? {})
        .map((v) => JSON.stringify(v))
        .join(' | ');
    case 'array':
      return `${d.element === undefined ? 'unknown' : typeName(d.element)}[]`;
    case 'union':
      return (d.options ?? []).map(typeName).join(' | ');
    default:
      return d.type;
  }
}

/** `scanner.spamd.verb` → `SPAMWARD_SCANNER_SPAMD_VERB`. */
export function envName(path: string): string {
  return `SPAMWARD_${path
    .split('.')
    .map((part) => part.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase())
    .join('_')}`;
}
