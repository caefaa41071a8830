/**
 * A whole smart home in one process, for the demo, the end-to-end bench and the tests: a broker, an
 * actuator, a sensor and (optionally) an attacker, each with its own MQTT connection over real TCP,
 * logging to one JSONL file. Phase I is plaintext on an open broker; Phase II is envelopes over TLS
 * (the home's certificate, verified against its CA) on a broker that enforces the home's password and
 * ACL files.
 * @module
 */

import { loadBrokerPolicy } from "../auth/policy.ts";
import type { Clock } from "../core/clock.ts";
import { Log } from "../log/jsonl.ts";
import { readCredential } from "../store/credentials.ts";
import { homePaths } from "../store/home.ts";
import { readBrokerTls, readHomeCa } from "../store/tls.ts";
import { startBroker } from "../transport/broker.ts";
import { connectMqtt, type MqttConnectOptions, type MqttTransport } from "../transport/client.ts";
import { DEFAULT_FAIR_QUEUE, plaintextOpener, type RunningActuator, startActuator } from "./actuator.ts";
import { ENVELOPE_MAX_BYTES } from "../crypto/envelope.ts";
import { DEFAULT_ALERT_POLICY } from "./alerts.ts";
import { DEFAULT_THROTTLE_POLICY, type ThrottlePolicy } from "./publisher_throttle.ts";
import { INSECURE_TOPIC, SECURE_TOPIC_FILTER } from "./door.ts";
import { wireSecureActuator, wireSecureSensor } from "./secure_wiring.ts";
import { memoryCounter, plaintextSealer, runSensor, type SensorOptions } from "./sensor.ts";

/**
 * A broker to run the home on: the embedded one (started here) or an external URL (e.g. Mosquitto; an
 * mqtts:// one is verified with the home's CA). The secure embedded broker serves TLS with the home's
 * certificate unless `tls: false` (kept for comparing against plaintext).
 */
export type HomeBroker = { kind: "embedded"; tls?: boolean } | { kind: "external"; url: string };

/** Device ids and files of a secure home (see store/home.ts). */
export interface SecureHomeIds {
  keysDir: string;
  sensorId: string;
  actuatorId: string;
  /** Replay database path (default: the home's, which keygen made). */
  replayDb?: string;
  /** Create the replay database if it is missing (the actuator's `--init-state`). */
  initState?: boolean;
}

