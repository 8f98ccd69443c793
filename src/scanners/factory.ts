/**
 * Builds scanners from their URLs: `spamd://`, `spamd+tls://`, `rspamd://`, `rspamd+https://`,
 * `builtin`, `builtin:///dir`, `builtin+redis://`;
 * several URLs become one pool. The one place that knows every scanner type.
 */
import { createBuiltinScanner } from './builtin/create.ts';
import type { HealthOptions } from './health.ts';
import { NoopScanner } from './noop.ts';
import { ScannerPool, type Strategy } from './pool.ts';
import { RspamdScanner } from './rspamd/client.ts';
import type { Scanner } from './scanner.ts';
import { SpamdScanner } from './spamd/client.ts';
import type { SpamdScanVerb } from './spamd/protocol.ts';

/** A URL whose scheme names no scanner type. */
export class ScannerUrlError extends Error {
  readonly code = 'BAD_SCANNER_URL';

  constructor(url: string, reason: string) {
    super(`invalid scanner URL "${url}": ${reason}`);
    this.name = 'ScannerUrlError';
  }
}

/** Settings shared by every scanner type, plus the type-specific ones. */
export interface ScannerSettings {
  readonly connectTimeoutMs?: number;
  readonly scanTimeoutMs?: number;
  readonly maxResponseBytes?: number;
  /** spamd: the verb to scan with (default SYMBOLS). */
  readonly spamdVerb?: SpamdScanVerb;
  /** spamd: fixed `User:` for per-user preferences. */
  readonly spamdUser?: string;
  /** rspamd `MTA-Tag` for every scan. */
  readonly rspamdMtaTag?: string;
  /** Data directory of plain `builtin` (SQLite). */
  readonly builtinDataDir?: string;
  /** Spam score threshold of the built-in engine. */
  readonly builtinRequired?: number;
  /** Spam and ham each to learn before the built-in Bayes votes. */
  readonly builtinMinLearned?: number;
  /** spamd: deflate the message (`Compress: zlib`). */
  readonly spamdCompress?: boolean;
  /** rspamd: the controller URL for learning. */
  readonly rspamdControllerUrl?: string;
  /** rspamd: the controller's password. */
  readonly rspamdPassword?: string;
  /** rspamd: `Settings-ID` for every scan. */
  readonly rspamdSettingsId?: string;
}

/** Pool settings used when more than one URL is given. */
export interface PoolSettings {
  readonly strategy: Strategy;
  readonly maxConcurrent: number;
  readonly maxQueue: number;
  readonly health?: HealthOptions;
}

/** Default pool: failover, 8 scans per server, 32 waiting. */
export const DEFAULT_POOL: PoolSettings = { strategy: 'failover', maxConcurrent: 8, maxQueue: 32 };

/** The scanner type a URL names. */
export function scannerKind(url: string): 'spamd' | 'rspamd' | 'builtin' | 'noop' {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (url === 'builtin' || scheme === 'builtin' || scheme === 'builtin+redis') return 'builtin';
  if (url === 'noop') return 'noop';
  if (scheme === 'spamd' || scheme === 'spamd+tls') return 'spamd';
  if (scheme === 'rspamd' || scheme === 'rspamd+https' || scheme === 'rspamd+http') return 'rspamd';
  throw new ScannerUrlError(
    url,
    'the scheme must be spamd, spamd+tls, rspamd, rspamd+http(s), builtin or builtin+redis (or noop)',
  );
}

/** One scanner for one URL. */
export function createScanner(url: string, settings: ScannerSettings = {}): Scanner {
  const limits = {
    ...(settings.connectTimeoutMs === undefined
      ? {}
      : { connectTimeoutMs: settings.connectTimeoutMs }),
    ...(settings.scanTimeoutMs === undefined ? {} : { scanTimeoutMs: settings.scanTimeoutMs }),
    ...(settings.maxResponseBytes === undefined
      ? {}
      : { maxResponseBytes: settings.maxResponseBytes }),
  };
  switch (scannerKind(url)) {
    case 'spamd':
      return new SpamdScanner({
        url,
        ...limits,
        ...(settings.spamdVerb === undefined ? {} : { verb: settings.spamdVerb }),
        ...(settings.spamdUser === undefined ? {} : { user: settings.spamdUser }),
        ...(settings.spamdCompress === undefined ? {} : { compress: settings.spamdCompress }),
      });
    case 'rspamd':
      return new RspamdScanner({
        url,
        ...limits,
        ...(settings.rspamdControllerUrl === undefined
          ? {}
          : { controllerUrl: settings.rspamdControllerUrl }),
        ...(settings.rspamdPassword === undefined ? {} : { password: settings.rspamdPassword }),
        ...(settings.rspamdSettingsId === undefined
          ? {}
          : { settingsId: settings.rspamdSettingsId }),
        ...(settings.rspamdMtaTag === undefined ? {} : { mtaTag: settings.rspamdMtaTag }),
      });
    case 'builtin':
      return createBuiltinScanner(
        url,
        {
          ...(settings.builtinRequired === undefined ? {} : { required: settings.builtinRequired }),
          ...(settings.scanTimeoutMs === undefined
            ? {}
            : { scanTimeoutMs: settings.scanTimeoutMs }),
          ...(settings.builtinMinLearned === undefined
            ? {}
            : { minSpam: settings.builtinMinLearned, minHam: settings.builtinMinLearned }),
        },
        settings.builtinDataDir,
      );
    case 'noop':
      return new NoopScanner();
  }
}

/** One scanner for one URL, or a pool over several. */
export function createScanners(
  urls: readonly string[],
  settings: ScannerSettings = {},
  pool: PoolSettings = DEFAULT_POOL,
): Scanner {
  if (urls.length === 0) throw new RangeError('at least one scanner URL is needed');
  const scanners = urls.map((url) => createScanner(url, settings));
  if (scanners.length === 1) return scanners[0] as Scanner;
  return new ScannerPool(
    scanners.map((scanner, i) => ({ scanner, priority: i })),
    pool,
  );
}
