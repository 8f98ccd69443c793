/**
 * The Redis token store (ioredis), for several Spamward instances sharing one classifier.
 *
 * Keys (prefix default `spamward:bayes:`):
 *   <prefix>spam     hash  token id (base 36) → spam count
 *   <prefix>ham      hash  token id (base 36) → ham count
 *   <prefix>messages hash  message key → "spam" | "ham"
 *   <prefix>totals   hash  "spam" | "ham" → messages learned
 *
 * A scan is one pipeline of three HMGETs (one round trip); learning is one Lua script, so the
 * check "already learned as this class?" and the count updates are atomic across instances.
 */
import { Redis } from 'ioredis';
import type { TokenCounts, Totals } from '../bayes.ts';
import { StoreError, StoreUnavailableError } from '../errors.ts';
import type { LearnClass, Snapshot, TokenStore } from './token-store.ts';

/** How to reach Redis. */
export interface RedisStoreOptions {
  /** The scanner URL, for errors. */
  readonly scanner: string;
  readonly host: string;
  readonly port: number;
  readonly password?: string;
  readonly db?: number;
  /** Key prefix; default `spamward:bayes:`. */
  readonly prefix?: string;
  /** Connect timeout; default 2000 ms. */
  readonly connectTimeoutMs?: number;
  /** Per-command timeout; default 2000 ms. */
  readonly commandTimeoutMs?: number;
}

// KEYS: messages, totals, spam, ham. ARGV: message key, new class ('spam'|'ham'|'forget'), tokens…
const LEARN_SCRIPT = `
local old = redis.call('HGET', KEYS[1], ARGV[1])
local new = ARGV[2]
if old == new or (not old and new == 'forget') then return 0 end
local function add(class, delta)
  local key = class == 'spam' and KEYS[3] or KEYS[4]
  for i = 3, #ARGV do
    local n = redis.call('HINCRBY', key, ARGV[i], delta)
    if n <= 0 then redis.call('HDEL', key, ARGV[i]) end
  end
  local total = redis.call('HINCRBY', KEYS[2], class, delta)
  if total < 0 then redis.call('HSET', KEYS[2], class, 0) end
end
if old then add(old, -1) end
if new == 'forget' then
  redis.call('HDEL', KEYS[1], ARGV[1])
else
  add(new, 1)
  redis.call('HSET', KEYS[1], ARGV[1], new)
end
return 1
`;

/** A TokenStore in Redis; connects on first use and reconnects by itself after a failure. */
export class RedisTokenStore implements TokenStore {
  private readonly scanner: string;
  private readonly redis: Redis;
  private readonly keys: { messages: string; totals: string; spam: string; ham: string };
  private lastError: Error | undefined;

  constructor(options: RedisStoreOptions) {
    this.scanner = options.scanner;
    const prefix = options.prefix ?? 'spamward:bayes:';
    this.keys = {
      messages: `${prefix}messages`,
      totals: `${prefix}totals`,
      spam: `${prefix}spam`,
      ham: `${prefix}ham`,
    };
    // Not annotated as RedisOptions: its optional `replyMapping` clashes with exactOptionalPropertyTypes.
    const redisOptions = {
      host: options.host,
      port: options.port,
      db: options.db ?? 0,
      lazyConnect: true,
      // Fail a scan at once while Redis is away (the failure policy decides), instead of queueing
      // it until a reconnect; reconnects keep going in the background with a capped back-off.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: options.connectTimeoutMs ?? 2_000,
      commandTimeout: options.commandTimeoutMs ?? 2_000,
      retryStrategy: (times: number) => Math.min(times * 200, 5_000),
      ...(options.password === undefined ? {} : { password: options.password }),
    };
    this.redis = new Redis(redisOptions);
    // ioredis prints unhandled 'error' events itself; scanners never log, so keep it for errors.
    this.redis.on('error', (error: Error) => {
      this.lastError = error;
    });
    this.redis.defineCommand('spamwardLearn', { numberOfKeys: 4, lua: LEARN_SCRIPT });
  }

