/**
 * The actuator's waiting room, fair between publishers: one bounded queue per key (the topic, which per
 * device topics make one per account), served in turn. A publisher that floods fills only its own queue;
 * what overflows is refused at once (the caller rejects it as OVERLOADED) and never delays the others,
 * whose next message is at most one turn away. Pure data structure: no I/O, no clock.
 *
 * Sizing (docs/RELIABILITY.md, "Flood"): a queued message must be judged before it goes stale, so a
 * queue longer than (timestamp window × verify rate ÷ active publishers) only holds messages that will be
 * refused as STALE anyway; the defaults keep each queue far below that.
 * @module
 */

/** Why {@link FairQueue.push} refused an item. */
export type FairQueueRefusal = "key_full" | "too_many_keys" | "total_full";

/** Limits of a {@link FairQueue}. */
export interface FairQueueLimits {
  /** Items one key may have waiting. */
  perKey: number;
  /** Keys with items waiting at once; a new key beyond this is refused. */
  maxKeys: number;
  /**
   * Items waiting in all queues together beyond which a key that already has items waiting is refused
   * (default: no bound beyond perKey × maxKeys). A key with nothing waiting is still admitted, so a quiet
   * publisher always gets its turn while others flood; at most `maxTotal + maxKeys` items ever wait.
   */
  maxTotal?: number;
}

/**
 * Round-robin queues by key.
 * @example
 * ```ts
 * const queue = new FairQueue<Uint8Array>({ perKey: 64, maxKeys: 1024 });
 * queue.push("home/secure/door-sensor-1/door", payload); // { ok: true }
 * const next = queue.shift(); // { key, item } of the next publisher in turn
 * ```
 */
export class FairQueue<T> {
  readonly #limits: FairQueueLimits;
  /** Keys with waiting items, in the order they are served; a served key goes to the back. */
  readonly #queues = new Map<string, T[]>();
  #size = 0;

  /** @param limits per-key and key-count bounds */
  constructor(limits: FairQueueLimits) {
    if (!(limits.perKey >= 1) || !(limits.maxKeys >= 1)) {
      throw new RangeError(`queue limits must be at least 1, got ${JSON.stringify(limits)}`);
    }
    this.#limits = limits;
  }

  /** Items waiting in all queues. */
  get size(): number {
    return this.#size;
  }

  /** Items waiting for `key`. */
  waiting(key: string): number {
    return this.#queues.get(key)?.length ?? 0;
  }

  /** Adds an item to its key's queue, or says why it cannot wait. */
  push(key: string, item: T): { ok: true } | { ok: false; reason: FairQueueRefusal } {
    const queue = this.#queues.get(key);
    if (queue) {
      if (queue.length >= this.#limits.perKey) return { ok: false, reason: "key_full" };
      if (this.#size >= (this.#limits.maxTotal ?? Infinity)) return { ok: false, reason: "total_full" };
      queue.push(item);
    } else {
      if (this.#queues.size >= this.#limits.maxKeys) return { ok: false, reason: "too_many_keys" };
      this.#queues.set(key, [item]);
    }
    this.#size++;
    return { ok: true };
  }

  /** Takes the next item, from the key whose turn it is, or undefined when all queues are empty. */
  shift(): { key: string; item: T } | undefined {
    const first = this.#queues.entries().next();
    if (first.done) return undefined;
    const [key, queue] = first.value;
    const item = queue.shift()!;
    this.#queues.delete(key);
    if (queue.length > 0) this.#queues.set(key, queue); // to the back: the others go first
    this.#size--;
    return { key, item };
  }
}
