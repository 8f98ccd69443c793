import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AllServersDownError,
  BadResponseError,
  ConnectionError,
  OverloadedError,
  ScanAbortedError,
  ScanTimeoutError,
  ServerError,
} from './errors.ts';
import { Limiter } from './limiter.ts';
import { ScannerPool } from './pool.ts';
import type { Scanner, ScanRequest } from './scanner.ts';
import type { Verdict } from './verdict.ts';

const REQUEST: ScanRequest = {
  message: Buffer.from('Subject: x\r\n\r\nbody\r\n'),
  envelope: { recipients: [] },
};

function verdict(scanner: string, score = 1): Verdict {
  return {
    scanner,
    score,
    required: 5,
    isSpam: false,
    action: 'no action',
    symbols: [],
    addHeaders: [],
    removeHeaders: [],
  };
}

/** A scanner whose behaviour per call is scripted; records how often it was called. */
class ScriptedScanner implements Scanner {
  readonly url: string;
  calls = 0;
  behaviour: (signal: AbortSignal) => Promise<Verdict>;

  constructor(url: string, behaviour?: (signal: AbortSignal) => Promise<Verdict>) {
    this.url = url;
    this.behaviour = behaviour ?? (() => Promise.resolve(verdict(url)));
  }

  scan(_request: ScanRequest, signal: AbortSignal): Promise<Verdict> {
    this.calls++;
    return this.behaviour(signal);
  }

  async ping(): Promise<void> {}

  async learn(): Promise<{ learned: boolean }> {
    this.calls++;
    return { learned: true };
  }
}

/** A promise opened from outside (Promise.withResolvers needs Node 22). */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const refused = (url: string) => () => Promise.reject(new ConnectionError(url, 'ECONNREFUSED'));
const signal = (): AbortSignal => new AbortController().signal;

