/**
 * Waiting that a signal can cut short: a role stopped by SIGINT/SIGTERM must not hang on a broker that
 * will never answer (a QoS 1 publish to a dead broker waits for its PUBACK forever).
 * @module
 */

/** What {@link untilSettledOrAborted} resolves with when the signal won the race. */
export const ABORTED: unique symbol = Symbol("aborted");

/**
 * Resolves with the promise's value, or with {@link ABORTED} once the signal aborts, whichever is first.
 * A promise that has already settled wins over an abort that came with it (the work was done). A
 * rejection before the abort is passed on; one after it is ignored.
 * @example
 * ```ts
 * const outcome = await untilSettledOrAborted(transport.publish(topic, payload), signal);
 * if (outcome === ABORTED) return; // stopped: the message was not confirmed
 * ```
 */
export function untilSettledOrAborted<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
): Promise<T | typeof ABORTED> {
  if (!signal) return promise;
  let onAbort = () => {};
  const aborted = new Promise<void>((resolve) => {
    onAbort = resolve;
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", onAbort, { once: true });
  }).then((): typeof ABORTED => {
    promise.catch(() => {}); // a late failure of abandoned work is not an error of the caller
    return ABORTED;
  });
  return Promise.race<T | typeof ABORTED>([promise, aborted]).finally(() =>
    signal.removeEventListener("abort", onAbort)
  );
}
