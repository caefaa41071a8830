/**
 * The flood scenario of issue 12, shared by tests/integration/flood_test.ts (correctness) and
 * bench/flood.ts (latency figures). One fresh home per run: sensors `door-sensor-1` (the real one) and
 * `door-sensor-2` (the flooder), the broker (real Mosquitto from keygen's files, or `secmqtt broker
 * --secure`) and `secmqtt actuator --secure`, all separate processes. While the real sensor sends its
 * events, the flooder either
 * - `forged`: streams forged envelopes at QoS 0 with `mosquitto_pub -l` under its own account, onto every
 *   topic it can reach: its own device topic (a mix of envelopes in the real sensor's name, envelopes in
 *   its own name with bad signatures, and garbage) and, to show the ACL, a share onto the real sensor's
 *   topic, which the broker must not deliver; or
 * - `trusted`: is a compromised but trusted sensor, `secmqtt sensor --secure --interval-ms 0`, sending
 *   valid envelopes as fast as it can sign them.
 * Latency is PUBACK-to-action: the actuator's `action` time minus the sensor's `published` time (logged on
 * PUBACK), both on this host's clock, so it includes every wait behind the flood.
 * @module
 */

import { spawnSecmqtt } from "./secmqtt_process.ts";
import { secureTopicFor } from "../roles/door.ts";
import { createHome } from "../roles/keygen.ts";
import { SUITE_DSA } from "../crypto/envelope.ts";
import { readCredential } from "../store/credentials.ts";
import { homePaths } from "../store/home.ts";
import { connectMqtt } from "../transport/client.ts";
import { freePort, secureMosquittoConfig, startMosquitto } from "./brokers.ts";
import { fixtureDsaDomain } from "./fixtures.ts";

const MOSQUITTO_SECURE_CONF = new URL("../broker-config/mosquitto.secure.conf", import.meta.url);

/** The real sensor and the account that floods. */
export const LEGIT_SENSOR = "door-sensor-1";
/** The flooding account: a device whose broker credentials (and, for `trusted`, signing key) leaked. */
export const FLOOD_ACCOUNT = "door-sensor-2";
/** Forged messages streamed by default (the "≥ 100 000"). */
export const DEFAULT_FORGED_MESSAGES = 100_000;
/** Valid envelopes the compromised sensor sends by default. */
export const DEFAULT_TRUSTED_MESSAGES = 2_000;
/** Forged lines aimed at the real sensor's topic, which the ACL must stop. */
export const ACL_PROBE_MESSAGES = 1_000;

/** Which broker, which flood, how much. */
export interface FloodRunOptions {
  broker: "mosquitto" | "embedded";
  flood: "none" | "forged" | "trusted";
  /** Flood size (default {@link DEFAULT_FORGED_MESSAGES} or {@link DEFAULT_TRUSTED_MESSAGES}). */
  floodMessages?: number;
  /** Real events during the flood (default 20) and their interval (default 100 ms). */
  legitMessages?: number;
  legitIntervalMs?: number;
  /** The flood gives up after this long (default 60 s). */
  floodMaxMs?: number;
}

/** A JSON Lines record. */
export type LogLine = Record<string, unknown>;

/** What one run left behind, for the caller to judge. */
export interface FloodRun {
  /** `published` records of the real sensor's events sent during the flood. */
  legitPublished: LogLine[];
  /** Digests the real sensor published before the flood (warm-up). */
  earlierDigests: Set<string>;
  /** Every actuator record. */
  actuator: LogLine[];
  /** Every record of the embedded broker (empty for Mosquitto). */
  broker: LogLine[];
  /** Flood messages handed to the flooder, and how long it ran. */
  floodSent: number;
  floodMs: number;
  /** Did Mosquitto log dropping messages for the actuator? */
  mosquittoDropped: boolean;
  /** PUBACK-to-action latency of each legit event acted on, ms. */
  latenciesMs: number[];
}

/**
 * Runs one flood scenario end to end and returns its records; removes everything it created.
 * @example
 * ```ts
 * const run = await runFloodScenario({ broker: "mosquitto", flood: "forged" });
 * ```
 */
