/**
 * Group commit for the actuator's replay state: counters that passed every other check wait a few
 * milliseconds for company, then are recorded together with one durable `acceptBatch` transaction (one
 * fsync, or one PostgreSQL transaction), and only then does each waiting message learn its outcome. Nothing is acted on before its
 * counter is on stable storage; the disk sees one sync per batch instead of one per message.
 *
 * Items are applied in the order they were submitted, so a sender's counters must be submitted in the
 * order its messages arrived (the secure opener does this).
 * @module
 */

import type { Clock } from "../core/clock.ts";
import type { Counter, ReplayState } from "../store/replay.ts";

/** Default wait for more items after the first one of a batch, ms. */
export const DEFAULT_BATCH_DELAY_MS = 2;
/** Default largest batch: a full batch commits at once, without waiting for the delay. */
export const DEFAULT_BATCH_MAX_ITEMS = 256;

/** The outcome of one submitted counter, known only after its batch committed (or failed). */
export type CommitOutcome =
  | { ok: true }
  | { ok: false; code: "REPLAY"; highest: bigint }
  | { ok: false; code: "STATE_WRITE_FAILED"; detail: string };

/** Options of {@link CommitBatcher}. */
export interface CommitBatcherOptions {
  /** How long the first item of a batch waits for more, ms (0: the batch closes on the next timer turn). */
  maxDelayMs?: number;
  /** A batch with this many items commits at once. */
  maxItems?: number;
}

/** What the batcher needs. */
export interface CommitBatcherDeps {
  /** The durable replay state. */
  replay: Pick<ReplayState, "acceptBatch">;
  /** Waits for the batch delay. */
  clock: Pick<Clock, "sleep">;
}

/** Counts kept by the batcher. */
export interface CommitBatcherStats {
  /** Transactions committed (or attempted). */
  batches: number;
  /** Items in them. */
  items: number;
  /** Largest batch so far. */
  largest: number;
}

interface Pending {
  sender: string;
  counter: Counter;
  resolve(outcome: CommitOutcome): void;
}

/**
 * Collects counters and records them in batches.
 * @example
 * ```ts
 * const batcher = new CommitBatcher({ replay: store, clock: systemClock }, { maxDelayMs: 2 });
 * const outcome = await batcher.submit("sensor-0001", 42);
 * if (outcome.ok) act(); // the counter is durable now
 * ```
 */
export class CommitBatcher {
  readonly #deps: CommitBatcherDeps;
  readonly #maxDelayMs: number;
  readonly #maxItems: number;
  #batch: Pending[] = [];
  /** Aborts the delay of the open batch when it fills up or is flushed. */
  #timer: AbortController | undefined;
  /** The open batch's delay, until it hands the batch to the writer. */
  #waiting: Promise<void> | undefined;
  /** The last batch handed to the store; each write starts after the one before it finished. */
  #writing: Promise<void> = Promise.resolve();
  /** Live counts. */
  readonly stats: CommitBatcherStats = { batches: 0, items: 0, largest: 0 };

  /**
   * @param deps replay state and clock
   * @param options batch delay and size
   */
  constructor(deps: CommitBatcherDeps, options: CommitBatcherOptions = {}) {
    const maxDelayMs = options.maxDelayMs ?? DEFAULT_BATCH_DELAY_MS;
    const maxItems = options.maxItems ?? DEFAULT_BATCH_MAX_ITEMS;
    if (!(maxDelayMs >= 0) || !Number.isFinite(maxDelayMs)) {
      throw new RangeError(`expected maxDelayMs >= 0, got ${maxDelayMs}`);
    }
    if (!Number.isSafeInteger(maxItems) || maxItems < 1) {
      throw new RangeError(`expected maxItems to be a positive integer, got ${maxItems}`);
    }
    this.#deps = deps;
    this.#maxDelayMs = maxDelayMs;
    this.#maxItems = maxItems;
  }

  /**
   * Queues `counter` from `sender` for the next commit; resolves once that commit is durable (or failed).
   * Never rejects: a failed write resolves as `STATE_WRITE_FAILED` for every item of its batch.
   * @example
   * ```ts
   * const outcome = await batcher.submit("sensor-0001", 42); // { ok: true } after the fsync
   * ```
   */
  submit(sender: string, counter: Counter): Promise<CommitOutcome> {
    return new Promise((resolve) => {
      this.#batch.push({ sender, counter, resolve });
      if (this.#batch.length >= this.#maxItems) this.#timer?.abort();
      else if (this.#batch.length === 1) this.#startTimer();
    });
  }

  /**
   * Commits whatever is waiting now, and resolves when every batch so far has committed.
   * @example
   * ```ts
   * await batcher.flush();
   * ```
   */
  async flush(): Promise<void> {
    for (;;) {
      this.#timer?.abort();
      if (this.#waiting) {
        await this.#waiting;
        continue;
      }
      if (this.#batch.length > 0) {
        this.#commit();
        continue;
      }
      const tail = this.#writing;
      await tail;
      if (tail === this.#writing && this.#batch.length === 0 && !this.#waiting) return;
    }
  }

  #startTimer(): void {
    const timer = new AbortController();
    this.#timer = timer;
    let waiting: Promise<void> | undefined = undefined;
    waiting = (async () => {
      // Waits for the delay, or less when the batch fills up or is flushed (abort ends the sleep early).
      await this.#deps.clock.sleep(this.#maxDelayMs, timer.signal);
      if (this.#waiting === waiting) this.#waiting = undefined;
      this.#commit();
    })();
    this.#waiting = waiting;
  }

  #commit(): void {
    const batch = this.#batch;
    this.#batch = [];
    this.#timer = undefined;
    if (batch.length === 0) return;
    this.stats.batches++;
    this.stats.items += batch.length;
    this.stats.largest = Math.max(this.stats.largest, batch.length);
    // Batches are written one after another, never side by side: a store that answers asynchronously
    // (PostgreSQL) must see a sender's counters in the order they arrived, and one connection holds one
    // transaction at a time.
    this.#writing = this.#writing.then(() => this.#write(batch));
  }

  async #write(batch: Pending[]): Promise<void> {
    let results;
    try {
      results = await this.#deps.replay.acceptBatch(
        batch.map(({ sender, counter }) => ({ sender, counter })),
      );
    } catch (error) {
      // Never act without recording: the whole batch is refused, and says why.
      const detail = error instanceof Error ? error.message : String(error);
      for (const item of batch) item.resolve({ ok: false, code: "STATE_WRITE_FAILED", detail });
      return;
    }
    batch.forEach((item, i) => item.resolve(results[i]));
  }
}
