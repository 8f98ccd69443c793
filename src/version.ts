/** The package version, read from package.json (one level above both src/ and dist/). */
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

/** Spamward's version, e.g. `0.1.0`. */
export const VERSION: string = pkg.version;
