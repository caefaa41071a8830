/**
 * The one connection policy every role follows (docs/RELIABILITY.md, "Connections"):
 *
 * - **First connect.** A broker that is not up yet is waited for: attempts are retried with exponential
 *   backoff ({@link DEFAULT_CONNECT_POLICY}: 250 ms doubling to 4 s) for a bounded time (30 s by default),
 *   then the role gives up with `CONNECT_FAILED`. A broker that answers and refuses (bad password, client id
 *   not allowed) is final at once: retrying cannot help and would only look like password guessing.
 * - **Outages.** Once connected, MQTT.js reconnects by itself; {@link ConnectionWatch} turns its state
 *   changes into one `disconnected` and one `reconnected` notice per outage, with the outage's length.
 * - **Signals.** Waiting for the first connect ends at once when the role's signal aborts.
 * @module
 */

import type { Clock } from "../core/clock.ts";
import { connectMqtt, type MqttConnectOptions, type MqttTransport, TransportError } from "./client.ts";

/** How long and how often the first connection is retried. */
export interface ConnectPolicy {
  /** Give up when this much time has passed since the first attempt (0: one attempt only). */
  firstConnectWindowMs: number;
  /** Wait before the second attempt; doubled after each failure. */
  initialBackoffMs: number;
  /** The longest wait between two attempts. */
  maxBackoffMs: number;
  /** How long one attempt waits for CONNACK. */
  attemptTimeoutMs: number;
}

/**
 * The default: wait up to 30 s for a broker that is starting, retrying after 250 ms, 500 ms, … 4 s.
 * @example
 * ```ts
 * const policy = { ...DEFAULT_CONNECT_POLICY, firstConnectWindowMs: 0 }; // fail at once
 * ```
 */
export const DEFAULT_CONNECT_POLICY: ConnectPolicy = {
  firstConnectWindowMs: 30_000,
  initialBackoffMs: 250,
  maxBackoffMs: 4_000,
  attemptTimeoutMs: 5_000,
};

/**
 * The wait before attempt `attempt + 1` (attempt counts from 1), doubling up to the cap.
 * @example
 * ```ts
 * backoffMs(DEFAULT_CONNECT_POLICY, 1); // 250
 * backoffMs(DEFAULT_CONNECT_POLICY, 9); // 4000
 * ```
 */
export function backoffMs(policy: ConnectPolicy, attempt: number): number {
  return Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** Math.max(0, attempt - 1));
}

/** True for failures that another attempt may cure: the broker was not reachable or did not answer. */
export function isRetryable(error: unknown): boolean {
  return error instanceof TransportError && error.code === "CONNECT_FAILED";
}

/** What {@link connectWithPolicy} needs besides the connection options. */
export interface ConnectDeps {
  clock: Clock;
  /** Aborting stops waiting: the promise rejects with `CONNECT_ABORTED`. */
  signal?: AbortSignal;
  /** Called before each wait, so the caller can say that it is waiting. */
  onRetry?: (retry: { attempt: number; waitMs: number; error: TransportError }) => void;
  /** The connect function; `connectMqtt` unless a test passes a fake. */
  connect?: (options: MqttConnectOptions) => Promise<MqttTransport>;
}

/**
 * Connects, retrying a broker that is not reachable yet as {@link ConnectPolicy} says.
 * Rejects with the last {@link TransportError} when the window is spent or the broker refused, and with
 * `CONNECT_ABORTED` when the signal aborts first.
 * @example
 * ```ts
 * const transport = await connectWithPolicy({ url: "mqtt://127.0.0.1:1883" }, DEFAULT_CONNECT_POLICY, {
 *   clock: systemClock,
 *   onRetry: ({ waitMs }) => console.error(`broker not reachable, retrying in ${waitMs} ms`),
 * });
 * ```
 */
export async function connectWithPolicy(
  options: MqttConnectOptions,
  policy: ConnectPolicy,
  deps: ConnectDeps,
): Promise<MqttTransport> {
  const connect = deps.connect ?? connectMqtt;
  const started = deps.clock.now();
  for (let attempt = 1;; attempt++) {
    throwIfAborted(deps.signal, options.url);
    const remaining = policy.firstConnectWindowMs - (deps.clock.now() - started);
    const timeout = Math.max(1, Math.min(policy.attemptTimeoutMs, Math.max(remaining, 1)));
    try {
      return await abortable(connect({ ...options, connectTimeoutMs: timeout }), deps.signal, options.url);
    } catch (error) {
      if (!isRetryable(error)) throw error;
      const waitMs = backoffMs(policy, attempt);
      if (deps.clock.now() - started + waitMs > policy.firstConnectWindowMs) {
        const seconds = Math.round(policy.firstConnectWindowMs / 1000);
        throw new TransportError(
          "CONNECT_FAILED",
          `${(error as TransportError).message} (gave up after ${attempt} attempt(s) in ${seconds} s)`,
        );
      }
      deps.onRetry?.({ attempt, waitMs, error: error as TransportError });
      await deps.clock.sleep(waitMs, deps.signal);
    }
  }
}

function throwIfAborted(signal: AbortSignal | undefined, url: string): void {
  if (signal?.aborted) {
    throw new TransportError("CONNECT_ABORTED", `stopped while waiting for the broker at ${url}`);
  }
}

/** Settles with `promise`, or rejects with `CONNECT_ABORTED` as soon as the signal aborts. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined, url: string): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      // A connection that completes after the abort is closed, never leaked.
      promise.then((late) => (late as { close?: () => Promise<void> }).close?.(), () => {});
      reject(new TransportError("CONNECT_ABORTED", `stopped while waiting for the broker at ${url}`));
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** One notice of {@link ConnectionWatch}: the link went down, or came back after `outage_ms`. */
export type ConnectionNotice =
  | { event: "disconnected" }
  | { event: "reconnected"; outage_ms: number };

/**
 * Turns MQTT.js's state changes (`offline`, `reconnecting`, `closed`, `connected`, repeated while a broker
 * stays down) into one `disconnected` and one `reconnected` notice per outage. Pure: feed it states.
 * @example
 * ```ts
 * const watch = new ConnectionWatch(systemClock);
 * watch.update("offline");    // { event: "disconnected" }
 * watch.update("reconnecting"); // undefined: the same outage
 * watch.update("connected");  // { event: "reconnected", outage_ms: … }
 * ```
 */
export class ConnectionWatch {
  #downSince: number | undefined;
  #clock: Pick<Clock, "now">;

  /** @param clock where outage lengths are read from */
  constructor(clock: Pick<Clock, "now">) {
    this.#clock = clock;
  }

  /** Feeds one state change; returns the notice it causes, if any. */
  update(state: "connected" | "reconnecting" | "offline" | "closed"): ConnectionNotice | undefined {
    if (state === "connected") {
      if (this.#downSince === undefined) return undefined;
      const outage = this.#clock.now() - this.#downSince;
      this.#downSince = undefined;
      return { event: "reconnected", outage_ms: Math.round(outage) };
    }
    if (this.#downSince !== undefined) return undefined;
    this.#downSince = this.#clock.now();
    return { event: "disconnected" };
  }

  /** True while an outage is under way. */
  get down(): boolean {
    return this.#downSince !== undefined;
  }
}
