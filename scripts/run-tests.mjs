#!/usr/bin/env node
// Runs every *.test.ts under src/ and test/ with node:test through tsx. Node 20's runner does
// not expand globs and passes with zero files, so we list the files ourselves and refuse an
// empty list. Extra arguments are passed to `node --test` (e.g. --test-name-pattern).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

function find(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...find(path));
    else if (entry.name.endsWith('.test.ts')) out.push(relative(root, path));
  }
  return out;
}

const only = process.argv.slice(2).filter((a) => a.endsWith('.test.ts'));
const flags = process.argv.slice(2).filter((a) => !a.endsWith('.test.ts'));
const files =
  only.length > 0 ? only : [...find(join(root, 'src')), ...find(join(root, 'test'))].sort();
if (files.length === 0) {
  process.stderr.write('run-tests: no *.test.ts files found under src/ or test/\n');
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', ...flags, ...files],
  { cwd: root, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
