/**
 * Epoch keys made ahead of use. Making a key (32 random bytes, one RSA-OAEP wrap, one AES key import) is
 * the sensor's only crypto that does not depend on the reading, so it need not sit between the reading's
 * timestamp and its publish: the sealer asks for the next key as soon as the current one is used up, and
 * the seal that opens the next epoch takes it ready-made.
 *
 * One rule keeps this as safe as making the key on the spot: a prepared key is handed out at most once,
 * and only to open a new epoch, so no key (and no nonce space) is ever shared between two epochs.
 * @module
 */

/** Where the key a {@link KeyPrefetch.take} handed out came from. */
export type KeySource =
  /** Prepared in the background and finished before it was asked for: no wait at all. */
  | "ready"
  /** Prepared in the background and still being made when asked for: waited for the rest of it. */
  | "in_flight"
  /** Nothing was prepared (or the preparation failed): made on the spot, as without prefetching. */
  | "on_demand";

/** Counts kept by a {@link KeyPrefetch}. */
export interface KeyPrefetchStats {
  /** Preparations started. */
  prepared: number;
  /** Preparations that failed (the error is dropped; the next {@link KeyPrefetch.take} makes a key itself). */
  failed: number;
  /** Keys handed out, by source. */
  taken: Record<KeySource, number>;
}

interface Slot<K> {
  /** The prepared key, or undefined if making it failed. Never rejects. */
  readonly key: Promise<K | undefined>;
  done: boolean;
}

/**
 * Holds at most one key made ahead of use, and hands each key out once.
 * @example
 * ```ts
 * const keys = new KeyPrefetch(() => newEpochKey(recipientPublicKey, randomBytes, { maxMessages: 100 }));
 * keys.prepare(); // starts making the first key now
 * const { key, source } = await keys.take(); // "ready" if it finished meanwhile
 * keys.prepare(); // and the next one, off the critical path
 * ```
 */
export class KeyPrefetch<K extends object> {
  readonly #make: () => Promise<K>;
  #next: Slot<K> | undefined;
  /** Live counts. */
  readonly stats: KeyPrefetchStats = {
    prepared: 0,
    failed: 0,
    taken: { ready: 0, in_flight: 0, on_demand: 0 },
  };

  /** @param make makes one fresh key (for the sealer: draws a session key and wraps it) */
  constructor(make: () => Promise<K>) {
    this.#make = make;
  }

  /**
   * Starts making the next key, unless one is already prepared or being made. Never throws; a failed
   * preparation is counted and forgotten, and the next {@link take} makes its key on the spot (so the
   * error surfaces there, where it did without prefetching).
   * @example
   * ```ts
   * keys.prepare();
   * keys.prepare(); // no-op: one key is enough
   * ```
   */
  prepare(): void {
    if (this.#next !== undefined) return;
    this.stats.prepared++;
    let made: Promise<K>;
    try {
      made = this.#make();
    } catch {
      this.stats.failed++;
      return;
    }
    const slot: Slot<K> = {
      key: made.then(
        (key) => {
          slot.done = true;
          return key;
        },
        () => {
          slot.done = true;
          this.stats.failed++;
          if (this.#next === slot) this.#next = undefined;
          return undefined;
        },
      ),
      done: false,
    };
    this.#next = slot;
  }

  /**
   * Hands out a key no one else got: the prepared one (waiting for it if it is still being made: it
   * started earlier, so it finishes no later than a new one would), else one made now. The prepared key
   * is removed before anything is awaited, so two callers never get the same key.
   * @example
   * ```ts
   * const { key, source } = await keys.take(); // source: "ready" | "in_flight" | "on_demand"
   * ```
   */
  async take(): Promise<{ key: K; source: KeySource }> {
    const slot = this.#next;
    this.#next = undefined;
    if (slot !== undefined) {
      const source: KeySource = slot.done ? "ready" : "in_flight";
      const key = await slot.key;
      if (key !== undefined) {
        this.stats.taken[source]++;
        return { key, source };
      }
    }
    const key = await this.#make();
    this.stats.taken.on_demand++;
    return { key, source: "on_demand" };
  }

  /**
   * Resolves once no key is being made: for a clean shutdown (and for tests, whose op sanitizer would
   * see a wrap still running). Never rejects.
   * @example
   * ```ts
   * await keys.idle();
   * ```
   */
  async idle(): Promise<void> {
    await this.#next?.key;
  }
}
