/**
 * better-sqlite3 failures → the engine's typed store errors. SQLite reports everything through
 * result codes (`SQLITE_BUSY`, `SQLITE_CORRUPT`, `SQLITE_IOERR_SHORT_READ`, …); the primary code
 * decides whether another try may succeed.
 */
import Database from 'better-sqlite3';
import { ScannerError } from '../../errors.ts';
import { StoreError, StoreUnavailableError } from '../errors.ts';

/** The typed error for anything thrown by better-sqlite3 (a ScannerError passes through). */
export function sqliteFailure(scanner: string, error: unknown, doing: string): ScannerError {
  if (error instanceof ScannerError) return error;
  const code = error instanceof Database.SqliteError ? error.code : undefined;
  const detail = `${doing}: ${error instanceof Error ? error.message : String(error)}`;
  const options = { cause: error };
  const primary = code?.replace(/^(SQLITE_[A-Z]+).*$/, '$1');
  switch (primary) {
    case 'SQLITE_BUSY':
    case 'SQLITE_LOCKED':
    case 'SQLITE_CANTOPEN':
      return new StoreUnavailableError(scanner, detail, options);
    case 'SQLITE_CORRUPT':
    case 'SQLITE_NOTADB':
    case 'SQLITE_FORMAT':
      return new StoreError(scanner, 'corrupt', detail, options);
    case 'SQLITE_FULL':
      return new StoreError(scanner, 'full', detail, options);
    case 'SQLITE_READONLY':
    case 'SQLITE_PERM':
      return new StoreError(scanner, 'readonly', detail, options);
    case 'SQLITE_IOERR':
      return new StoreError(scanner, 'io', detail, options);
    default:
      // A directory that does not exist surfaces as a TypeError from the constructor.
      if (error instanceof TypeError && /directory does not exist/i.test(error.message)) {
        return new StoreUnavailableError(scanner, detail, options);
      }
      return new StoreError(scanner, 'other', detail, options);
  }
}
