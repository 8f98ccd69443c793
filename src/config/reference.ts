/** Renders docs/configuration.md from the schema, so the reference cannot drift from the code. */
import { envName, leaves } from './paths.ts';
import { ConfigSchema } from './schema.ts';

/** The whole configuration reference as Markdown. */
export function renderConfigReference(): string {
  const rows = leaves(ConfigSchema).map((leaf) => {
    const fallback =
      leaf.defaultValue === undefined ? '—' : `\`${JSON.stringify(leaf.defaultValue)}\``;
    return `| \`${leaf.path}\` | ${leaf.type.replaceAll('|', '\\|')} | ${fallback} | \`${envName(leaf.path)}\` | ${leaf.description} |`;
  });
  return `${[
    '# Configuration reference',
    '',
    '<!-- Generated from src/config/schema.ts by `spamward config reference`; a test fails when it',
    '     differs from the schema. Edit the schema, then regenerate this file. -->',
    '',
    'Settings come from, in rising precedence: the defaults below, the YAML file given with',
    '`--config FILE`, `SPAMWARD_*` environment variables, and command-line flags.',
    '`spamward config check` validates a configuration; `spamward config print` shows the effective one.',
    '',
    '- Keys carry their unit: `…Ms` milliseconds, `…Bytes` bytes.',
    '- Environment values are YAML scalars (`true`, `30000`, `null`); lists are comma-separated',
    '  (`SPAMWARD_SCANNER_URLS=spamd://127.0.0.1:783,spamd://127.0.0.2:783`).',
    "- Thresholds are a score (`12`) or relative to the scanner's required score (`required + 5`).",
    '- A mistake names the key and the reason; unknown keys are mistakes too.',
    '',
    '| key | type | default | environment | meaning |',
    '|---|---|---|---|---|',
    ...rows,
  ].join('\n')}\n`;
}
