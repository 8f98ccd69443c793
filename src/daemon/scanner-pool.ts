/**
 * The configured scanners as one pool (always a pool, even of one server: the concurrency cap
 * and health tracking apply to every server). Shared by the daemon and `spamward explain`.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
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
    ...(scanner.rspamd.mtaTag === undefined ? {} : { rspamdMtaTag: scanner.rspamd.mtaTag }),
    builtinDataDir: scanner.builtin.dataDir ?? defaultDataDir(),
    builtinRequired: scanner.builtin.required,
    builtinMinLearned: scanner.builtin.minLearned,
  };
}

/** Where plain `builtin` keeps its tokens when the config does not say: a system or a user path. */
export function defaultDataDir(): string {
  if (process.getuid?.() === 0) return '/var/lib/spamward';
  const xdg = process.env['XDG_DATA_HOME'];
  return join(
    xdg !== undefined && xdg !== '' ? xdg : join(homedir(), '.local', 'share'),
    'spamward',
  );
}

/** The URLs to scan with: the configured ones, or the built-in engine when there are none. */
export function scannerUrls(scanner: Config['scanner']): readonly string[] {
  return scanner.urls.length > 0 ? scanner.urls : ['builtin'];
}

/** A pool of `scanner.urls` (or `builtin`) in priority order; throws on a bad URL. */
export function buildScannerPool(scanner: Config['scanner']): ScannerPool {
  const settings = scannerSettings(scanner);
  return new ScannerPool(
    scannerUrls(scanner).map((url, priority) => ({
      scanner: createScanner(url, settings),
      priority,
    })),
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
