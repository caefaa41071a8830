/**
 * The door sensor: every interval it takes a reading, seals it (plaintext JSON in Phase I, an envelope in
 * Phase II) and publishes it. The sealing and the counter are passed in, so one loop serves both phases.
 * @module
 */

import { ABORTED, untilSettledOrAborted } from "../core/abort.ts";
import type { Clock } from "../core/clock.ts";
import { payloadDigest } from "../core/digest.ts";
import type { Log } from "../log/jsonl.ts";
import type { MqttTransport } from "../transport/client.ts";
import { type DoorReading, encodeReading, makeReading } from "./door.ts";

/** Which phase a role runs in; written on every log line as `phase`. */
export type Phase = "insecure" | "secure";

/** Sensor behaviour. */
export interface SensorOptions {
  /** The sensor's id, written into every reading. */
  sensorId: string;
  /** Topic to publish on. */
  topic: string;
  /** Ms between messages (default 2000). */
  intervalMs: number;
  /** Stop after this many messages; undefined = until the signal aborts. */
  count?: number;
  /** Publish QoS. */
  qos: 0 | 1;
  /** Phase written in the log. */
  phase: Phase;
}

/** Turns a reading into wire bytes, with extra fields for the `published` log line (e.g. crypto stages). */
export type ReadingSealer = (
  reading: DoorReading,
) => Promise<{ payload: Uint8Array; fields?: Record<string, unknown> }>;

/** What the sensor needs from the outside world. */
export interface SensorDeps {
  clock: Clock;
  log: Log;
  transport: Pick<MqttTransport, "publish">;
  /** Seals one reading. */
  seal: ReadingSealer;
  /** The next counter value (persistent in Phase II). */
  nextCounter: () => number | Promise<number>;
  /** Aborting stops the loop at once, also while a publish waits for the broker. */
  signal?: AbortSignal;
  /** Source of the simulated temperature noise; default Math.random. */
  random?: () => number;
}

/** Phase I sealing: the reading as plaintext JSON. */
export const plaintextSealer: ReadingSealer = (reading) =>
  Promise.resolve({ payload: encodeReading(reading) });

/**
 * An in-memory counter starting at 1 (Phase I: a reboot starts again, which is one of its flaws).
 * @example
 * ```ts
 * const next = memoryCounter(); next(); // 1
 * ```
 */
export function memoryCounter(start = 1): () => number {
  let value = start;
  return () => value++;
}

/**
 * Runs the sensor loop; resolves with the number of messages sent when `count` is reached or the signal aborts.
 * @example
 * ```ts
 * await runSensor({ sensorId: "door-1", topic: "home/door", intervalMs: 100, count: 5, qos: 1, phase: "insecure" },
 *   { clock: systemClock, log, transport, seal: plaintextSealer, nextCounter: memoryCounter() });
 * ```
 */
export async function runSensor(options: SensorOptions, deps: SensorDeps): Promise<{ sent: number }> {
  const { clock, log, transport, signal } = deps;
  const random = deps.random ?? Math.random;
  log.event("role_started", {
    phase: options.phase,
    sensor_id: options.sensorId,
    topic: options.topic,
    interval_ms: options.intervalMs,
    count: options.count ?? null,
  });
  let sent = 0;
  while ((options.count === undefined || sent < options.count) && !signal?.aborted) {
    const counter = await deps.nextCounter();
    const reading = makeReading(options.sensorId, counter, Math.round(clock.now()), 20 + random() * 5);
    const { payload, fields } = await deps.seal(reading);
    // A dead broker never confirms a QoS 1 publish: a signal must still end the role at once. The
    // message in flight was not confirmed, so it is neither counted nor logged as published.
    const outcome = await untilSettledOrAborted(
      transport.publish(options.topic, payload, { qos: options.qos }),
      signal,
    );
    if (outcome === ABORTED) break;
    sent++;
    log.event("published", {
      phase: options.phase,
      sensor_id: options.sensorId,
      topic: options.topic,
      msg_id: reading.msg_id,
      counter,
      digest: payloadDigest(payload),
      bytes: payload.length,
      ...fields,
    });
    if (options.count !== undefined && sent >= options.count) break;
    await clock.sleep(options.intervalMs, signal);
  }
  log.event("role_stopped", { reason: signal?.aborted ? "signal" : "count_reached", sent });
  return { sent };
}
