/**
 * Throttles a publisher that floods the actuator with messages that fail: each rejection it earns spends
 * one token of its failure budget (a token bucket per publisher, that is per device topic). Once the
 * budget is spent, only as many of its messages are judged as the budget refills, and the rest are shed
 * unjudged (the actuator refuses them as OVERLOADED). A publisher whose messages are accepted never
 * spends anything, whatever its rate; one whose messages fail now and then never runs out.
 *
 * Why: every forged signature costs a verification (≈0.4 ms of DSA), and a flood of them takes the CPU
 * the actuator needs to read its connection, so everyone else's messages wait behind the flood in the
 * broker; measured on Mosquitto, 100 000 forged envelopes delayed the real sensor's events by 8–14 s
 * (docs/RELIABILITY.md, "Flood"). Pure: the caller passes the time.
 * @module
 */

import { KeyedTokenBuckets, type RateLimit } from "../core/token_bucket.ts";

/** When a publisher is throttled: its failure budget. */
export interface ThrottlePolicy {
  /** Rejections a publisher may earn at once, and per second after that. */
  failures: RateLimit;
}

/**
 * 1 024 rejections at once, 100 a second after that. The README's attack run by hand and the Phase II
 * tests send a few hundred bad envelopes onto one topic, each judged; a flood of forged signatures is cut
 * to 100 judgements a second (at most 4 % of a core) after its first 1 024.
 * @example
 * ```ts
 * const throttle = new PublisherThrottle(DEFAULT_THROTTLE_POLICY);
 * ```
 */
export const DEFAULT_THROTTLE_POLICY: ThrottlePolicy = { failures: { ratePerS: 100, burst: 1024 } };

/**
 * The failure budgets of all publishers.
 * @example
 * ```ts
 * const throttle = new PublisherThrottle(DEFAULT_THROTTLE_POLICY);
 * if (throttle.shed(topic, Date.now())) refuse(); else judge();
 * // after judging: if rejected, throttle.failed(topic, Date.now());
 * ```
 */
export class PublisherThrottle {
  readonly #budgets: KeyedTokenBuckets;

  /** @param policy the failure budget @param maxKeys publishers remembered (default 10 000) */
  constructor(policy: ThrottlePolicy, maxKeys = 10_000) {
    this.#budgets = new KeyedTokenBuckets(policy.failures, maxKeys);
  }

  /** A message of `key` was judged and rejected: spends one token of its budget. */
  failed(key: string, nowMs: number): void {
    this.#budgets.take(key, nowMs);
  }

  /** Whether `key`'s next message is shed unjudged: its budget is spent. */
  shed(key: string, nowMs: number): boolean {
    return this.#budgets.available(key, nowMs) < 1;
  }
}
