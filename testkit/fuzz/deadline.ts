/**
 * A per-case time limit that also catches synchronous stalls.
 * @module
 */

/** The outcome of {@link withDeadline}: the value if it came in time, and the time taken either way. */
export type Guarded<T> = { done: true; value: T; ms: number } | { done: false; ms: number };

/**
 * Runs `work` with a time limit of `ms`; a result that comes after the limit (a synchronous stall delays
 * the timer itself) counts as late too.
 * @example
 * ```ts
 * const outcome = await withDeadline(() => open(bytes, topic, deps), 1_000);
 * ```
 */
export async function withDeadline<T>(work: () => Promise<T>, ms: number): Promise<Guarded<T>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const started = performance.now();
  const deadline = new Promise<{ done: false }>((resolve) => {
    timer = setTimeout(() => resolve({ done: false }), ms);
  });
  try {
    const outcome = await Promise.race([work().then((value) => ({ done: true as const, value })), deadline]);
    const elapsed = performance.now() - started;
    // A synchronous stall delays the timer itself, so the time is checked as well.
    if (outcome.done && elapsed > ms) return { done: false, ms: elapsed };
    return { ...outcome, ms: elapsed };
  } finally {
    clearTimeout(timer);
  }
}
