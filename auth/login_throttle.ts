/**
 * The cost of a failed broker login: each refusal is answered only after a delay that doubles with the
 * recent failures of the same remote address or the same username, up to a cap. A correct password is
 * never delayed, so guessing gets slow while the real device, which knows its password, always gets in
 * at once; there is no lockout for an attacker to trigger. Pure: the caller passes the time.
 * @module
 */

/** Options of {@link LoginThrottle}; every field has a default. */
export interface LoginThrottleOptions {
  /** Delay after the first recent failure (default 50 ms). */
  baseDelayMs?: number;
  /** The cap (default 1000 ms: below the 2 s connect timeout clients such as the attack suite use). */
  maxDelayMs?: number;
  /** A key's failures are forgotten after this long without a new one (default 10 min). */
  forgetAfterMs?: number;
  /** Most keys remembered; the least recently failed is dropped first (default 10 000). */
  maxTracked?: number;
}

/** Defaults of {@link LoginThrottleOptions}. */
export const LOGIN_THROTTLE_DEFAULTS: Required<LoginThrottleOptions> = {
  baseDelayMs: 50,
  maxDelayMs: 1000,
  forgetAfterMs: 10 * 60_000,
  maxTracked: 10_000,
};

/**
 * Counts recent failed logins per key (e.g. `address:127.0.0.1`, `user:door-sensor-1`) and prices the next
 * refusal.
 * @example
 * ```ts
 * const throttle = new LoginThrottle();
 * throttle.recordFailure(["address:10.0.0.9", "user:door-sensor-1"], Date.now()); // 50
 * throttle.recordFailure(["address:10.0.0.9", "user:door-sensor-1"], Date.now()); // 100
 * ```
 */
export class LoginThrottle {
  #options: Required<LoginThrottleOptions>;
  #failures = new Map<string, { count: number; lastMs: number }>();

  /** @param options delays and memory bounds */
  constructor(options: LoginThrottleOptions = {}) {
    this.#options = { ...LOGIN_THROTTLE_DEFAULTS, ...options };
  }

  /**
   * Records one failed login under every key and returns how long to hold its refusal, in ms.
   * @example
   * ```ts
   * const delayMs = throttle.recordFailure([`address:${address}`], Date.now());
   * ```
   */
  recordFailure(keys: string[], nowMs: number): number {
    const { baseDelayMs, maxDelayMs, forgetAfterMs, maxTracked } = this.#options;
    let worst = 0;
    for (const key of keys) {
      const known = this.#failures.get(key);
      const count = known && nowMs - known.lastMs <= forgetAfterMs ? known.count + 1 : 1;
      // Re-inserting keeps the Map in least-recently-failed order, so eviction drops the stalest key.
      this.#failures.delete(key);
      this.#failures.set(key, { count, lastMs: nowMs });
      worst = Math.max(worst, count);
    }
    while (this.#failures.size > maxTracked) this.#failures.delete(this.#failures.keys().next().value!);
    if (worst === 0) return 0;
    return Math.min(baseDelayMs * 2 ** Math.min(worst - 1, 30), maxDelayMs);
  }

  /** Keys currently remembered (for tests and the bound on memory). */
  get tracked(): number {
    return this.#failures.size;
  }
}
