/**
 * The whole three-phase demonstration in one process: Phase I (plaintext home under attack), Phase II
 * (the secure home under every attack class), the timing-attack measurement, then the metrics report.
 * Every role talks MQTT over real TCP to the embedded broker (Phase II over TLS, verified against the home's
 * CA); every result comes from the JSONL logs.
 * @module
 */

import { readHomeCa } from "../store/tls.ts";
import { join } from "node:path";
import { writeReport } from "../metrics/write.ts";
import type { Clock } from "../core/clock.ts";
import { fileLogWriter, Log, newRunId } from "../log/jsonl.ts";
import type { MetricsDocument } from "../metrics/report.ts";
import { loadAttackerKnowledge } from "../store/attacker_knowledge.ts";
import { homePaths } from "../store/home.ts";
import { DEFAULT_INSECURE_ATTACK, runInsecureAttacks } from "./attacker.ts";
import { secureTopicFor } from "./door.ts";
import { settle, startInsecureHome, startSecureHome } from "./home.ts";
import { DEFAULT_THROTTLE_POLICY, type ThrottlePolicy } from "./publisher_throttle.ts";
import { createHome } from "./keygen.ts";
import {
  ATTACK_CATALOGUE,
  openBrokerStream,
  runSecureAttacks,
  SECURE_ATTACK_CLASSES,
  startRelay,
  THREAT_MODEL_TEXT,
} from "./secure_attacker.ts";
import { readCredential } from "../store/credentials.ts";
import { connectMqtt } from "../transport/client.ts";
import { describeRecovery, runTiming } from "./timing.ts";
import { SUITE_DSA } from "../crypto/envelope.ts";

/** How big a demo run is. */
export interface DemoScale {
  /** Legit messages in Phase I and in Phase II. */
  legitMessages: number;
  /** Ms between legit messages. */
  intervalMs: number;
  /** Phase I malicious messages per class. */
  insecureAttempts: number;
  /** Phase II malicious messages per class (19 classes; the 5 probes run at most {@link DEMO_PROBE_ATTEMPTS}). */
  secureAttempts: number;
  /** Timing measurements per class. */
  timingSamples: number;
}

/** Attempts per probe class: each waits on the broker (login backoff, listening windows). */
export const DEMO_PROBE_ATTEMPTS = 5;

/** Scales for `--quick`, the default, and `--full`. */
export const DEMO_SCALES: Readonly<Record<"quick" | "default" | "full", DemoScale>> = {
  quick: { legitMessages: 20, intervalMs: 40, insecureAttempts: 3, secureAttempts: 8, timingSamples: 1000 },
  default: {
    legitMessages: 60,
    intervalMs: 50,
    insecureAttempts: 10,
    secureAttempts: 75,
    timingSamples: 3000,
  },
  full: {
    legitMessages: 300,
    intervalMs: 50,
    insecureAttempts: 50,
    secureAttempts: 300,
    timingSamples: 10000,
  },
};

/** Where the demo writes, and what it tells the user as it goes. */
export interface DemoOptions {
  outDir: string;
  scale: DemoScale;
  /** One line per stage. */
  progress: (line: string) => void;
}

/** What the demo produced. */
export interface DemoResult {
  metrics: MetricsDocument;
  summary: string;
  logs: string[];
  reportPaths: { json: string; summary: string; html: string };
}

/**
 * Runs the three phases and writes logs and the report into `outDir`.
 * @example
 * ```ts
 * const result = await runDemo({ outDir: "out", scale: DEMO_SCALES.default, progress: console.error }, { clock: systemClock });
 * ```
 */