  async lookup(tokens: readonly number[]): Promise<Snapshot> {
    const fields = tokens.map((t) => t.toString(36));
    const replies = await this.call('lookup', () =>
      this.redis
        .pipeline()
        .hmget(this.keys.totals, 'spam', 'ham')
        .hmget(this.keys.spam, ...fields)
        .hmget(this.keys.ham, ...fields)
        .exec(),
    );
    const [totals, spam, ham] = (replies ?? []).map(([error, value]) => {
      if (error !== null) throw this.failure('lookup', error);
      return value as (string | null)[];
    });
    if (totals === undefined || spam === undefined || ham === undefined) {
      throw new StoreError(this.scanner, 'other', 'lookup: incomplete pipeline reply');
    }
    const counts = tokens.map((_, i): TokenCounts | undefined => {
      const s = spam[i] ?? null;
      const h = ham[i] ?? null;
      return s === null && h === null ? undefined : { spam: count(s), ham: count(h) };
    });
    return { totals: { spam: count(totals[0] ?? null), ham: count(totals[1] ?? null) }, counts };
  }

  async totals(): Promise<Totals> {
    const [spam, ham] = await this.call('totals', () =>
      this.redis.hmget(this.keys.totals, 'spam', 'ham'),
    );
    return { spam: count(spam ?? null), ham: count(ham ?? null) };
  }

  async learn(key: string, kind: LearnClass, tokens: readonly number[]): Promise<boolean> {
    const { messages, totals, spam, ham } = this.keys;
    const args = [messages, totals, spam, ham, key, kind, ...tokens.map((t) => t.toString(36))];
    const learn = (this.redis as unknown as { spamwardLearn(...a: string[]): Promise<number> })
      .spamwardLearn;
    const result = await this.call('learn', () => learn.apply(this.redis, args));
    return result === 1;
  }

  async learnedAs(key: string): Promise<'spam' | 'ham' | undefined> {
    const found = await this.call('learnedAs', () => this.redis.hget(this.keys.messages, key));
    return found === 'spam' || found === 'ham' ? found : undefined;
  }

  async ping(): Promise<void> {
    await this.call('ping', () => this.redis.ping());
  }

  async close(): Promise<void> {
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }

  /** The first connection attempt, shared by every call made while it is under way. */
  private connecting: Promise<void> | undefined;

  /** Connects if needed, runs `fn`, and turns any failure into a typed error. */
  private async call<T>(doing: string, fn: () => Promise<T>): Promise<T> {
    try {
      // Without the offline queue a command sent while the first connect is still running fails
      // ("Stream isn't writeable"): concurrent first calls must all wait for the same connect.
      if (this.redis.status === 'wait')
        this.connecting ??= this.redis.connect().finally(() => {
          this.connecting = undefined;
        });
      if (this.connecting !== undefined) await this.connecting;
      return await fn();
    } catch (error) {
      throw this.failure(doing, error);
    }
  }

  private failure(doing: string, error: unknown): Error {
    if (error instanceof StoreError || error instanceof StoreUnavailableError) return error;
    const message = error instanceof Error ? error.message : String(error);
    const options = { cause: error };
    // A reply error (wrong type at a key, script error) means the data is not ours or not sane.
    if (error instanceof Error && error.name === 'ReplyError') {
      return new StoreError(this.scanner, 'corrupt', `${doing}: ${message}`, options);
    }
    const last =
      this.lastError === undefined ? '' : ` (last connection error: ${this.lastError.message})`;
    return new StoreUnavailableError(this.scanner, `${doing}: ${message}${last}`, options);
  }
}

/** A Redis count (string or nil) as a non-negative integer. */
function count(value: string | null): number {
  if (value === null) return 0;
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? n : 0;
}
