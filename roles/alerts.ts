/**
 * Alerts for the actuator: when one publisher's rejections (bad signatures, stale or malformed
 * envelopes, overflow of its queue) pass a threshold within a window, one `alert` names the publisher, the
 * reason codes and their counts. One alert per episode, never one per message: an episode ends after a
 * quiet spell with no rejection from that publisher. Pure: the caller passes the time.
 * @module
 */

/** When an episode starts and ends. */
export interface AlertPolicy {
  /** Rejections from one publisher within `windowMs` that raise an alert. */
  threshold: number;
  /** The window the threshold is counted in, ms. */
  windowMs: number;
  /** A publisher quiet this long (no rejection) ends its episode; the next burst alerts again. */
  quietMs: number;
}

/**
 * 20 rejections within 10 s raise an alert; 60 s of quiet end the episode. A door sensor with a bad clock
 * or a torn message produces a handful, never twenty.
 * @example
 * ```ts
 * const monitor = new AlertMonitor(DEFAULT_ALERT_POLICY);
 * ```
 */
export const DEFAULT_ALERT_POLICY: AlertPolicy = { threshold: 20, windowMs: 10_000, quietMs: 60_000 };

/** What an alert says. */
export interface Alert {
  /** The publisher: the topic (one per device account) the rejections came from. */
  publisher: string;
  /** Rejections so far in this episode, by reason code. */
  codes: Record<string, number>;
  /** Their total. */
  count: number;
  /** When the episode's first rejection came, ms since the epoch. */
  since_ms: number;
}

interface Episode {
  startedMs: number;
  lastMs: number;
  /** Times of recent rejections inside the window (only until the alert is raised). */
  recent: number[];
  codes: Record<string, number>;
  count: number;
  alerted: boolean;
}

/**
 * Counts rejections per publisher and says when one crosses the threshold.
 * @example
 * ```ts
 * const alert = monitor.record("home/secure/mallory/door", "BAD_SIGNATURE", Date.now());
 * if (alert) log.event("alert", { ...alert });
 * ```
 */
export class AlertMonitor {
  readonly #policy: AlertPolicy;
  readonly #episodes = new Map<string, Episode>();
  readonly #maxPublishers: number;

  /** @param policy threshold, window, quiet spell @param maxPublishers most publishers tracked at once */
  constructor(policy: AlertPolicy = DEFAULT_ALERT_POLICY, maxPublishers = 10_000) {
    this.#policy = policy;
    this.#maxPublishers = maxPublishers;
  }

  /** Records one rejection; returns the alert when this one crosses the threshold, once per episode. */
  record(publisher: string, code: string, nowMs: number): Alert | undefined {
    let episode = this.#episodes.get(publisher);
    if (episode && nowMs - episode.lastMs >= this.#policy.quietMs) episode = undefined; // a new episode
    if (!episode) {
      episode = { startedMs: nowMs, lastMs: nowMs, recent: [], codes: {}, count: 0, alerted: false };
      if (this.#episodes.size >= this.#maxPublishers) this.#forgetQuietest();
    }
    this.#episodes.delete(publisher);
    this.#episodes.set(publisher, episode);
    episode.lastMs = nowMs;
    episode.codes[code] = (episode.codes[code] ?? 0) + 1;
    episode.count++;
    if (episode.alerted) return undefined;
    episode.recent.push(nowMs);
    while (episode.recent.length > 0 && nowMs - episode.recent[0] >= this.#policy.windowMs) {
      episode.recent.shift();
    }
    if (episode.recent.length < this.#policy.threshold) return undefined;
    episode.alerted = true;
    episode.recent = [];
    return { publisher, codes: { ...episode.codes }, count: episode.count, since_ms: episode.startedMs };
  }

  /** Publishers whose current episode has raised an alert. */
  alerting(): string[] {
    return [...this.#episodes].filter(([, e]) => e.alerted).map(([publisher]) => publisher);
  }

  #forgetQuietest(): void {
    // The map's order is recency of the last rejection: the first entry has been quiet longest.
    this.#episodes.delete(this.#episodes.keys().next().value!);
  }
}