describe('ScannerPool', () => {
  it('failover: uses the preferred server, and the next one when it refuses', async () => {
    const a = new ScriptedScanner('spamd://a');
    const b = new ScriptedScanner('spamd://b');
    const pool = new ScannerPool(
      [
        { scanner: b, priority: 2 },
        { scanner: a, priority: 1 },
      ],
      { strategy: 'failover', maxConcurrent: 4, maxQueue: 4 },
    );
    assert.equal((await pool.scan(REQUEST, signal())).scanner, 'spamd://a');
    a.behaviour = refused(a.url);
    assert.equal((await pool.scan(REQUEST, signal())).scanner, 'spamd://b');
  });

  it('round-robin: spreads requests over live servers', async () => {
    const servers = ['a', 'b', 'c'].map((n) => new ScriptedScanner(`spamd://${n}`));
    const pool = new ScannerPool(
      servers.map((scanner) => ({ scanner })),
      { strategy: 'round-robin', maxConcurrent: 4, maxQueue: 4 },
    );
    const used = [];
    for (let i = 0; i < 6; i++) used.push((await pool.scan(REQUEST, signal())).scanner);
    assert.deepEqual(used, [
      'spamd://a',
      'spamd://b',
      'spamd://c',
      'spamd://a',
      'spamd://b',
      'spamd://c',
    ]);
  });

  it('marks a server dead after maxErrors within errorTimeMs, and tries it again after deadTimeMs', async () => {
    let now = 1_000;
    const a = new ScriptedScanner('spamd://a', refused('spamd://a'));
    const b = new ScriptedScanner('spamd://b');
    const deaths: string[] = [];
    const pool = new ScannerPool([{ scanner: a }, { scanner: b }], {
      strategy: 'failover',
      maxConcurrent: 4,
      maxQueue: 4,
      health: { maxErrors: 2, errorTimeMs: 1_000, deadTimeMs: 5_000 },
      now: () => now,
    });
    pool.onDead((url) => deaths.push(url));
    await pool.scan(REQUEST, signal());
    await pool.scan(REQUEST, signal());
    assert.equal(a.calls, 2);
    assert.deepEqual(deaths, ['spamd://a']);
    assert.equal(pool.state()[0]?.dead, true);
    await pool.scan(REQUEST, signal());
    assert.equal(a.calls, 2, 'a dead server is not tried');
    now += 5_000;
    a.behaviour = () => Promise.resolve(verdict('spamd://a'));
    assert.equal(
      (await pool.scan(REQUEST, signal())).scanner,
      'spamd://a',
      'tried again after deadTimeMs',
    );
    assert.equal(pool.state()[0]?.dead, false);
  });

  it('failures of scans already running when the server died do not mark it dead again', async () => {
    let now = 0;
    const gate = deferred();
    const a = new ScriptedScanner('spamd://a', async () => {
      await gate.promise;
      throw new ConnectionError('spamd://a', 'ECONNRESET');
    });
    const pool = new ScannerPool([{ scanner: a }, { scanner: new ScriptedScanner('spamd://b') }], {
      strategy: 'failover',
      maxConcurrent: 5,
      maxQueue: 0,
      health: { maxErrors: 2, errorTimeMs: 1_000, deadTimeMs: 5_000 },
      now: () => now,
    });
    const deaths: string[] = [];
    pool.onDead((url) => deaths.push(url));
    const scans = Array.from({ length: 5 }, () => pool.scan(REQUEST, signal()));
    gate.resolve();
    await Promise.all(scans);
    assert.deepEqual(deaths, ['spamd://a']);
    now += 5_000;
    assert.equal(pool.state()[0]?.dead, false, 'the first death set the retry time');
  });

  it('errors spread wider than errorTimeMs do not kill a server', async () => {
    let now = 0;
    const a = new ScriptedScanner('spamd://a', refused('spamd://a'));
    const pool = new ScannerPool([{ scanner: a }, { scanner: new ScriptedScanner('spamd://b') }], {
      strategy: 'failover',
      maxConcurrent: 1,
      maxQueue: 0,
      health: { maxErrors: 2, errorTimeMs: 100, deadTimeMs: 5_000 },
      now: () => now,
    });
    await pool.scan(REQUEST, signal());
    now += 200;
    await pool.scan(REQUEST, signal());
    assert.equal(pool.state()[0]?.dead, false);
  });

  it('retries temporary server errors but never a non-retryable failure', async () => {
    const a = new ScriptedScanner('spamd://a', () =>
      Promise.reject(new ServerError('spamd://a', 75, 'EX_TEMPFAIL', true)),
    );
    const b = new ScriptedScanner('spamd://b');
    const pool = new ScannerPool([{ scanner: a }, { scanner: b }], {
      strategy: 'failover',
      maxConcurrent: 4,
      maxQueue: 4,
    });
    assert.equal((await pool.scan(REQUEST, signal())).scanner, 'spamd://b');
    a.behaviour = () => Promise.reject(new BadResponseError('spamd://a', 'garbage'));
    await assert.rejects(pool.scan(REQUEST, signal()), BadResponseError);
    a.behaviour = () => Promise.reject(new ScanTimeoutError('spamd://a', 100));
    await assert.rejects(pool.scan(REQUEST, signal()), ScanTimeoutError);
    assert.equal(b.calls, 1);
  });

  it('reports all servers down, with the last failure as cause', async () => {
    const pool = new ScannerPool(
      [
        { scanner: new ScriptedScanner('spamd://a', refused('spamd://a')) },
        { scanner: new ScriptedScanner('spamd://b', refused('spamd://b')) },
      ],
      {
        strategy: 'failover',
        maxConcurrent: 4,
        maxQueue: 4,
        health: { maxErrors: 1, errorTimeMs: 1000, deadTimeMs: 60_000 },
      },
    );
    await assert.rejects(
      pool.scan(REQUEST, signal()),
      (e: unknown) => e instanceof AllServersDownError && e.cause instanceof ConnectionError,
    );
    await assert.rejects(
      pool.scan(REQUEST, signal()),
      (e: unknown) => e instanceof AllServersDownError && e.code === 'SCANNER_ALL_DOWN',
    );
  });

  it('refuses at once when every server is at its cap and its queue is full', async () => {
    const gate = deferred();
    const slow = new ScriptedScanner('spamd://a', async () => {
      await gate.promise;
      return verdict('spamd://a');
    });
    const pool = new ScannerPool([{ scanner: slow }], {
      strategy: 'failover',
      maxConcurrent: 2,
      maxQueue: 1,
    });
    const inFlight = [
      pool.scan(REQUEST, signal()),
      pool.scan(REQUEST, signal()),
      pool.scan(REQUEST, signal()),
    ];
    await assert.rejects(
      pool.scan(REQUEST, signal()),
      (e: unknown) => e instanceof OverloadedError && e.code === 'SCANNER_OVERLOADED',
    );
    assert.deepEqual(
      pool.state()[0] && [pool.state()[0]?.running, pool.state()[0]?.queued],
      [2, 1],
    );
    gate.resolve();
    assert.equal(
      (await Promise.all(inFlight)).length,
      3,
      'the queued scan ran once a slot was free',
    );
    assert.deepEqual([pool.state()[0]?.running, pool.state()[0]?.queued], [0, 0]);
  });

  it('an overloaded server hands the scan to the next one', async () => {
    const gate = deferred();
    const a = new ScriptedScanner('spamd://a', async () => {
      await gate.promise;
      return verdict('spamd://a');
    });
    const b = new ScriptedScanner('spamd://b');
    const pool = new ScannerPool([{ scanner: a }, { scanner: b }], {
      strategy: 'failover',
      maxConcurrent: 1,
      maxQueue: 0,
    });
    const first = pool.scan(REQUEST, signal());
    assert.equal((await pool.scan(REQUEST, signal())).scanner, 'spamd://b');
    gate.resolve();
    await first;
  });

  it('gives up waiting in line when the caller aborts', async () => {
    const gate = deferred();
    const a = new ScriptedScanner('spamd://a', async () => {
      await gate.promise;
      return verdict('spamd://a');
    });
    const pool = new ScannerPool([{ scanner: a }], {
      strategy: 'failover',
      maxConcurrent: 1,
      maxQueue: 5,
    });
    const first = pool.scan(REQUEST, signal());
    const caller = new AbortController();
    const waiting = pool.scan(REQUEST, caller.signal);
    caller.abort(new Error('deadline'));
    await assert.rejects(waiting, ScanAbortedError);
    assert.equal(pool.state()[0]?.queued, 0);
    gate.resolve();
    await first;
    assert.equal(a.calls, 1);
  });

  it('does not count an aborted scan against the server', async () => {
    const a = new ScriptedScanner('spamd://a', () =>
      Promise.reject(new ScanAbortedError('spamd://a')),
    );
    const pool = new ScannerPool([{ scanner: a }], {
      strategy: 'failover',
      maxConcurrent: 1,
      maxQueue: 0,
      health: { maxErrors: 1, errorTimeMs: 1000, deadTimeMs: 1000 },
    });
    await assert.rejects(pool.scan(REQUEST, signal()), ScanAbortedError);
    assert.equal(pool.state()[0]?.dead, false);
  });
});

describe('Limiter', () => {
  it('hands a released slot to the next waiter and releases once only', async () => {
    const limiter = new Limiter(1, 1);
    const first = await (limiter.tryAcquire(signal()) as Promise<() => void>);
    const second = limiter.tryAcquire(signal()) as Promise<() => void>;
    assert.equal(limiter.queued, 1);
    first();
    first();
    const release = await second;
    assert.equal(limiter.running, 1);
    release();
    assert.equal(limiter.running, 0);
  });
});
