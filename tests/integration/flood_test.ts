/**
 * Flood: an attacker with broker credentials (mallory) publishes invalid envelopes and garbage on the
 * sensor's own topic as fast as `mosquitto_pub -l` can, while the real sensor sends at its normal rate to
 * the real actuator (all separate processes, real Mosquitto). Latency is measured calm first, then under
 * flood, in the same test, as PUBACK-to-action: the actuator's `action` time minus the sensor's
 * `published` time (logged on PUBACK), both on this host's clock. It includes the time a legit message
 * waits behind the flood in the broker, the socket and the actuator's queue.
 *
 * The figures are printed, never asserted: on a 2-core machine they move with whatever else runs. The
 * assertions are about correctness only: every legit message acted on, none lost or refused, nothing from
 * the attacker acted on, and only the reason codes each flood can earn.
 */

import assert from "node:assert/strict";
import { summarize } from "../../metrics/stats.ts";
import { SECURE_TOPIC } from "../../roles/door.ts";
import { connectMqtt } from "../../transport/client.ts";
import { mosquittoAvailable, startMosquitto } from "../../testkit/brokers.ts";
import { homePaths } from "../../store/home.ts";
import { readRecords, type SecmqttProcess, spawnSecmqtt, spawnSecureSensor, waitFor } from "./cli_process.ts";
import { credential, makeTestHome } from "./secure_home.ts";

const ignore = !mosquittoAvailable() || !mosquittoPubAvailable();
/** Flood bounds: this many messages or this long, whichever comes first. */
const FLOOD_MESSAGES = 20_000;
const FLOOD_MAX_MS = 10_000;
/** Forged envelopes each cost a signature verification: fewer of them already overwhelm the actuator. */
const FORGED_FLOOD_MESSAGES = 5_000;
/** Legit messages per phase and their interval (the sensor's normal rate in this test). */
const LEGIT_MESSAGES = 20;
const LEGIT_INTERVAL_MS = 100;

function mosquittoPubAvailable(): boolean {
  try {
    Deno.statSync("/usr/bin/mosquitto_pub");
    return true;
  } catch {
    if (Deno.env.get("CI")) {
      throw new Error("mosquitto_pub is missing and CI is set: install mosquitto-clients");
    }
    return false;
  }
}

type LogLine = Record<string, unknown>;

/** The attacker's lines: each one MQTT message. `kind` picks which classes of junk are in the mix. */
function floodLines(template: LogLine, kind: "cheap" | "forged"): string[] {
  const lines: string[] = [];
  const now = Date.now();
  const total = kind === "forged" ? FORGED_FLOOD_MESSAGES : FLOOD_MESSAGES;
  for (let i = 0; lines.length < total; i++) {
    if (kind === "forged") {
      // Well-formed, in the time window, claiming the real sensor: only the signature check refuses it.
      lines.push(JSON.stringify({ ...template, counter: 1_000_000_000 + i, ts: now, msg_id: `forged-${i}` }));
      continue;
    }
    switch (i % 5) {
      case 0:
        lines.push(`garbage ${crypto.randomUUID()} ${"x".repeat(i % 200)}`);
        break;
      case 1:
        lines.push(JSON.stringify({ v: 1, hello: i }));
        break;
      case 2:
        lines.push("y".repeat(9_000)); // over the 8192-byte cap
        break;
      case 3:
        lines.push(JSON.stringify({ ...template, sender: `intruder-${i}`, counter: i, ts: now }));
        break;
      default:
        lines.push(JSON.stringify({ ...template, counter: 1_000_000_000 + i, ts: 1 })); // stale
    }
  }
  return lines;
}

/** Runs mosquitto_pub -l as mallory; resolves with how many lines it was given and how long it ran. */
async function flood(port: number, password: string, lines: string[]): Promise<{ sent: number; ms: number }> {
  const started = Date.now();
  const child = new Deno.Command("mosquitto_pub", {
    args: ["-h", "127.0.0.1", "-p", String(port), "-u", "mallory", "-P", password, "-t", SECURE_TOPIC, "-l"],
    stdin: "piped",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
  }, FLOOD_MAX_MS);
  const writer = child.stdin.getWriter();
  let sent = 0;
  try {
    for (let i = 0; i < lines.length; i += 500) {
      const chunk = lines.slice(i, i + 500);
      await writer.write(new TextEncoder().encode(chunk.join("\n") + "\n"));
      sent += chunk.length;
    }
    await writer.close();
  } catch { /* killed at the time bound */ }
  await child.status;
  clearTimeout(timer);
  return { sent, ms: Date.now() - started };
}

