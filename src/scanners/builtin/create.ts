/**
 * Builds a built-in scanner from its URL (see url.ts): the store it names, the engine on top.
 */
import { assertNever } from '../../shared/assert-never.ts';
import { BuiltinScanner, type BuiltinScannerOptions } from './scanner.ts';
import { RedisTokenStore } from './store/redis-store.ts';
import { SqliteTokenStore } from './store/sqlite-store.ts';
import type { TokenStore } from './store/token-store.ts';
import { parseBuiltinUrl } from './url.ts';

/** A built-in scanner for `builtin`, `builtin:///dir` or `builtin+redis://…`. */
export function createBuiltinScanner(
  url: string,
  options: Omit<BuiltinScannerOptions, 'url' | 'store'> = {},
  defaultDataDir?: string,
): BuiltinScanner {
  const { display, target } = parseBuiltinUrl(url, defaultDataDir);
  let store: TokenStore;
  switch (target.kind) {
    case 'sqlite':
      store = new SqliteTokenStore({ scanner: display, dataDir: target.dataDir });
      break;
    case 'redis': {
      const { kind: _, ...redis } = target;
      // With a scan timeout, Redis's own command timeout is only the backstop behind it.
      const { scanTimeoutMs } = options;
      store = new RedisTokenStore({
        scanner: display,
        ...redis,
        ...(scanTimeoutMs === undefined ? {} : { commandTimeoutMs: scanTimeoutMs + 1000 }),
      });
      break;
    }
    default:
      return assertNever(target);
  }
  return new BuiltinScanner({ ...options, url: display, store });
}