/** A running home; `close` stops everything it started. */
export interface RunningHome {
  url: string;
  actuator: RunningActuator;
  /** Connects another client to the home's broker (with credentials when given). */
  connect(options: Omit<MqttConnectOptions, "url">): Promise<MqttTransport>;
  /** Runs the sensor for `count` messages at `intervalMs`. */
  runSensor(count: number, intervalMs: number): Promise<{ sent: number }>;
  /** Stops the actuator (closing its connection and state) and starts it again from its files. */
  restartActuator(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts a Phase I home: open broker, trusting actuator on `home/door`, plaintext sensor.
 * @example
 * ```ts
 * const home = await startInsecureHome({ kind: "embedded" }, log, systemClock);
 * await home.runSensor(10, 50);
 * await home.close();
 * ```
 */
export async function startInsecureHome(broker: HomeBroker, log: Log, clock: Clock): Promise<RunningHome> {
  const embedded = broker.kind === "embedded"
    ? await startBroker({ port: 0, log: log.forRole("broker") })
    : undefined;
  const url = embedded?.url ?? (broker as { url: string }).url;
  const actuatorT = await connectMqtt({ url, clientId: "door-actuator" });
  const sensorT = await connectMqtt({ url, clientId: "door-sensor-1" });
  const actuator = await startActuator({ topic: INSECURE_TOPIC, qos: 1, phase: "insecure" }, {
    clock,
    log: log.forRole("actuator"),
    transport: actuatorT,
    open: plaintextOpener,
  });
  const nextCounter = memoryCounter();
  const sensorOptions: Omit<SensorOptions, "count" | "intervalMs"> = {
    sensorId: "door-sensor-1",
    topic: INSECURE_TOPIC,
    qos: 1,
    phase: "insecure",
  };
  return {
    url,
    actuator,
    connect: (options) => connectMqtt({ url, ...options }),
    runSensor: (count, intervalMs) =>
      runSensor({ ...sensorOptions, count, intervalMs }, {
        clock,
        log: log.forRole("sensor"),
        transport: sensorT,
        seal: plaintextSealer,
        nextCounter,
      }),
    restartActuator: () => Promise.reject(new Error("the Phase I actuator keeps no state to restart from")),
    async close() {
      await Promise.all([actuatorT.close(), sensorT.close()]);
      await embedded?.close();
    },
  };
}

/** How a Phase II home seals and opens. */
export interface SecureHomeOptions {
  /** Messages per AES key epoch; 1 = a fresh key per message. */
  epochLength: number;
  /** Accepted clock skew, ms (default the actuator's). */
  windowMs?: number;
  /** The sensor makes each epoch's key ahead of use (default true). */
  prefetchKeys?: boolean;
  /** The actuator records the counter while it decrypts (default false). */
  overlapCommit?: boolean;
  /** The actuator's failure budget per publisher (default {@link DEFAULT_THROTTLE_POLICY}). */
  throttle?: ThrottlePolicy;
}

/**
 * Starts a Phase II home from a keys directory made by keygen: broker enforcing its passwd and acl
 * (embedded, TLS with the home's certificate), secure actuator with its replay database, fair per-publisher
 * queue and alerts, secure sensor with its persistent counter, publishing on its own topic
 * (`home/secure/<id>/door`).
 * @example
 * ```ts
 * const home = await startSecureHome({ kind: "embedded" }, { keysDir: "out/home", sensorId: "door-sensor-1", actuatorId: "door-actuator" }, log, systemClock, { epochLength: 1 });
 * ```
 */
export async function startSecureHome(
  broker: HomeBroker,
  ids: SecureHomeIds,
  log: Log,
  clock: Clock,
  options: SecureHomeOptions,
): Promise<RunningHome> {
  const paths = homePaths(ids.keysDir);
  const embedded = broker.kind === "embedded"
    ? await startBroker({
      port: 0,
      log: log.forRole("broker"),
      policy: loadBrokerPolicy(paths.passwd, paths.acl),
      tls: broker.tls === false ? undefined : readBrokerTls(paths),
    })
    : undefined;
  const url = embedded?.url ?? (broker as { url: string }).url;
  // Every client of the home trusts its CA only, as the CLI roles do with --secure.
  const ca = url.startsWith("mqtts:") ? readHomeCa(paths) : undefined;

  const sensor = await wireSecureSensor({
    keysDir: ids.keysDir,
    sensorId: ids.sensorId,
    actuatorId: ids.actuatorId,
    epochLength: options.epochLength,
    prefetchKeys: options.prefetchKeys,
  });
  const sensorT = await connectMqtt({
    url,
    ca,
    clientId: ids.sensorId,
    ...readCredential(paths, ids.sensorId),
  });

  // Each start reads the actuator's files again, as a restarted process would.
  const startSecureActuator = async () => {
    const actuatorLog = log.forRole("actuator");
    const wiring = await wireSecureActuator(
      {
        keysDir: ids.keysDir,
        actuatorId: ids.actuatorId,
        replayDb: ids.replayDb,
        initState: ids.initState,
        windowMs: options.windowMs,
        overlapCommit: options.overlapCommit,
      },
      { clock, log: actuatorLog },
    );
    const transport = await connectMqtt({
      url,
      ca,
      // A persistent session: QoS 1 messages published while the actuator restarts wait at the broker.
      clean: false,
      clientId: ids.actuatorId,
      ...readCredential(paths, ids.actuatorId),
    });
    const actuator = await startActuator({
      topic: SECURE_TOPIC_FILTER,
      qos: 1,
      phase: "secure",
      fairQueue: DEFAULT_FAIR_QUEUE,
      maxPayloadBytes: ENVELOPE_MAX_BYTES,
      alerts: DEFAULT_ALERT_POLICY,
      throttle: options.throttle ?? DEFAULT_THROTTLE_POLICY,
    }, {
      clock,
      log: actuatorLog,
      transport,
      open: wiring.open,
    });
    return { actuator, transport, wiring };
  };
  let current = await startSecureActuator();

  const home: RunningHome = {
    url,
    get actuator() {
      return current.actuator;
    },
    connect: (o) => connectMqtt({ url, ca, ...o }),
    runSensor: (count, intervalMs) =>
      runSensor({ sensorId: ids.sensorId, topic: sensor.topic, qos: 1, phase: "secure", count, intervalMs }, {
        clock,
        log: log.forRole("sensor"),
        transport: sensorT,
        seal: sensor.seal,
        nextCounter: () => sensor.nextCounter(),
      }),
    async restartActuator() {
      // Stop taking messages first, then finish those already taken, and only then close the replay state:
      // a message that arrived between "idle" and the disconnect would otherwise meet a closed store.
      await current.transport.close();
      await current.actuator.idle();
      await current.wiring.close();
      log.forRole("actuator").event("role_stopped", { reason: "restart", ...current.actuator.stats });
      current = await startSecureActuator();
    },
    async close() {
      await Promise.all([current.transport.close(), sensorT.close()]);
      await current.actuator.idle();
      await current.wiring.close();
      await sensor.seal.idle();
      sensor.close();
      await embedded?.close();
    },
  };
  return home;
}

/**
 * Waits until the actuator has received at least `count` messages and handled them, or `timeoutMs` passed.
 * @example
 * ```ts
 * await settle(home.actuator, 40, 5_000, systemClock);
 * ```
 */
export async function settle(
  actuator: RunningActuator,
  count: number,
  timeoutMs: number,
  clock: Clock,
): Promise<void> {
  const deadline = clock.now() + timeoutMs;
  while (actuator.stats.received < count && clock.now() < deadline) await clock.sleep(10);
  await actuator.idle();
}
