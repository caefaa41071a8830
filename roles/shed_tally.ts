/**
 * Counts the messages the actuator sheds unjudged (a full queue, a throttled publisher) so that a flood
 * costs a counter increment per message, not a log line: a log line with its digest costs ≈30 µs, and at
 * 50 000 messages a second the log alone would take more than the CPU the actuator has, so the flood
 * would pile up in the broker in front of everyone else's messages. The first message of a publisher's
 * shedding is logged in full (a `rejected` line with its digest, so there is one to look at); the rest
 * are counted, and one `shed` summary per publisher and code is due at most every `everyMs`, and at
 * {@link ShedTally.flush} (the actuator flushes what is due whenever its queues run empty, and everything
 * when it stops). Pure: the caller passes the time and writes the log.
 * @module
 */

/** One `shed` log event: messages of one publisher refused unjudged with one code since the last. */
export interface ShedSummary {
  /** The topic the messages came on. */
  publisher: string;
  /** The reason code they were refused with. */
  code: string;
  /** How many, not counting the one logged in full. */
  count: number;
  /** Why, for the latest of them. */
  detail: string;
  /** When the first of them came, ms since the epoch. */
  since_ms: number;
}

/** Seconds between two `shed` summaries of one publisher while it keeps being shed: one. */
export const SHED_SUMMARY_EVERY_MS = 1000;

/** What to do with one shed message. */
export type ShedDecision =
  | { log: "full" }
  | { log: "counted"; due?: ShedSummary };

/**
 * The counts of shed messages not yet logged.
 * @example
 * ```ts
 * const tally = new ShedTally();
 * const decision = tally.add(topic, "OVERLOADED", "publisher queue full", Date.now());
 * if (decision.log === "full") log.event("rejected", { topic, code: "OVERLOADED", digest });
 * else if (decision.due) log.event("shed", { ...decision.due });
 * ```
 */
export class ShedTally {
  readonly #everyMs: number;
  readonly #maxOpen: number;
  /** Counted and not yet summarised, by publisher and code. */
  readonly #open = new Map<string, ShedSummary & { lastSummaryMs: number }>();

  /**
   * @param everyMs least time between two summaries of one publisher and code
   * @param maxOpen publishers and codes counted at once; beyond, a shed message is logged in full (so a
   *   stream of new topics cannot grow memory)
   */
  constructor(everyMs = SHED_SUMMARY_EVERY_MS, maxOpen = 4096) {
    this.#everyMs = everyMs;
    this.#maxOpen = maxOpen;
  }

  /** Publishers and codes with shed messages counted and not yet summarised (or just logged in full). */
  get open(): number {
    return this.#open.size;
  }

  /** Notes one shed message; says whether to log it in full, or that it was counted (and a summary is due). */
  add(publisher: string, code: string, detail: string, nowMs: number): ShedDecision {
    const key = `${code}\u0000${publisher}`;
    const entry = this.#open.get(key);
    if (!entry) {
      if (this.#open.size >= this.#maxOpen) return { log: "full" };
      this.#open.set(key, { publisher, code, count: 0, detail, since_ms: nowMs, lastSummaryMs: nowMs });
      return { log: "full" };
    }
    if (entry.count === 0) entry.since_ms = nowMs;
    entry.count++;
    entry.detail = detail;
    if (nowMs - entry.lastSummaryMs < this.#everyMs) return { log: "counted" };
    entry.lastSummaryMs = nowMs;
    const due = summaryOf(entry);
    entry.count = 0;
    return { log: "counted", due };
  }

  /**
   * Summaries of what was counted, for each publisher and code whose last summary (or first message) is
   * `everyMs` old, or for all with `all`; those are forgotten, so their next shed message starts a new
   * run (logged in full). At most one full line per publisher, code and `everyMs` comes of it.
   */
  flush(nowMs: number, all = false): ShedSummary[] {
    const due: ShedSummary[] = [];
    for (const [key, entry] of this.#open) {
      if (!all && nowMs - entry.lastSummaryMs < this.#everyMs) continue;
      if (entry.count > 0) due.push(summaryOf(entry));
      this.#open.delete(key);
    }
    return due;
  }
}

function summaryOf(entry: ShedSummary): ShedSummary {
  const { publisher, code, count, detail, since_ms } = entry;
  return { publisher, code, count, detail, since_ms };
}