/** PUBACK-to-action latency of each published message acted on, ms. */
function latencies(published: LogLine[], actions: LogLine[]): number[] {
  const actedAt = new Map(actions.map((a) => [a.digest, a.ts as number]));
  return published.filter((p) => actedAt.has(p.digest)).map((p) => actedAt.get(p.digest)! - (p.ts as number));
}

async function runSensor(home: string, url: string, logPath: string, count = LEGIT_MESSAGES): Promise<void> {
  const sensor = spawnSecureSensor({ home, broker: url, log: logPath, count, intervalMs: LEGIT_INTERVAL_MS });
  assert.equal((await sensor.child.status).code, 0, sensor.stderr());
}

for (const kind of ["cheap", "forged"] as const) {
  Deno.test({
    name: kind === "cheap"
      ? "flood of garbage, oversize, malformed, unknown-sender and stale envelopes: every legit message is " +
        "acted on, none of the flood is"
      : "flood of well-formed envelopes with forged signatures: every legit message is acted on, none of " +
        "the flood is",
    ignore,
    async fn() {
      const home = await makeTestHome();
      const paths = homePaths(home);
      const mosquittoLog = `${home}/mosquitto.log`;
      const broker = await startMosquitto([
        "allow_anonymous false",
        `password_file ${paths.passwd}`,
        `acl_file ${paths.acl}`,
        "user root",
        // As broker-config/mosquitto.secure.conf: room to queue a flood for the actuator rather than drop.
        "max_queued_messages 100000",
        `log_dest file ${mosquittoLog}`,
        "log_type error",
        "log_type warning",
        "log_type notice",
      ]);
      const actuatorLog = `${home}/actuator.jsonl`;
      const calmLog = `${home}/sensor-calm.jsonl`;
      const floodLog = `${home}/sensor-flood.jsonl`;
      let actuator: SecmqttProcess | undefined = spawnSecmqtt([
        "actuator",
        "--secure",
        "--keys",
        home,
        "--broker",
        broker.url,
        "--log",
        actuatorLog,
      ]);
      const tap = await connectMqtt({
        url: broker.url,
        clientId: "mallory-tap",
        username: "mallory",
        password: credential(home, "mallory"),
      });
      try {
        let template: LogLine | undefined;
        tap.onMessage((_t, payload) => template ??= JSON.parse(new TextDecoder().decode(payload)));
        await tap.subscribe(SECURE_TOPIC, { qos: 0 });
        await waitFor(
          () => readRecords(actuatorLog).some((r) => r.event === "role_started"),
          20_000,
          "the actuator to subscribe",
        );

        // Warm-up (the first message pays the one-time key imports), then calm.
        await runSensor(home, broker.url, `${home}/sensor-warmup.jsonl`, 1);
        await waitFor(
          () => readRecords(actuatorLog).some((r) => r.event === "action"),
          20_000,
          "the warm-up action",
        );
        await runSensor(home, broker.url, calmLog);
        const calmPublished = readRecords(calmLog).filter((r) => r.event === "published");
        await waitFor(
          () => readRecords(actuatorLog).filter((r) => r.event === "action").length >= LEGIT_MESSAGES + 1,
          20_000,
          "calm actions",
        );
        const calm = summarize(
          latencies(calmPublished, readRecords(actuatorLog).filter((r) => r.event === "action")),
        );
        await tap.close();
        assert.ok(template, "captured an envelope to shape the flood on");

        // Flood, with the sensor sending through it.
        const lines = floodLines(template, kind);
        const flooding = flood(broker.port, credential(home, "mallory"), lines);
        await runSensor(home, broker.url, floodLog);
        const { sent, ms } = await flooding;
        const floodPublished = readRecords(floodLog).filter((r) => r.event === "published");
        assert.equal(floodPublished.length, LEGIT_MESSAGES);
        const legit = new Set(floodPublished.map((p) => p.digest));
        // Drained: no new verdict for 500 ms (bounded). Legit messages the broker dropped never get one.
        const verdictCount = () => readRecords(actuatorLog).filter((r) => r.event !== "role_started").length;
        await waitFor(
          async () => {
            const before = verdictCount();
            await new Promise((r) => setTimeout(r, 500));
            return verdictCount() === before;
          },
          60_000,
          "the actuator to drain the flood",
        );
        await actuator.stop();
        actuator = undefined;

        const records = readRecords(actuatorLog);
        const actions = records.filter((r) => r.event === "action");
        const rejected = records.filter((r) => r.event === "rejected");
        const legitRejected = rejected.filter((r) => legit.has(r.digest));
        const legitActed = new Set(actions.filter((a) => legit.has(a.digest)).map((a) => a.digest));
        const legitUnseen = floodPublished.filter((p) =>
          !legitActed.has(p.digest) && !legitRejected.some((r) => r.digest === p.digest)
        );
        const calmDigests = new Set(
          [...calmPublished, ...readRecords(`${home}/sensor-warmup.jsonl`)].filter((p) =>
            p.event === "published"
          )
            .map((p) => p.digest),
        );
        const attackerActions = actions.filter((a) => !legit.has(a.digest) && !calmDigests.has(a.digest));
        const byCode: Record<string, number> = {};
        for (const r of rejected) byCode[r.code as string] = (byCode[r.code as string] ?? 0) + 1;
        const underFlood = summarize(latencies(floodPublished, actions));
        const brokerDropped = Deno.readTextFileSync(mosquittoLog).includes(
          "Outgoing messages are being dropped for client door-actuator",
        );
        console.log(
          `flood (${kind}): ${sent} attacker messages in ${ms} ms; actuator verdicts ${
            JSON.stringify(byCode)
          }; ` +
            `legit: ${legitActed.size}/${LEGIT_MESSAGES} acted on, ${legitRejected.length} rejected, ` +
            `${legitUnseen.length} never reached the actuator (Mosquitto logged dropping: ${brokerDropped}); ` +
            `PUBACK-to-action p50/p95 calm ${calm.p50.toFixed(1)}/${calm.p95.toFixed(1)} ms, ` +
            `under flood ${underFlood.p50.toFixed(1)}/${underFlood.p95.toFixed(1)} ms`,
        );

        assert.ok(sent >= 1000, `the flood got going (${sent} messages)`);
        assert.equal(attackerActions.length, 0, "no attacker message acted on");
        for (const action of actions) assert.ok(legit.has(action.digest) || calmDigests.has(action.digest));
        // Backpressure (the actuator withholds PUBACKs while its queue is full) and room in Mosquitto's queue
        // for it: every legit message is acted on, none refused, none dropped on the way.
        assert.equal(legitActed.size, LEGIT_MESSAGES, "every legit message acted on under flood");
        assert.equal(legitRejected.length, 0, JSON.stringify(legitRejected));
        assert.equal(legitUnseen.length, 0, "no legit message lost");
        assert.ok(!brokerDropped, "Mosquitto dropped nothing for the actuator");
        const expectedCodes = kind === "cheap"
          ? ["MALFORMED", "OVERSIZE", "UNKNOWN_SENDER", "STALE"]
          // A forgery that waited in the queue past the timestamp window is refused as STALE before its
          // signature is even checked: also a refusal, and cheaper.
          : ["BAD_SIGNATURE", "STALE"];
        for (const code of Object.keys(byCode)) assert.ok(expectedCodes.includes(code), `unexpected ${code}`);
        const floodRejected = rejected.filter((r) => !legit.has(r.digest) && !calmDigests.has(r.digest));
        assert.ok(floodRejected.length > 0, "the flood reached the actuator and was refused there");
      } finally {
        await tap.close().catch(() => {});
        await actuator?.kill9();
        await broker.close();
        await Deno.remove(home, { recursive: true });
      }
    },
  });
}
