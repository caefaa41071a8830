/**
 * The door actuator: subscribes, hands every message to an opener (Phase I trusts plaintext JSON, Phase II
 * opens envelopes), performs the action only on an accepted reading, and logs every rejection with its code.
 * Messages wait in a bounded queue, so a flood cannot grow memory. By default that is one queue in arrival
 * order, with backpressure on the connection when it is full; with `fairQueue` (the secure actuator) every
 * publisher (topic) has its own bounded queue, served in turn, and what one publisher overflows is refused
 * as OVERLOADED at once, so a flood delays nobody else. By default messages are judged one at a time; with
 * `concurrency` several are judged at once (so a group-committing opener can batch their counters).
 * With `alerts`, a publisher whose rejections pass a threshold gets one `alert` per episode. With a fair
 * queue, a publisher whose messages keep failing is throttled (`throttle`), and
 * what is shed unjudged is logged as one `rejected` line and then counted in `shed` summaries.
 * @module
 */

import { setImmediate } from "node:timers";
import type { Clock } from "../core/clock.ts";
import { payloadDigest } from "../core/digest.ts";
import type { Log } from "../log/jsonl.ts";
import type { MqttTransport } from "../transport/client.ts";
import { AlertMonitor, type AlertPolicy } from "./alerts.ts";
import { decodeReading, deviceIdOfTopic, type DoorReading } from "./door.ts";
import { FairQueue, type FairQueueLimits } from "./fair_queue.ts";
import { PublisherThrottle, type ThrottlePolicy } from "./publisher_throttle.ts";
import { type ShedSummary, ShedTally } from "./shed_tally.ts";
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
  /**
   * Messages handed to the opener before the earliest of them is concluded (default 1). Verdicts are
   * still acted on and logged in arrival order; the opener must commit in the order it was called.
   */
  concurrency?: number;
  /**
   * One bounded queue per publisher (topic), served round-robin; overflow is refused as OVERLOADED and
   * never held back on the connection. Default: one arrival-order queue of `queueLimit` with backpressure.
   */
  fairQueue?: FairQueueLimits;
  /**
   * A payload larger than this is rejected as MALFORMED on arrival, before it is queued (the secure
   * actuator passes the envelope cap, so the queue's memory bound holds). Default: no cap here.
   */
  maxPayloadBytes?: number;
  /** When given, rejections are counted per publisher and an `alert` is logged once per episode. */
  alerts?: AlertPolicy;
  /**
   * With `fairQueue`: a publisher that has spent its failure budget has its messages shed unjudged
   * (OVERLOADED) beyond the budget's refill. Default: no throttle.
   */
  throttle?: ThrottlePolicy;
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
  /** `alert` events logged. */
  alerts: number;
  /** Of the rejected: refused unjudged because a queue was full or the publisher throttled (OVERLOADED). */
  shed: number;
}

/** A running actuator. */
export interface RunningActuator {
  /** Live counters. */
  readonly stats: ActuatorStats;
  /**
   * Resolves when every message received so far has been handled and every shed message counted is
   * logged (in a `shed` summary).
   */
  idle(): Promise<void>;
}

/** Default bound of the message queue. */
export const DEFAULT_QUEUE_LIMIT = 1024;

/**
 * The secure actuator's fair queue: 2 048 messages per publisher (the Phase II attack suite's burst on the
 * victim's topic, or a restart's backlog of one sensor), 1 024 publishers, 4 096 in all (plus one per
 * publisher with nothing waiting, which is always admitted). Everything that can wait, 5 120 messages, is
 * judged in ≈4 s at ≈1 250 verifications/s (DSA, 2 cores), far inside the 30 s timestamp window, and holds
 * at most 5 120 × 8 KiB = 40 MiB (docs/RELIABILITY.md, "Queue arithmetic").
 */
export const DEFAULT_FAIR_QUEUE: Required<FairQueueLimits> = { perKey: 2048, maxKeys: 1024, maxTotal: 4096 };

