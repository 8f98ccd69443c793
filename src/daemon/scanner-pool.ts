/**
 * The configured scanners as one pool (always a pool, even of one server: the concurrency cap
 * and health tracking apply to every server). Shared by the daemon and `spamward explain`.
 */
import type { Config } from '../config/schema.ts';
import { createScanner, type ScannerSettings } from '../scanners/factory.ts';
import { ScannerPool } from '../scanners/pool.ts';

/** The per-server settings the factory needs, from the `scanner` section. */
export function scannerSettings(scanner: Config['scanner']): ScannerSettings {
  return {
    connectTimeoutMs: scanner.connectTimeoutMs,
    scanTimeoutMs: scanner.scanTimeoutMs,
    maxResponseBytes: scanner.maxResponseBytes,
    spamdVerb: scanner.spamd.verb,
    spamdCompress: scanner.spamd.compress,
    ...(scanner.spamd.user === undefined ? {} : { spamdUser: scanner.spamd.user }),
    ...(scanner.rspamd.controllerUrl === undefined
      ? {}
      : { rspamdControllerUrl: scanner.rspamd.controllerUrl }),
    ...(scanner.rspamd.password === undefined ? {} : { rspamdPassword: scanner.rspamd.password }),
    ...(scanner.rspamd.settingsId === undefined
      ? {}
      : { rspamdSettingsId: scanner.rspamd.settingsId }),
  };
}

/** A pool of `scanner.urls` in priority order; throws BadScannerUrlError for a bad URL. */
export function buildScannerPool(scanner: Config['scanner']): ScannerPool {
  const settings = scannerSettings(scanner);
  return new ScannerPool(
    scanner.urls.map((url, priority) => ({ scanner: createScanner(url, settings), priority })),
    {
      strategy: scanner.strategy,
      maxConcurrent: scanner.maxConcurrent,
      maxQueue: scanner.maxQueue,
      health: {
        maxErrors: scanner.maxErrors,
        errorTimeMs: scanner.errorTimeMs,
        deadTimeMs: scanner.deadTimeMs,
      },
    },
  );
}