export async function runFloodScenario(options: FloodRunOptions): Promise<FloodRun> {
  const legitMessages = options.legitMessages ?? 20;
  const legitIntervalMs = options.legitIntervalMs ?? 100;
  const home = await Deno.makeTempDir({ prefix: "secmqtt-flood-" });
  await createHome({
    outDir: home,
    sensors: [LEGIT_SENSOR, FLOOD_ACCOUNT],
    actuatorId: "door-actuator",
    suite: SUITE_DSA,
    attacker: "mallory",
    force: true,
    dsaDomain: fixtureDsaDomain(256),
  });
  const paths = homePaths(home);
  const password = (user: string) => readCredential(paths, user).password;
  const actuatorLog = `${home}/actuator.jsonl`;
  const brokerLog = `${home}/broker.jsonl`;
  const mosquittoLog = `${home}/mosquitto.log`;
  const cleanups: (() => Promise<unknown>)[] = [() => Deno.remove(home, { recursive: true })];
  try {
    let url: string;
    let port: number;
    /** Stops the embedded broker, so its `role_stopped` (with the rate-limit counts) is in its log. */
    let stopBroker = () => Promise.resolve();
    if (options.broker === "mosquitto") {
      const broker = await startMosquitto([
        ...secureMosquittoConfig(paths.passwd, paths.acl),
        `max_queued_messages ${mosquittoMaxQueued()}`,
        `log_dest file ${mosquittoLog}`,
        "log_type error",
        "log_type warning",
        "log_type notice",
      ]);
      cleanups.unshift(() => broker.close());
      ({ url, port } = broker);
    } else {
      port = freePort();
      url = `mqtt://127.0.0.1:${port}`;
      const broker = spawnSecmqtt([
        "broker",
        "--secure",
        "--port",
        String(port),
        "--password-file",
        paths.passwd,
        "--acl-file",
        paths.acl,
        "--log",
        brokerLog,
      ]);
      cleanups.unshift(() => broker.stop());
      stopBroker = async () => {
        await broker.stop();
      };
      await waitFor(() => readRecords(brokerLog).some((r) => r.event === "broker_listening"), "the broker");
    }
    // The trusted flood runs the actuator at 20 messages/s per sender (burst 40) instead of 50/500: on a
    // busy 2-core machine the flooder signs only 30–100 envelopes/s, and the limit must be below that to be
    // seen at all. The real sensor's 10/s stays under it.
    const senderRate = options.flood === "trusted" ? ["--sender-rate", "20", "--sender-burst", "40"] : [];
    const actuator = spawnSecmqtt([
      "actuator",
      "--secure",
      "--keys",
      home,
      "--broker",
      url,
      "--log",
      actuatorLog,
      ...senderRate,
    ]);
    cleanups.unshift(() => actuator.stop());
    await waitFor(() => readRecords(actuatorLog).some((r) => r.event === "role_started"), "the actuator");

    // Warm-up: the first message pays one-time key imports. It also gives the forger an envelope to copy.
    const warmupLog = `${home}/sensor-warmup.jsonl`;
    let template: LogLine | undefined;
    const tap = await connectMqtt({
      url,
      clientId: "mallory-tap",
      username: "mallory",
      password: password("mallory"),
    });
    cleanups.unshift(() => tap.close().catch(() => {}));
    tap.onMessage((_t, payload) => template ??= JSON.parse(new TextDecoder().decode(payload)));
    await tap.subscribe(secureTopicFor(LEGIT_SENSOR), { qos: 0 });
    await runSensor(home, url, LEGIT_SENSOR, warmupLog, 1, legitIntervalMs);
    await waitFor(() => readRecords(actuatorLog).some((r) => r.event === "action"), "the warm-up action");
    await tap.close();
    const earlierDigests = new Set(
      readRecords(warmupLog).filter((r) => r.event === "published").map((r) => r.digest as string),
    );

    const legitLog = `${home}/sensor-legit.jsonl`;
    const started = Date.now();
    let flooding: Promise<number> = Promise.resolve(0);
    const maxMs = options.floodMaxMs ?? 60_000;
    if (options.flood === "forged") {
      if (!template) throw new Error("no envelope captured to shape the flood on");
      const total = options.floodMessages ?? DEFAULT_FORGED_MESSAGES;
      const own = mosquittoPub(
        port,
        password(FLOOD_ACCOUNT),
        secureTopicFor(FLOOD_ACCOUNT),
        forgedLines(template, total),
        maxMs,
      );
      const probe = mosquittoPub(
        port,
        password(FLOOD_ACCOUNT),
        secureTopicFor(LEGIT_SENSOR),
        forgedLines(template, ACL_PROBE_MESSAGES),
        maxMs,
        "probe",
      );
      flooding = Promise.all([own, probe]).then(([a, b]) => a + b);
    } else if (options.flood === "trusted") {
      const total = options.floodMessages ?? DEFAULT_TRUSTED_MESSAGES;
      flooding = runSensor(home, url, FLOOD_ACCOUNT, `${home}/sensor-flooder.jsonl`, total, 0, "0").then(() =>
        total
      );
    }
    await runSensor(home, url, LEGIT_SENSOR, legitLog, legitMessages, legitIntervalMs);
    const floodSent = await flooding;
    const floodMs = Date.now() - started;
    const legitPublished = readRecords(legitLog).filter((r) => r.event === "published");
    const legit = new Set(legitPublished.map((r) => r.digest));
    // Drained: every legit event has a verdict and the actuator's log stopped growing for a second.
    await waitFor(
      () => {
        const judged = new Set(
          readRecords(actuatorLog).filter((r) => r.event === "action" || r.event === "rejected").map((r) =>
            r.digest
          ),
        );
        return [...legit].every((d) => judged.has(d));
      },
      "a verdict on every legit event",
      120_000,
    );
    await waitFor(
      async () => {
        const before = Deno.statSync(actuatorLog).size;
        await new Promise((r) => setTimeout(r, 1000));
        return Deno.statSync(actuatorLog).size === before;
      },
      "the actuator to drain the flood",
      120_000,
    );
    await actuator.stop();
    await stopBroker();
    const records = readRecords(actuatorLog);
    const actedAt = new Map(
      records.filter((r) => r.event === "action").map((r) => [r.digest, r.ts as number]),
    );
    return {
      legitPublished,
      earlierDigests,
      actuator: records,
      broker: readRecords(brokerLog),
      floodSent,
      floodMs,
      mosquittoDropped: readText(mosquittoLog).includes("Outgoing messages are being dropped"),
      latenciesMs: legitPublished.filter((p) => actedAt.has(p.digest)).map((p) =>
        actedAt.get(p.digest)! - (p.ts as number)
      ),
    };
  } finally {
    for (const cleanup of cleanups) await cleanup().catch(() => {});
  }
}

