/**
 * The door actuator: subscribes, hands every message to an opener (Phase I trusts plaintext JSON, Phase II
 * opens envelopes), performs the action only on an accepted reading, and logs every rejection with its code.
 * Messages are handled one at a time in arrival order from a bounded queue, so a flood cannot grow memory.
 * @module
 */

import type { Clock } from "../core/clock.ts";
import { payloadDigest } from "../core/digest.ts";
import type { Log } from "../log/jsonl.ts";
import type { MqttTransport } from "../transport/client.ts";
import { decodeReading, type DoorReading } from "./door.ts";
import type { Phase } from "./sensor.ts";

/** The opener's decision on one message. */
export type Verdict =
  | { ok: true; reading: DoorReading; fields?: Record<string, unknown> }
  | { ok: false; code: string; detail: string; fields?: Record<string, unknown> };

/** Decides whether a message is acted on. In Phase II it must have made the counter durable before `ok`. */
export type MessageOpener = (topic: string, payload: Uint8Array) => Promise<Verdict>;

/** Actuator behaviour. */
export interface ActuatorOptions {
  /** Topic filter to subscribe to. */
  topic: string;
  /** Subscribe QoS. */
  qos: 0 | 1;
  /** Phase written in the log. */
  phase: Phase;
  /** Messages waiting beyond this are rejected as `OVERLOADED` (default 1024). */
  queueLimit?: number;
}

/** What the actuator needs from the outside world. */
export interface ActuatorDeps {
  clock: Clock;
  log: Log;
  transport: Pick<MqttTransport, "subscribe" | "onMessage">;
  /** Judges one message. */
  open: MessageOpener;
  /** Performs the physical action (default: nothing beyond the log line). */
  act?: (reading: DoorReading) => void | Promise<void>;
}

/** Counts kept while the actuator runs. */
export interface ActuatorStats {
  received: number;
  acted: number;
  rejected: number;
  /** QoS 1 redeliveries of messages already acted on (neither acted on nor rejected). */
  duplicates: number;
  byCode: Record<string, number>;
}

/** A running actuator. */
export interface RunningActuator {
  /** Live counters. */
  readonly stats: ActuatorStats;
  /** Resolves when every message received so far has been handled. */
  idle(): Promise<void>;
}

/** Default bound of the message queue. */
export const DEFAULT_QUEUE_LIMIT = 1024;

/** Phase I's opener: plaintext JSON, trusted as long as it parses. */
export const plaintextOpener: MessageOpener = (_topic, payload) => Promise.resolve(decodeReading(payload));

/**
 * Subscribes and starts handling messages; resolves once the subscription is in place.
 * @example
 * ```ts
 * const actuator = await startActuator({ topic: "home/door", qos: 1, phase: "insecure" },
 *   { clock: systemClock, log, transport, open: plaintextOpener });
 * ```
 */
export async function startActuator(options: ActuatorOptions, deps: ActuatorDeps): Promise<RunningActuator> {
  const { clock, log } = deps;
  const queueLimit = options.queueLimit ?? DEFAULT_QUEUE_LIMIT;
  const stats: ActuatorStats = { received: 0, acted: 0, rejected: 0, duplicates: 0, byCode: {} };
  const queue: { topic: string; payload: Uint8Array; receivedAt: number }[] = [];
  let draining: Promise<void> | undefined;

  const reject = (
    topic: string,
    payload: Uint8Array,
    code: string,
    detail: string,
    fields: Record<string, unknown> = {},
  ) => {
    stats.rejected++;
    stats.byCode[code] = (stats.byCode[code] ?? 0) + 1;
    log.event("rejected", {
      phase: options.phase,
      topic,
      code,
      detail,
      digest: payloadDigest(payload),
      bytes: payload.length,
      ...fields,
    });
  };

  const handle = async (topic: string, payload: Uint8Array, receivedAt: number) => {
    let verdict: Verdict;
    try {
      verdict = await deps.open(topic, payload);
    } catch (error) {
      // An opener must not throw; if one does, the message is still rejected and the actuator keeps serving.
      verdict = {
        ok: false,
        code: "MALFORMED",
        detail: `opener failed: ${error instanceof Error ? error.message : error}`,
      };
    }
    if (!verdict.ok && verdict.code === "DUPLICATE") {
      stats.duplicates++;
      log.event("duplicate", {
        phase: options.phase,
        topic,
        digest: payloadDigest(payload),
        ...verdict.fields,
      });
      return;
    }
    if (!verdict.ok) return reject(topic, payload, verdict.code, verdict.detail, verdict.fields);
    const { reading } = verdict;
    await deps.act?.(reading);
    stats.acted++;
    log.event("action", {
      phase: options.phase,
      topic,
      sensor_id: reading.sensor_id,
      msg_id: reading.msg_id,
      counter: reading.counter,
      door: reading.event,
      digest: payloadDigest(payload),
      latency_ms: Math.round((receivedAt - reading.timestamp) * 1000) / 1000,
      ...verdict.fields,
    });
  };

  const drain = async () => {
    while (queue.length > 0) {
      const next = queue.shift()!;
      await handle(next.topic, next.payload, next.receivedAt);
    }
    draining = undefined;
  };

  deps.transport.onMessage((topic, payload) => {
    stats.received++;
    if (queue.length >= queueLimit) {
      return reject(topic, payload, "OVERLOADED", `queue full (${queueLimit} waiting)`);
    }
    queue.push({ topic, payload, receivedAt: clock.now() });
    draining ??= drain();
  });
  await deps.transport.subscribe(options.topic, { qos: options.qos });
  log.event("role_started", { phase: options.phase, topic: options.topic, queue_limit: queueLimit });

  return {
    stats,
    async idle() {
      while (draining) await draining;
    },
  };
}
