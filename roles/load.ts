/**
 * `secmqtt load`: many secure sensors against one actuator. Every simulated sensor is a device of its
 * own — its own signing key, persistent counter and key epoch — but they share one process and a few
 * MQTT connections. The actuator runs elsewhere (a child process in the CLI) and is observed only
 * through what it logs: each `action`, `rejected` and `duplicate` line is matched to the message that
 * caused it, which gives end-to-end latency (sensor starts sealing → actuator acted, counter durable).
 *
 * Two ways to offer load: a fixed rate per sensor (open loop: late messages are not dropped, a slow
 * actuator shows up as latency and OVERLOADED rejects), or, without a rate, as fast as the actuator
 * concludes messages, with at most `maxInFlight` sent but not yet concluded (closed loop: measures
 * the actuator's capacity without overflowing its queue).
 * @module
 */

import type { Clock } from "../core/clock.ts";
import type { Suite } from "../crypto/envelope.ts";
import type { Log, LogRecord } from "../log/jsonl.ts";
import { readCredential } from "../store/credentials.ts";
import { homePaths } from "../store/home.ts";
import { connectMqtt, type MqttTransport } from "../transport/client.ts";
import { makeReading } from "./door.ts";
import { type SecureSensorWiring, wireSecureSensors } from "./secure_wiring.ts";

/** Default bound on messages sent but not yet concluded by the actuator (closed loop). */
export const DEFAULT_MAX_IN_FLIGHT = 256;
/** How often the actuator's events are collected, ms. */
export const POLL_INTERVAL_MS = 10;
/** How long to wait after the last send for the actuator to conclude everything, ms. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 30_000;
/** Connections opened at once while setting up. */
const CONNECT_PARALLELISM = 32;

/** What one load run does. */
export interface LoadOptions {
  /** The home (made by keygen) holding every sensor's key, counter and credentials. */
  keysDir: string;
  /** The sensors to simulate; each must be in the home's trust list. */
  sensorIds: string[];
  /** The actuator whose public key the sensors wrap their epoch keys to. */
  actuatorId: string;
  /** Stop sending after this long, ms (one of durationMs / messages). */
  durationMs?: number;
  /** Stop sending after this many messages. */
  messages?: number;
  /** Messages per second per sensor (open loop); undefined = as fast as the actuator concludes. */
  ratePerSensorHz?: number;
  /** Closed loop: most messages sent but not yet concluded. */
  maxInFlight?: number;
  /** Messages per key epoch. */
  epochLength: number;
  /** MQTT connections the sensors share (sensor i uses connection i mod C). */
  connections: number;
  /** Wait this long after the last send for the actuator's verdicts, ms. */
  drainTimeoutMs?: number;
}

/** The actuator under load, as the load role sees it. */
export interface ObservedActuator {
  /** Events the actuator logged since the previous call (`action`, `rejected`, `duplicate`, …). */
  readEvents(): Promise<LogRecord[]>;
  /** Peak resident memory (KiB) and CPU time used so far (ms), when the platform tells. */
  usage(): { peakRssKiB?: number; cpuMs?: number };
}

/** What the load role needs. */
export interface LoadDeps {
  clock: Clock;
  log: Log;
  /** Broker the sensors connect to. */
  brokerUrl: string;
  /** PEM of the CA an mqtts:// broker's certificate must chain to (the home's tls/ca.crt). */
  ca?: string;
  /** The running, subscribed actuator. */
  actuator: ObservedActuator;
  /** Aborting stops sending early; the run still drains and reports. */
  signal?: AbortSignal;
  /** Progress lines (about every 5 s). */
  progress?: (line: string) => void;
}

