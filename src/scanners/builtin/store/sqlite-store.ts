/**
 * The SQLite token store (better-sqlite3, synchronous): one file `bayes.sqlite` in the data
 * directory, WAL mode so scans (readers) never wait for a learner (writer). Tokens are 52-bit
 * hashes used directly as the rowid, so a lookup is one B-tree probe per token, batched into one
 * statement through `json_each`.
 *
 * Schema (version 1):
 *   tokens   (id INTEGER PRIMARY KEY, spam INTEGER, ham INTEGER)   -- a rowid table
 *   messages (key TEXT PRIMARY KEY, class TEXT 'spam'|'ham')       -- WITHOUT ROWID
 *   meta     (key TEXT PRIMARY KEY, value INTEGER)                 -- schema_version, spam, ham
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { TokenCounts, Totals } from '../bayes.ts';
import { StoreError } from '../errors.ts';
import { sqliteFailure } from './sqlite-errors.ts';
import type { LearnClass, Snapshot, TokenStore } from './token-store.ts';

/** The database file name inside the data directory. */
export const SQLITE_FILE = 'bayes.sqlite';
const SCHEMA_VERSION = 1;

/** Where and how to open the store. */
export interface SqliteStoreOptions {
  /** The scanner URL, for errors. */
  readonly scanner: string;
  /** The data directory (created if missing); the file is `<dir>/bayes.sqlite`. */
  readonly dataDir: string;
  /**
   * How long a writer waits for another writer's lock. Short on purpose: SQLite waits
   * synchronously, blocking every other message of this process meanwhile. Default 1000 ms.
   */
  readonly busyTimeoutMs?: number;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS tokens (id INTEGER PRIMARY KEY, spam INTEGER NOT NULL, ham INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS messages (
    key TEXT PRIMARY KEY, class TEXT NOT NULL CHECK (class IN ('spam', 'ham'))
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
  INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ${SCHEMA_VERSION}), ('spam', 0), ('ham', 0);
`;

const SQL = {
  lookup: 'SELECT id, spam, ham FROM tokens WHERE id IN (SELECT value FROM json_each(?))',
  totals: "SELECT key, value FROM meta WHERE key IN ('spam', 'ham')",
  learnedAs: 'SELECT class FROM messages WHERE key = ?',
  // One statement adds and subtracts: moving spam → ham is spam −1, ham +1 for every token.
  apply: `INSERT INTO tokens (id, spam, ham)
    SELECT value, max(@spam, 0), max(@ham, 0) FROM json_each(@tokens) WHERE true
    ON CONFLICT (id) DO UPDATE SET spam = max(spam + @spam, 0), ham = max(ham + @ham, 0)`,
  prune: 'DELETE FROM tokens WHERE id IN (SELECT value FROM json_each(?)) AND spam = 0 AND ham = 0',
  count: 'UPDATE meta SET value = max(value + @delta, 0) WHERE key = @key',
  remember:
    'INSERT INTO messages (key, class) VALUES (@key, @kind) ON CONFLICT (key) DO UPDATE SET class = excluded.class',
  forget: 'DELETE FROM messages WHERE key = ?',
} as const;

type Statements = { readonly [K in keyof typeof SQL]: Database.Statement };

interface Open {
  readonly db: Database.Database;
  readonly st: Statements;
  readonly learn: (key: string, kind: LearnClass, tokens: string) => boolean;
}

/** A TokenStore in one SQLite file; opened on first use, so construction never touches disk. */
export class SqliteTokenStore implements TokenStore {
  /** The database file. */
  readonly file: string;
  private readonly options: SqliteStoreOptions;
  private open_: Open | undefined;
  private closed = false;

  constructor(options: SqliteStoreOptions) {
    this.options = options;
    this.file = join(options.dataDir, SQLITE_FILE);
  }

  lookup(tokens: readonly number[]): Promise<Snapshot> {
    return this.run('lookup', ({ db, st }) =>
      db.transaction(() => {
        const found = new Map<number, TokenCounts>();
        for (const [id, spam, ham] of st.lookup.raw().all(JSON.stringify(tokens)) as [
          number,
          number,
          number,
        ][]) {
          found.set(id, { spam, ham });
        }
        return { totals: readTotals(st), counts: tokens.map((t) => found.get(t)) };
      })(),
    );
  }

  totals(): Promise<Totals> {
    return this.run('totals', ({ st }) => readTotals(st));
  }

  learn(key: string, kind: LearnClass, tokens: readonly number[]): Promise<boolean> {
    return this.run('learn', (open) => open.learn(key, kind, JSON.stringify(tokens)));
  }

  learnedAs(key: string): Promise<'spam' | 'ham' | undefined> {
    return this.run('learnedAs', ({ st }) => learnedAs(st, key));
  }

  ping(): Promise<void> {
    return this.run('ping', ({ st }) => {
      readTotals(st);
    });
  }

  close(): Promise<void> {
    this.closed = true;
    this.open_?.db.close();
    this.open_ = undefined;
    return Promise.resolve();
  }

  /** Runs `fn` on the open database, mapping every failure to a typed error. */
  private run<T>(doing: string, fn: (open: Open) => T): Promise<T> {
    try {
      if (this.closed) throw new StoreError(this.options.scanner, 'other', 'the store is closed');
      return Promise.resolve(fn(this.opened()));
    } catch (error) {
      return Promise.reject(sqliteFailure(this.options.scanner, error, `${doing} on ${this.file}`));
    }
  }

  private opened(): Open {
    if (this.open_ !== undefined) return this.open_;
    mkdirSync(this.options.dataDir, { recursive: true });
    const db = new Database(this.file, { timeout: this.options.busyTimeoutMs ?? 1_000 });
    try {
      db.pragma('journal_mode = WAL');
      // NORMAL is durable across application crashes in WAL mode; a power cut may lose the last
      // learned messages, which is acceptable for statistics.
      db.pragma('synchronous = NORMAL');
      // 16 MiB of page cache (default 2 MiB): a scan probes ~200 random rowids, and a store of a
      // few hundred thousand tokens then stays in memory instead of costing a read() per page.
      db.pragma('cache_size = -16384');
      db.exec(SCHEMA);
      const version = db
        .prepare("SELECT value FROM meta WHERE key = 'schema_version'")
        .pluck()
        .get();
      if (version !== SCHEMA_VERSION) {
        throw new StoreError(
          this.options.scanner,
          'corrupt',
          `${this.file} has schema version ${String(version)}, expected ${SCHEMA_VERSION}`,
        );
      }
      const st = Object.fromEntries(
        Object.entries(SQL).map(([name, sql]) => [name, db.prepare(sql)]),
      ) as unknown as Statements;
      const learn = db.transaction((key: string, kind: LearnClass, tokens: string) =>
        learnInTransaction(st, key, kind, tokens),
      );
      this.open_ = { db, st, learn: (k, c, t) => learn.immediate(k, c, t) };
      return this.open_;
    } catch (error) {
      db.close();
      throw error;
    }
  }
}

function readTotals(st: Statements): Totals {
  let spam = 0;
  let ham = 0;
  for (const [key, value] of st.totals.raw().all() as [string, number][]) {
    if (key === 'spam') spam = value;
    else ham = value;
  }
  return { spam, ham };
}

function learnedAs(st: Statements, key: string): 'spam' | 'ham' | undefined {
  const found = st.learnedAs.pluck().get(key);
  return found === 'spam' || found === 'ham' ? found : undefined;
}

/** The body of the learn transaction (see TokenStore.learn). */
function learnInTransaction(
  st: Statements,
  key: string,
  kind: LearnClass,
  tokens: string,
): boolean {
  const old = learnedAs(st, key);
  if (old === kind || (old === undefined && kind === 'forget')) return false;
  const delta = (cls: 'spam' | 'ham'): number => (kind === cls ? 1 : 0) - (old === cls ? 1 : 0);
  st.apply.run({ spam: delta('spam'), ham: delta('ham'), tokens });
  st.prune.run(tokens);
  for (const cls of ['spam', 'ham'] as const) {
    if (delta(cls) !== 0) st.count.run({ key: cls, delta: delta(cls) });
  }
  if (kind === 'forget') st.forget.run(key);
  else st.remember.run({ key, kind });
  return true;
}
