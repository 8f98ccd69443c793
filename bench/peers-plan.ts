/**
 * What a run of the comparison benchmark (bench/peers.ts) measures, read from its command line:
 * the parts to run, runs per side, message counts, concurrencies and per-connection modes, the
 * peer milters' concurrencies, and whether Spamward runs from src/ through tsx. Bad numbers fail
 * at once, before anything is started.
 */
import { parseArgs } from 'node:util';
import { positive } from './cli.ts';

/** The parsed options of one comparison run. */
export interface PeersPlan {
  /** Of `null`, `spamd`, `rspamd`. */
  readonly parts: ReadonlySet<string>;
  /** Runs per side per row. */
  readonly repeat: number;
  /** Messages per null-part run. */
  readonly count: number;
  /** Messages of warm-up per null-part mode (0: none). */
  readonly warmup: number;
  /** Null-part concurrencies. */
  readonly levels: readonly number[];
  /** Null-part messages per connection. */
  readonly modes: readonly number[];
  /** Messages per scanner run, at `scanConcurrency`. */
  readonly scanCount: number;
  readonly scanConcurrency: number;
  /** Messages per concurrency-1 scanner run. */
  readonly latencyCount: number;
  /** Concurrencies for the peer milters (none: no peer milters). */
  readonly peerLevels: readonly number[];
  /** Run src/ through tsx, not dist/. */
  readonly tsx: boolean;
}

/** Parses the process's command line. */
export function peersPlan(): PeersPlan {
  const { values } = parseArgs({
    options: {
      parts: { type: 'string', default: 'null,spamd,rspamd' },
      repeat: { type: 'string', default: '3' },
      count: { type: 'string', default: '2000' },
      warmup: { type: 'string', default: '1000' },
      concurrency: { type: 'string', default: '1,4,16' },
      modes: { type: 'string', default: '1,10' },
      'scan-count': { type: 'string', default: '400' },
      'scan-concurrency': { type: 'string', default: '4' },
      'latency-count': { type: 'string', default: '100' },
      'peer-concurrency': { type: 'string', default: '4,16' },
      tsx: { type: 'boolean', default: false },
    },
  });
  return {
    parts: new Set(values.parts.split(',')),
    repeat: positive('repeat', values.repeat),
    count: positive('count', values.count),
    warmup: Number(values.warmup),
    levels: values.concurrency.split(',').map((c) => positive('concurrency', c)),
    modes: values.modes.split(',').map((m) => positive('modes', m)),
    scanCount: positive('scan-count', values['scan-count']),
    scanConcurrency: positive('scan-concurrency', values['scan-concurrency']),
    latencyCount: positive('latency-count', values['latency-count']),
    peerLevels: values['peer-concurrency']
      .split(',')
      .filter((c) => c !== '')
      .map((c) => positive('peer-concurrency', c)),
    tsx: values.tsx,
  };
}
