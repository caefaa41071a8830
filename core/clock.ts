/**
 * Time as a dependency: roles read the wall clock and wait through a {@link Clock}, so tests drive
 * them with {@link FakeClock} and never sleep.
 * @module
 */

/** A source of wall-clock time in milliseconds since the Unix epoch, and a way to wait. */
export interface Clock {
  /** Milliseconds since the Unix epoch; may have a fractional part. */
  now(): number;
  /** Resolves after `ms` milliseconds, or early (without error) when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/**
 * The real clock: `performance.timeOrigin + performance.now()` gives sub-millisecond wall time.
 * @example
 * ```ts
 * const t0 = systemClock.now();
 * await systemClock.sleep(10);
 * ```
 */
export const systemClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        resolve();
      }
      signal?.addEventListener("abort", done, { once: true });
    }),
};

/**
 * A manual clock for tests: `sleep` resolves when {@link FakeClock.advance} moves time past its deadline.
 * @example
 * ```ts
 * const clock = new FakeClock(1_700_000_000_000);
 * const wait = clock.sleep(500);
 * clock.advance(500); // `wait` resolves
 * ```
 */
export class FakeClock implements Clock {
  #now: number;
  #sleepers: { until: number; resolve: () => void }[] = [];

  /** @param startMs the initial time, ms since the epoch */
  constructor(startMs = 1_700_000_000_000) {
    this.#now = startMs;
  }

  /** Current fake time in ms. */
  now(): number {
    return this.#now;
  }

  /** Waits until fake time reaches now + ms (or the signal aborts). */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const sleeper = { until: this.#now + ms, resolve };
      this.#sleepers.push(sleeper);
      signal?.addEventListener("abort", () => {
        this.#sleepers = this.#sleepers.filter((s) => s !== sleeper);
        resolve();
      }, { once: true });
    });
  }

  /** Moves time forward by `ms` and wakes every sleeper whose deadline has passed. */
  advance(ms: number): void {
    this.#now += ms;
    const due = this.#sleepers.filter((s) => s.until <= this.#now);
    this.#sleepers = this.#sleepers.filter((s) => s.until > this.#now);
    for (const s of due) s.resolve();
  }

  /** Number of pending sleeps, so a test can wait until a role is idle before advancing. */
  get pendingSleeps(): number {
    return this.#sleepers.length;
  }
}