/** Latency percentiles, ms. */
export interface LatencySummary {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** The figures of one load run. */
export interface LoadSummary {
  sensors: number;
  connections: number;
  suite: Suite;
  epochLength: number;
  /** `closed loop, ≤N in flight` or `open loop, R Hz per sensor`. */
  mode: string;
  /** Seconds from the first send to the last message the actuator concluded. */
  durationS: number;
  /** Messages published (PUBACK received). */
  sent: number;
  /** Messages the actuator acted on. */
  accepted: number;
  acceptedPerS: number;
  /** Send start → action (counter durable), over accepted messages. */
  latencyMs: LatencySummary;
  /** Rejections by reason code. */
  rejectsByCode: Record<string, number>;
  /** QoS 1 redeliveries the actuator recognised. */
  duplicates: number;
  /** Publishes that failed at the transport. */
  publishFailures: number;
  /** Sent messages the actuator had not concluded when the drain timed out. */
  unanswered: number;
  /** The actuator's peak resident memory, KiB. */
  actuatorPeakRssKiB?: number;
  /** Actuator CPU time during the run, s. */
  actuatorCpuS?: number;
  /** Accepted messages per second of actuator CPU time: its throughput on one saturated core. */
  acceptedPerActuatorCpuS?: number;
}

interface SimulatedSensor {
  id: string;
  transport: MqttTransport;
  /** Its sealer and persistent counter. */
  wiring: SecureSensorWiring;
  /** The first counter value, reserved during setup so no fsync lands in the measured window. */
  firstCounter: number | undefined;
  /** Messages due but not yet started (open loop). */
  backlog: number;
  busy: boolean;
}

/**
 * Runs the load: sets the sensors up, offers load until the duration or message count is reached,
 * waits for the actuator's verdicts and returns the figures.
 * @example
 * ```ts
 * const summary = await runLoad(
 *   { keysDir: "out/load", sensorIds, actuatorId: "door-actuator", durationMs: 60_000, epochLength: 100, connections: 1000 },
 *   { clock: systemClock, log, brokerUrl: broker.url, actuator },
 * );
 * ```
 */
export async function runLoad(options: LoadOptions, deps: LoadDeps): Promise<LoadSummary> {
  const { clock, log } = deps;
  if ((options.durationMs === undefined) === (options.messages === undefined)) {
    throw new RangeError("give exactly one of durationMs and messages");
  }
  if (options.sensorIds.length === 0) throw new RangeError("give at least one sensor");
  const maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
  const { sensors, suite } = await setUpSensors(options, deps.brokerUrl, deps.ca);
  const mode = options.ratePerSensorHz === undefined
    ? `closed loop, ≤${maxInFlight} in flight`
    : `open loop, ${options.ratePerSensorHz} Hz per sensor`;
  log.event("role_started", {
    phase: "secure",
    sensors: sensors.length,
    connections: options.connections,
    suite,
    epoch_length: options.epochLength,
    mode,
    duration_ms: options.durationMs ?? null,
    messages: options.messages ?? null,
  });

  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  const rejectsByCode: Record<string, number> = {};
  let started = 0;
  let sent = 0;
  let publishFailures = 0;
  let accepted = 0;
  let duplicates = 0;
  let concluded = 0;
  let lastConclusion = 0;
  const sending = new Set<Promise<void>>();

  const collect = async () => {
    for (const event of await deps.actuator.readEvents()) {
      if (event.event === "action") {
        accepted++;
        concluded++;
        lastConclusion = event.ts;
        const key = `${event.sensor_id}\0${event.counter}`;
        const at = sentAt.get(key);
        if (at !== undefined) {
          latencies.push(event.ts - at);
          sentAt.delete(key);
        }
      } else if (event.event === "rejected") {
        concluded++;
        lastConclusion = event.ts;
        const code = String(event.code);
        rejectsByCode[code] = (rejectsByCode[code] ?? 0) + 1;
      } else if (event.event === "duplicate") {
        duplicates++;
      }
    }
  };

  const sendOne = async (sensor: SimulatedSensor) => {
    const counter = sensor.firstCounter ?? sensor.wiring.nextCounter();
    sensor.firstCounter = undefined;
    const startedAt = clock.now();
    const reading = makeReading(sensor.id, counter, Math.round(startedAt), 20 + Math.random() * 5);
    sentAt.set(`${sensor.id}\0${counter}`, startedAt);
    try {
      const { payload } = await sensor.wiring.seal(reading);
      await sensor.transport.publish(sensor.wiring.topic, payload, { qos: 1 });
      sent++;
    } catch (error) {
      publishFailures++;
      sentAt.delete(`${sensor.id}\0${counter}`);
      log.event("error", { code: "PUBLISH_FAILED", sensor_id: sensor.id, detail: String(error) });
    }
  };

  // One message at a time per sensor, so each sensor's counters reach the broker in order.
  const runSensor = (sensor: SimulatedSensor) => {
    sensor.busy = true;
    const task = (async () => {
      try {
        while (sensor.backlog > 0) {
          sensor.backlog--;
          await sendOne(sensor);
        }
      } finally {
        sensor.busy = false;
      }
    })();
    sending.add(task);
    const settled = () => sending.delete(task);
    task.then(settled, settled);
  };

  const t0 = clock.now();
  const stopSending = () =>
    deps.signal?.aborted === true ||
    (options.messages !== undefined && started >= options.messages) ||
    (options.durationMs !== undefined && clock.now() - t0 >= options.durationMs);
  let nextSensor = 0;
  let nextProgress = t0 + 5_000;
  let lastProgressAccepted = 0;
  const totalRate = options.ratePerSensorHz === undefined ? 0 : options.ratePerSensorHz * sensors.length;

  while (!stopSending()) {
    if (totalRate > 0) {
      const due = Math.floor(((clock.now() - t0) / 1000) * totalRate) + 1;
      while (started < due && !stopSending()) {
        const sensor = sensors[nextSensor++ % sensors.length];
        started++;
        sensor.backlog++;
        if (!sensor.busy) runSensor(sensor);
      }
    } else {
      let tried = 0;
      while (
        started - publishFailures - concluded < maxInFlight && tried < sensors.length && !stopSending()
      ) {
        const sensor = sensors[nextSensor++ % sensors.length];
        tried++;
        if (sensor.busy) continue;
        started++;
        sensor.backlog++;
        runSensor(sensor);
      }
    }
    await clock.sleep(POLL_INTERVAL_MS);
    await collect();
    if (deps.progress && clock.now() >= nextProgress) {
      const elapsedS = (clock.now() - t0) / 1000;
      deps.progress(
        `${elapsedS.toFixed(0)} s: sent ${sent}, accepted ${accepted} ` +
          `(${((accepted - lastProgressAccepted) / 5).toFixed(0)}/s), rejected ${concluded - accepted}`,
      );
      lastProgressAccepted = accepted;
      nextProgress += 5_000;
    }
  }
  while (sending.size > 0) await Promise.all(sending);
  const drainDeadline = clock.now() + (options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS);
  while (concluded < sent && clock.now() < drainDeadline) {
    await clock.sleep(POLL_INTERVAL_MS);
    await collect();
  }
  for (const sensor of sensors) sensor.wiring.close();
  await Promise.all(unique(sensors.map((s) => s.transport)).map((t) => t.close()));

  const usage = deps.actuator.usage();
  const durationS = Math.max(lastConclusion - t0, 1) / 1000;
  const summary: LoadSummary = {
    sensors: sensors.length,
    connections: options.connections,
    suite,
    epochLength: options.epochLength,
    mode,
    durationS: round(durationS, 2),
    sent,
    accepted,
    acceptedPerS: round(accepted / durationS, 1),
    latencyMs: percentiles(latencies),
    rejectsByCode,
    duplicates,
    publishFailures,
    unanswered: Math.max(sent - concluded, 0),
    actuatorPeakRssKiB: usage.peakRssKiB,
    actuatorCpuS: usage.cpuMs === undefined ? undefined : round(usage.cpuMs / 1000, 2),
    acceptedPerActuatorCpuS: usage.cpuMs ? round(accepted / (usage.cpuMs / 1000), 1) : undefined,
  };
  log.event("load_summary", { ...summary });
  log.event("role_stopped", { reason: deps.signal?.aborted ? "signal" : "done", sent, accepted });
  return summary;
}

async function setUpSensors(
  options: LoadOptions,
  brokerUrl: string,
  ca: string | undefined,
): Promise<{ sensors: SimulatedSensor[]; suite: Suite }> {
  const paths = homePaths(options.keysDir);
  const connectionCount = Math.min(options.connections, options.sensorIds.length);
  // Connection c logs in as the first sensor that uses it. The home's ACL lets an account write only its
  // own topic (home/secure/<id>/door), so sharing connections needs a broker configured to allow it.
  const transports: MqttTransport[] = [];
  for (let first = 0; first < connectionCount; first += CONNECT_PARALLELISM) {
    const ids = options.sensorIds.slice(first, Math.min(first + CONNECT_PARALLELISM, connectionCount));
    transports.push(
      ...await Promise.all(
        ids.map((id) =>
          // the account's own namespace (auth/client_id.ts)
          connectMqtt({ url: brokerUrl, ca, clientId: `${id}-load`, ...readCredential(paths, id) })
        ),
      ),
    );
  }
  const wired = await wireSecureSensors({
    keysDir: options.keysDir,
    sensorIds: options.sensorIds,
    actuatorId: options.actuatorId,
    epochLength: options.epochLength,
  });
  const sensors = wired.map((wiring, i): SimulatedSensor => ({
    id: wiring.sensorId,
    transport: transports[i % connectionCount],
    wiring,
    firstCounter: wiring.nextCounter(),
    backlog: 0,
    busy: false,
  }));
  return { sensors, suite: wired[0].suite };
}

/**
 * Nearest-rank percentiles of `values` (ms), rounded to 0.1 ms; zeros when empty.
 * @example
 * ```ts
 * percentiles([1, 2, 3, 4]).p50; // 2
 * ```
 */
export function percentiles(values: number[]): LatencySummary {
  if (values.length === 0) return { p50: 0, p95: 0, p99: 0, max: 0 };
  const sorted = Float64Array.from(values).sort();
  const rank = (p: number) => sorted[Math.max(Math.ceil(p * sorted.length) - 1, 0)];
  return {
    p50: round(rank(0.5), 1),
    p95: round(rank(0.95), 1),
    p99: round(rank(0.99), 1),
    max: round(sorted.at(-1)!, 1),
  };
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

function unique<T>(items: T[]): T[] {
  return [...new Set(items)];
}
