#!/usr/bin/env node
// Runs every *.test.ts under src/ and test/ with node:test through tsx. Node 20's runner does
// not expand globs and passes with zero files, so we list the files ourselves and refuse an
// empty list. Real scanners (spamd, rspamd) are started here ONCE for the whole run when a
// selected file uses them, and handed to the test processes through environment variables;
// a file run on its own starts its own. Arguments ending in .test.ts select files; others are
// passed to `node --test` (e.g. --test-name-pattern).
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { register } from 'tsx/esm/api';

register();
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

const args = process.argv.slice(2);
const only = args.filter((a) => a.endsWith('.test.ts'));
const flags = args.filter((a) => !a.endsWith('.test.ts'));
const files =
  only.length > 0 ? only : [...find(join(root, 'src')), ...find(join(root, 'test'))].sort();
if (files.length === 0) {
  process.stderr.write('run-tests: no *.test.ts files found under src/ or test/\n');
  process.exit(1);
}

/** Shared real servers: [marker in a test file, module, availability check, start, start options]. */
const SHARED = [
  ['getSpamd(', '../test/support/spamd-server.ts', 'spamdAvailable', 'startSpamd', undefined],
  ['getRspamd(', '../test/support/rspamd-server.ts', 'rspamdAvailable', 'startRspamd', {}],
  // A second rspamd without a Redis classifier, for the learning-fails case; cheap once the first warmed the cache.
  [
    'redis: false',
    '../test/support/rspamd-server.ts',
    'rspamdAvailable',
    'startRspamd',
    { redis: false },
  ],
];

const sources = files.map((f) => readFileSync(join(root, f), 'utf8'));
const servers = [];
const env = { ...process.env };

async function stopAll() {
  await Promise.allSettled(servers.splice(0).map((s) => s.stop()));
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    void stopAll().finally(() => process.exit(130));
  });
}

let status = 1;
try {
  for (const [marker, module, available, start, options] of SHARED) {
    if (!sources.some((s) => s.includes(marker))) continue;
    const harness = await import(module);
    // Missing software is reported by the tests themselves (skip locally, fail under CI=true).
    if (harness[available]() !== null) continue;
    const started = performance.now();
    const server = await harness[start](options);
    servers.push(server);
    Object.assign(env, server.env);
    process.stderr.write(
      `run-tests: ${start}(${JSON.stringify(options ?? {})}) ready in ${Math.round(performance.now() - started)} ms\n`,
    );
  }
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--test', '--test-reporter=spec', ...flags, ...files],
    {
      cwd: root,
      env,
      stdio: 'inherit',
    },
  );
  status = await new Promise((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
} finally {
  await stopAll();
}
process.exit(status);
