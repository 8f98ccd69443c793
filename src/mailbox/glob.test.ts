import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expandGlob, type GlobFs, hasWildcard, matchSegment } from './glob.ts';

/** A fake file system: the directories that exist (files are given with a trailing `!`). */
function fakeFs(paths: readonly string[]): GlobFs {
  const dirs = new Set<string>(['/']);
  const files = new Set<string>();
  for (const raw of paths) {
    const isFile = raw.endsWith('!');
    const path = isFile ? raw.slice(0, -1) : raw;
    const parts = path.split('/').filter(Boolean);
    for (let i = 1; i < parts.length; i++) dirs.add(`/${parts.slice(0, i).join('/')}`);
    (isFile ? files : dirs).add(path);
  }
  const children = (dir: string) =>
    [...dirs, ...files].filter(
      (p) => p !== dir && p.slice(0, p.lastIndexOf('/')) === (dir === '/' ? '' : dir),
    );
  return {
    readdir: async (dir) => {
      if (!dirs.has(dir)) throw Object.assign(new Error(`ENOENT ${dir}`), { code: 'ENOENT' });
      return children(dir).map((p) => ({
        name: p.slice(p.lastIndexOf('/') + 1),
        isDirectory: () => dirs.has(p),
        isSymbolicLink: () => false,
      }));
    },
    isDirectory: async (path) => dirs.has(path),
  };
}

const FS = fakeFs([
  '/home/alice/Maildir',
  '/home/bob/Maildir',
  '/home/carol',
  '/home/.skel/Maildir',
  '/home/dave/Maildir!',
  '/srv/mail/example.org/u1/Maildir',
  '/srv/mail/example.net/u2/Maildir',
]);

describe('matchSegment', () => {
  it('matches * and ? within a segment, the rest literally', () => {
    assert.equal(matchSegment('*', 'alice'), true);
    assert.equal(matchSegment('a*e', 'alice'), true);
    assert.equal(matchSegment('a?ice', 'alice'), true);
    assert.equal(matchSegment('a?ice', 'allice'), false);
    assert.equal(matchSegment('*.org', 'example.org'), true);
    assert.equal(matchSegment('*.org', 'exampleXorg'), false, 'a dot is literal');
    assert.equal(matchSegment('u(1)', 'u(1)'), true, 'regex characters are literal');
  });

  it('matches a hidden name only when the pattern starts with a dot', () => {
    assert.equal(matchSegment('*', '.skel'), false);
    assert.equal(matchSegment('.*', '.skel'), true);
  });

  it('knows a wildcard when it sees one', () => {
    assert.equal(hasWildcard('/home/*/Maildir'), true);
    assert.equal(hasWildcard('/home/alice/Maildir'), false);
  });
});

describe('expandGlob', () => {
  it('expands * per segment to the existing directories, sorted', async () => {
    assert.deepEqual(await expandGlob('/home/*/Maildir', FS), [
      '/home/alice/Maildir',
      '/home/bob/Maildir',
    ]);
  });

  it('expands several wildcard segments', async () => {
    assert.deepEqual(await expandGlob('/srv/mail/*.*/u?/Maildir', FS), [
      '/srv/mail/example.net/u2/Maildir',
      '/srv/mail/example.org/u1/Maildir',
    ]);
  });

  it('returns nothing when nothing matches, and a plain existing directory as itself', async () => {
    assert.deepEqual(await expandGlob('/nowhere/*/Maildir', FS), []);
    assert.deepEqual(await expandGlob('/home/carol/Maildir', FS), []);
    assert.deepEqual(await expandGlob('/home/alice/Maildir', FS), ['/home/alice/Maildir']);
  });

  it('resolves a relative pattern against cwd', async () => {
    assert.deepEqual(await expandGlob('*/Maildir', FS, '/home'), [
      '/home/alice/Maildir',
      '/home/bob/Maildir',
    ]);
  });
});