export async function runDemo(
  options: DemoOptions,
  deps: { clock: Clock; signal?: AbortSignal },
): Promise<DemoResult> {
  const { outDir, scale, progress } = options;
  const { clock } = deps;
  await Deno.mkdir(outDir, { recursive: true });
  const run = newRunId(clock.now());
  const logs = {
    phase1: join(outDir, "phase1.jsonl"),
    phase2: join(outDir, "phase2.jsonl"),
    timing: join(outDir, "timing.jsonl"),
  };
  for (const path of Object.values(logs)) await Deno.remove(path).catch(() => {});
  const openLog = (path: string, role: string) => new Log(fileLogWriter(path), { role, run, clock });

  // Phase I: the plaintext home falls to every attack.
  progress("Phase I   plaintext home on the embedded broker: sensor, trusting actuator, attacker");
  const log1 = openLog(logs.phase1, "demo");
  const home1 = await startInsecureHome({ kind: "embedded" }, log1, clock);
  const attackerT1 = await home1.connect({ clientId: "attacker" });
  const sensor1 = home1.runSensor(scale.legitMessages, scale.intervalMs);
  const attack1 = await runInsecureAttacks({
    ...DEFAULT_INSECURE_ATTACK,
    attempts: scale.insecureAttempts,
    gapMs: 5,
  }, {
    clock,
    log: log1.forRole("attacker"),
    transport: attackerT1,
    signal: deps.signal,
  });
  const sent1 = await sensor1;
  await settle(home1.actuator, sent1.sent + attack1.sent, 10_000, clock);
  await attackerT1.close();
  await home1.close();
  log1.close();

  // Phase II: a new home with keys, passwords, ACL and TLS; the same attacks and more all fail.
  progress(
    "Phase II  keygen: DSA-2048 sensor key, RSA-2048 actuator key, trust list, passwd, acl, TLS certificates",
  );
  const keysDir = join(outDir, "home");
  await Deno.remove(keysDir, { recursive: true }).catch(() => {});
  await createHome({
    outDir: keysDir,
    sensors: ["door-sensor-1"],
    actuatorId: "door-actuator",
    suite: SUITE_DSA,
    attacker: "mallory",
    force: true,
  });
  progress(
    `Phase II  secure home over TLS (the home's CA and broker certificate) under ${SECURE_ATTACK_CLASSES.length} ` +
      `attack classes × ${scale.secureAttempts} attempts ` +
      `(the classes that open connections of their own × ${
        Math.min(scale.secureAttempts, DEMO_PROBE_ATTEMPTS)
      })`,
  );
  const log2 = openLog(logs.phase2, "demo");
  const home2 = await startSecureHome(
    { kind: "embedded" },
    { keysDir, sensorId: "door-sensor-1", actuatorId: "door-actuator" },
    log2,
    clock,
    { epochLength: 1, throttle: demoThrottle(scale.secureAttempts) },
  );
  const knowledge = await loadAttackerKnowledge(homePaths(keysDir), {
    username: "mallory",
    actuatorId: "door-actuator",
  });
  const attackerT2 = await home2.connect({ clientId: "mallory", ...knowledge.ownCredentials });
  // The attacker on the wire: one sensor connection goes through a relay in front of the broker. The
  // home speaks TLS end to end (the sensor verifies the broker against the home's CA through the relay), so
  // `credential-sniff` sees only ciphertext.
  const homeCa = readHomeCa(homePaths(keysDir));
  const relay = startRelay({ target: { hostname: "127.0.0.1", port: Number(new URL(home2.url).port) } });
  const relayed = await connectMqtt({
    url: `${new URL(home2.url).protocol}//127.0.0.1:${relay.port}`,
    ca: homeCa,
    clientId: "door-sensor-1-via-relay",
    ...readCredential(homePaths(keysDir), "door-sensor-1"),
    reconnectPeriodMs: 0,
  });
  await relayed.close();
  const sensor2 = home2.runSensor(scale.legitMessages, scale.intervalMs);
  const attack2 = await runSecureAttacks({
    classes: SECURE_ATTACK_CLASSES,
    attempts: scale.secureAttempts,
    probeAttempts: Math.min(scale.secureAttempts, DEMO_PROBE_ATTEMPTS),
    topic: secureTopicFor("door-sensor-1"),
    captureTimeoutMs: 10_000,
    captureCount: 3,
    gapMs: 1,
    qos: 1,
    brokerUrl: home2.url,
    victimUsername: "door-sensor-1",
    aclViolationTopic: "home/secure/window",
    // mallory's own device topic: reachable with the rights of any one device account.
    crossTopic: secureTopicFor("mallory"),
  }, {
    clock,
    log: log2.forRole("attacker"),
    transport: attackerT2,
    connect: (o) => home2.connect({ ...o, reconnectPeriodMs: 0, connectTimeoutMs: 2000 }),
    openStream: () => openBrokerStream(home2.url, homeCa),
    relay,
    ...knowledge,
    restartVictim: () => home2.restartActuator(),
    signal: deps.signal,
  }).finally(() => relay.close());
  const sent2 = await sensor2;
  await settle(home2.actuator, sent2.sent, 10_000, clock);
  await clock.sleep(200);
  await home2.actuator.idle();
  await attackerT2.close();
  await home2.close();
  log2.close();
  // The same count the report's attack table adds up: every attempt of every class, whether it reached the
  // actuator's topic, was refused by the broker first, or (a probe) worked.
  const active = attack2.sent + attack2.refused + attack2.succeeded;
  progress(
    `Phase II  ${attack2.captured + active} attack attempts: ${attack2.captured} messages eavesdropped, ` +
      `${active} active (${attack2.sent} published, ${attack2.refused} refused by the broker, ` +
      `${attack2.succeeded} probe(s) succeeded)`,
  );
  for (const model of ["device-account", "broad-rights"] as const) {
    const classes = SECURE_ATTACK_CLASSES.filter((cls) => ATTACK_CATALOGUE[cls].model === model);
    progress(`Phase II  threat model ${model} (${THREAT_MODEL_TEXT[model]}): ${classes.join(", ")}`);
  }

  progress("Timing    early-exit vs constant-time compare: Welch's t-test, then byte-by-byte recovery");
  const logT = openLog(logs.timing, "timing");
  const timing = await runTiming({ samples: scale.timingSamples, recover: true }, {
    log: logT,
    signal: deps.signal,
  });
  logT.close();
  for (const r of timing.results) {
    progress(`Timing    ${r.function}: t = ${r.t.toFixed(1)}, ${r.leak ? "LEAK" : "no leak"}`);
  }
  for (const r of timing.recovery) progress(`Timing    recovery via ${describeRecovery(r)}`);

  progress("Metrics   logs → metrics.json, summary.md, report.html");
  const report = await writeReport({ logs: [logs.phase1, logs.phase2, logs.timing], outDir });
  return {
    metrics: report.metrics,
    summary: report.summary,
    logs: Object.values(logs),
    reportPaths: report.paths,
  };
}

/**
 * The demo's failure budget: its attack plan sends every class's attempts onto the real sensor's topic
 * (the broad-rights model), so the default budget (1 024) would shed most of a larger scale's attacks, and the
 * real sensor's events with them, and the report would show OVERLOADED instead of each defence's own code.
 * A budget of four refusals per planned attempt keeps every class judged; the flood bench shows the
 * default at work (docs/RELIABILITY.md, "Flood").
 * @example
 * ```ts
 * demoThrottle(75).failures.burst; // 4 × 75 × the number of secure attack classes
 * ```
 */
export function demoThrottle(secureAttempts: number): ThrottlePolicy {
  const burst = Math.max(
    DEFAULT_THROTTLE_POLICY.failures.burst,
    4 * secureAttempts * SECURE_ATTACK_CLASSES.length,
  );
  return { failures: { ...DEFAULT_THROTTLE_POLICY.failures, burst } };
}