/** With a fair queue, the drain gives the connection a turn at least this often (ms of judging). */
export const FAIR_YIELD_EVERY_MS = 2;

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
  const concurrency = options.concurrency ?? 1;
  const stats: ActuatorStats = {
    received: 0,
    acted: 0,
    rejected: 0,
    duplicates: 0,
    byCode: {},
    alerts: 0,
    shed: 0,
  };
  type Queued = { topic: string; payload: Uint8Array };
  const queue: Queued[] = [];
  const fair = options.fairQueue ? new FairQueue<Queued>(options.fairQueue) : undefined;
  const pending = () => fair ? fair.size : queue.length;
  const takeNext = (): Queued => fair ? fair.shift()!.item : queue.shift()!;
  const monitor = options.alerts ? new AlertMonitor(options.alerts) : undefined;
  const throttle = fair && options.throttle ? new PublisherThrottle(options.throttle) : undefined;
  const tally = fair ? new ShedTally() : undefined;
  let draining: Promise<void> | undefined;
  /** Wakes the drain loop when a message arrives or one is concluded. */
  let wake: (() => void) | undefined;
  const poke = () => {
    wake?.();
    wake = undefined;
  };

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
    countForAlert(topic, code);
  };
  /**
   * Refuses a message unjudged (OVERLOADED). Without a fair queue every one is a `rejected` line; with
   * one, the first of a publisher's run is, and the rest are counted into `shed` summaries.
   */
  const shed = (topic: string, payload: Uint8Array, detail: string) => {
    const decision = tally?.add(topic, "OVERLOADED", detail, clock.now());
    if (!decision || decision.log === "full") {
      if (tally) stats.shed++;
      return reject(topic, payload, "OVERLOADED", detail);
    }
    stats.shed++;
    stats.rejected++;
    stats.byCode.OVERLOADED = (stats.byCode.OVERLOADED ?? 0) + 1;
    countForAlert(topic, "OVERLOADED");
    if (decision.due) logShed(decision.due);
  };
  const logShed = (summary: ShedSummary) =>
    log.event("shed", {
      phase: options.phase,
      ...summary,
      account: deviceIdOfTopic(summary.publisher) ?? null,
    });
  const flushShed = (all = false) => tally?.flush(clock.now(), all).forEach(logShed);

  function countForAlert(topic: string, code: string) {
    const alert = monitor?.record(topic, code, clock.now());
    if (alert) {
      stats.alerts++;
      log.event("alert", { phase: options.phase, ...alert, account: deviceIdOfTopic(topic) ?? null });
    }
  }

  const judge = async (topic: string, payload: Uint8Array): Promise<Verdict> => {
    try {
      return await deps.open(topic, payload);
    } catch (error) {
      // An opener must not throw; if one does, the message is still rejected and the actuator keeps serving.
      return {
        ok: false,
        code: "MALFORMED",
        detail: `opener failed: ${error instanceof Error ? error.message : error}`,
      };
    }
  };

  const conclude = async (topic: string, payload: Uint8Array, verdict: Verdict) => {
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
    if (!verdict.ok) {
      throttle?.failed(topic, clock.now());
      return reject(topic, payload, verdict.code, verdict.detail, verdict.fields);
    }
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
      // End to end: from the sensor's timestamp (taken before sealing) to the action, verification included.
      latency_ms: Math.round((clock.now() - reading.timestamp) * 1000) / 1000,
      ...verdict.fields,
    });
  };

  const drain = async () => {
    const judging = new Set<Promise<void>>();
    let lastConcluded: Promise<void> = Promise.resolve();
    let failure: { error: unknown } | undefined;
    let lastYield = performance.now();
    while (pending() > 0 || judging.size > 0) {
      if (failure) throw failure.error; // as with one message at a time: a failing action stops the drain
      if (fair && performance.now() - lastYield >= FAIR_YIELD_EVERY_MS) {
        // A forged signature is refused in microtasks only, so a busy drain would never let the socket be
        // read: the flood would wait in the broker, the real sensor's message behind it. Giving I/O a turn
        // keeps messages coming off the connection into their own queues (or shed as OVERLOADED).
        await new Promise<void>((resolve) => setImmediate(resolve));
        lastYield = performance.now();
        continue; // messages may have been concluded meanwhile (their wake-up went to no one): look again
      }
      while (pending() > 0 && judging.size < concurrency) {
        const next = takeNext();
        if (waiting.length > 0) admit();
        if (throttle?.shed(next.topic, clock.now())) {
          shed(
            next.topic,
            next.payload,
            "publisher throttled: its failure budget is spent",
          );
          continue;
        }
        const verdict = judge(next.topic, next.payload);
        const previous = lastConcluded;
        const concluded = (async () => {
          const decided = await verdict;
          await previous; // act and log in arrival order
          if (!failure) await conclude(next.topic, next.payload, decided);
        })();
        const settled = () => {
          judging.delete(concluded);
          poke();
        };
        lastConcluded = concluded.then(settled, (error) => {
          failure ??= { error };
          settled();
        });
        judging.add(concluded);
      }
      if (pending() === 0 && judging.size === 0) break;
      await new Promise<void>((resolve) => wake = resolve);
    }
    flushShed(); // the queues ran empty: what was counted a second ago or more is logged now
  };
  /**
   * Starts the drain unless it runs. It may finish without ever waiting (every message shed), so it is
   * marked done only afterwards, and restarted if messages came meanwhile (in the same read, say). A
   * drain that failed stays failed: `idle()` reports it, and nothing more is acted on.
   */
  const startDrain = () => {
    if (draining) return;
    draining = drain().then(() => {
      draining = undefined;
      if (pending() > 0) startDrain();
    });
  };

  // Flow control: a message that finds the queue full waits outside it, and the transport is told to
  // hold back the next one (MQTT.js then stops reading the socket and withholds the PUBACK, so the broker
  // queues for us). Only a transport that ignores that signal can overfill the waiting list; beyond a
  // second queue's worth, messages are refused as OVERLOADED, so memory stays bounded either way.
  const waiting: { message: Queued; admitted: () => void }[] = [];
  const admit = () => {
    while (waiting.length > 0 && queue.length < queueLimit) {
      const next = waiting.shift()!;
      queue.push(next.message);
      next.admitted();
    }
    poke();
    startDrain();
  };
  deps.transport.onMessage((topic, payload) => {
    stats.received++;
    const message = { topic, payload };
    if (options.maxPayloadBytes !== undefined && payload.length > options.maxPayloadBytes) {
      reject(
        topic,
        payload,
        "MALFORMED",
        `payload is ${payload.length} bytes, cap ${options.maxPayloadBytes}`,
      );
      return;
    }
    if (fair) {
      // Read at once, queued per publisher: a publisher that overflows its own queue loses the overflow,
      // and no one else waits for it (nothing is held back on the shared connection).
      const pushed = fair.push(topic, message);
      if (!pushed.ok) {
        const limits = options.fairQueue!;
        const why = pushed.reason === "key_full"
          ? `publisher queue full (${limits.perKey} waiting on this topic)`
          : pushed.reason === "total_full"
          ? `queues full (${fair.size} waiting, cap ${limits.maxTotal})`
          : `too many publishers waiting (${limits.maxKeys})`;
        shed(topic, payload, why);
        return;
      }
      poke();
      startDrain();
      return;
    }
    if (queue.length < queueLimit && waiting.length === 0) {
      queue.push(message);
      poke();
      startDrain();
      return;
    }
    if (waiting.length >= queueLimit) {
      reject(
        topic,
        payload,
        "OVERLOADED",
        `queue full (${queueLimit} waiting and ${waiting.length} held back)`,
      );
      return;
    }
    return new Promise<void>((admitted) => waiting.push({ message, admitted }));
  });
  await deps.transport.subscribe(options.topic, { qos: options.qos });
  log.event("role_started", {
    phase: options.phase,
    topic: options.topic,
    queue_limit: queueLimit,
    ...(options.fairQueue
      ? { queue_per_publisher: options.fairQueue.perKey, max_publishers: options.fairQueue.maxKeys }
      : {}),
  });

  return {
    stats,
    async idle() {
      while (draining) await draining;
      flushShed(true); // every shed message counted so far is in the log
    },
  };
}