/**
 * The actuator's refusals by reason code: one per `rejected` line, plus the `count` of every `shed`
 * summary (messages refused unjudged, counted instead of logged one by one).
 * @example
 * ```ts
 * refusalsByCode(run.actuator); // { TOPIC_MISMATCH: 130, OVERLOADED: 100_512, ... }
 * ```
 */
export function refusalsByCode(records: LogLine[]): Record<string, number> {
  const byCode: Record<string, number> = {};
  for (const r of records) {
    const n = r.event === "rejected" ? 1 : r.event === "shed" ? Number(r.count) : 0;
    if (n > 0) byCode[r.code as string] = (byCode[r.code as string] ?? 0) + n;
  }
  return byCode;
}

/** `max_queued_messages` of broker-config/mosquitto.secure.conf, so the run uses the shipped sizing. */
export function mosquittoMaxQueued(): number {
  const match = /^max_queued_messages (\d+)$/m.exec(Deno.readTextFileSync(MOSQUITTO_SECURE_CONF));
  if (!match) throw new Error("broker-config/mosquitto.secure.conf has no max_queued_messages");
  return Number(match[1]);
}

/**
 * The forger's lines, one MQTT message each: in turn an envelope in the real sensor's name, one in its
 * own name (well-formed, fresh, signature forged) and garbage.
 */
function forgedLines(template: LogLine, total: number): string[] {
  const lines: string[] = [];
  const now = Date.now();
  for (let i = 0; lines.length < total; i++) {
    const forged = { ...template, counter: 1_000_000_000 + i, ts: now, msg_id: `forged-${i}` };
    if (i % 3 === 0) lines.push(JSON.stringify(forged));
    else if (i % 3 === 1) lines.push(JSON.stringify({ ...forged, sender: FLOOD_ACCOUNT }));
    else lines.push(`garbage ${i} ${"x".repeat(i % 200)}`);
  }
  return lines;
}

/** Streams `lines` with `mosquitto_pub -l` at QoS 0 as the flooding account; resolves with lines written. */
async function mosquittoPub(
  port: number,
  password: string,
  topic: string,
  lines: string[],
  maxMs: number,
  suffix = "flood",
): Promise<number> {
  const child = new Deno.Command("mosquitto_pub", {
    args: [
      "-h",
      "127.0.0.1",
      "-p",
      String(port),
      "-u",
      FLOOD_ACCOUNT,
      "-P",
      password,
      "-i",
      `${FLOOD_ACCOUNT}-${suffix}`,
      "-q",
      "0",
      "-t",
      topic,
      "-l",
    ],
    stdin: "piped",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
  }, maxMs);
  const writer = child.stdin.getWriter();
  let sent = 0;
  try {
    for (let i = 0; i < lines.length; i += 500) {
      const chunk = lines.slice(i, i + 500);
      await writer.write(new TextEncoder().encode(chunk.join("\n") + "\n"));
      sent += chunk.length;
    }
    await writer.close();
  } catch { /* killed at the time bound, or refused by the broker (the ACL probe on aedes) */ }
  await child.status;
  clearTimeout(timer);
  return sent;
}

async function runSensor(
  home: string,
  url: string,
  id: string,
  logPath: string,
  count: number,
  intervalMs: number,
  qos = "1",
): Promise<void> {
  const sensor = spawnSecmqtt([
    "sensor",
    "--secure",
    "--keys",
    home,
    "--id",
    id,
    "--broker",
    url,
    "-q",
    qos,
    "--count",
    String(count),
    "--interval-ms",
    String(intervalMs),
    "--log",
    logPath,
  ]);
  const status = await sensor.child.status;
  if (status.code !== 0) throw new Error(`sensor ${id} exited ${status.code}: ${sensor.stderr()}`);
}

async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function readText(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return "";
  }
}

/** Parses a JSONL file written by another process; a line still being written is skipped. */
function readRecords(path: string): LogLine[] {
  const records: LogLine[] = [];
  for (const line of readText(path).split("\n")) {
    if (line.trim() === "") continue;
    try {
      records.push(JSON.parse(line));
    } catch { /* the writer's last, partial line */ }
  }
  return records;
}
