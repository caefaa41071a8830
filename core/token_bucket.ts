/**
 * A token bucket: `ratePerS` tokens a second flow in, up to `burst`; each event takes one, and an event
 * that finds the bucket empty is over the limit. The embedded broker limits publishes per account with it,
 * the actuator actions per sender (docs/RELIABILITY.md, "Flood"). Time comes from the caller.
 * @module
 */

/** A rate and the burst allowed above it. */
export interface RateLimit {
  /** Sustained events per second. */
  ratePerS: number;
  /** Events allowed at once after a quiet spell (the bucket's size). */
  burst: number;
}

/**
 * One bucket. Starts full.
 * @example
 * ```ts
 * const bucket = new TokenBucket({ ratePerS: 10, burst: 20 }, Date.now());
 * if (!bucket.take(Date.now())) drop();
 * ```
 */
export class TokenBucket {
  readonly #limit: RateLimit;
  #tokens: number;
  #at: number;

  /** @param limit rate and burst @param nowMs the time the bucket starts (full) */
  constructor(limit: RateLimit, nowMs: number) {
    if (!(limit.ratePerS > 0) || !(limit.burst >= 1)) {
      throw new RangeError(`a rate limit needs ratePerS > 0 and burst >= 1, got ${JSON.stringify(limit)}`);
    }
    this.#limit = limit;
    this.#tokens = limit.burst;
    this.#at = nowMs;
  }

  /** Takes one token if there is one; false means over the limit (nothing is taken then). */
  take(nowMs: number): boolean {
    this.#refill(nowMs);
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Tokens available now (fractional). */
  available(nowMs: number): number {
    this.#refill(nowMs);
    return this.#tokens;
  }

  #refill(nowMs: number): void {
    const elapsedS = Math.max(0, nowMs - this.#at) / 1000;
    this.#tokens = Math.min(this.#limit.burst, this.#tokens + elapsedS * this.#limit.ratePerS);
    this.#at = Math.max(this.#at, nowMs);
  }
}

/**
 * One bucket per key (account, sender), created full on first use; at most `maxKeys` are kept, the least
 * recently used dropped first, so a stream of new keys cannot grow memory without bound.
 * @example
 * ```ts
 * const limits = new KeyedTokenBuckets({ ratePerS: 20, burst: 40 });
 * limits.take("mallory", Date.now()); // true until mallory's bucket is empty
 * ```
 */
export class KeyedTokenBuckets {
  readonly #limit: RateLimit;
  readonly #maxKeys: number;
  readonly #buckets = new Map<string, TokenBucket>();

  /** @param limit per-key rate and burst @param maxKeys most keys remembered (default 10 000) */
  constructor(limit: RateLimit, maxKeys = 10_000) {
    this.#limit = limit;
    this.#maxKeys = maxKeys;
  }

  /** Takes one token from `key`'s bucket; false means `key` is over its limit. */
  take(key: string, nowMs: number): boolean {
    let bucket = this.#buckets.get(key);
    if (bucket) this.#buckets.delete(key); // re-inserted below: the map's order is recency
    else bucket = new TokenBucket(this.#limit, nowMs);
    this.#buckets.set(key, bucket);
    if (this.#buckets.size > this.#maxKeys) this.#buckets.delete(this.#buckets.keys().next().value!);
    return bucket.take(nowMs);
  }

  /**
   * Tokens `key` has now (a key never seen has a full bucket); looks without taking or remembering.
   * @example
   * ```ts
   * limits.available("mallory", Date.now()) >= 1; // mallory's next event would be within the limit
   * ```
   */
  available(key: string, nowMs: number): number {
    return this.#buckets.get(key)?.available(nowMs) ?? this.#limit.burst;
  }
}
