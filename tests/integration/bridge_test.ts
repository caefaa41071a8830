/**
 * Across brokers: the sensor on Mosquitto A, the actuator on broker B, joined by a Mosquitto bridge.
 * With an honest Mosquitto B every legit envelope is acted on, unchanged. With a malicious B
 * (transport/malicious_broker.ts tampering, dropping, duplicating, delaying and reordering), no tampered
 * message is acted on, each is rejected with the code the envelope's checks give, and the only legit
 * losses are the drops and the late (delayed/reordered) messages the strict counter refuses as REPLAY.
 */

import assert from "node:assert/strict";
import { systemClock } from "../../core/clock.ts";
import { REASON_CODES } from "../../crypto/envelope.ts";
import { Log, memoryLogWriter } from "../../log/jsonl.ts";
import { formatPasswordLine, hashPassword } from "../../auth/passwd.ts";
import { homePaths } from "../../store/home.ts";
import { connectMqtt } from "../../transport/client.ts";
import { startMaliciousBroker } from "../../transport/malicious_broker.ts";
import { mosquittoAvailable, startMosquitto, type TestBroker } from "../../testkit/brokers.ts";
import { readRecords, type SecmqttProcess, spawnSecmqtt, spawnSecureSensor, waitFor } from "./cli_process.ts";
import { makeTestHome } from "./secure_home.ts";

const ignore = !mosquittoAvailable();
const PROBE_TOPIC = "home/secure/probe";
const BRIDGE_USER = "bridge";
const PROBE_USER = "probe";
/**
 * Codes `open()` can give an envelope that is not byte-for-byte what a trusted sender signed: every check
 * up to and including the signature's, since the signature covers every byte that matters.
 */
const FORGERY_CODES: readonly string[] = REASON_CODES.slice(0, REASON_CODES.indexOf("BAD_SIGNATURE") + 1);

/** The home's passwd and acl plus a bridge account and a probe account, in `dir`. */
function writeBrokerAuth(
  homeDir: string,
  dir: string,
): { passwd: string; acl: string; secrets: Record<string, string> } {
  const paths = homePaths(homeDir);
  const secrets: Record<string, string> = {
    [BRIDGE_USER]: crypto.randomUUID(),
    [PROBE_USER]: crypto.randomUUID(),
  };
  const passwd = `${dir}/passwd`;
  const acl = `${dir}/acl`;
  const extraUsers = Object.entries(secrets).map(([user, secret]) =>
    formatPasswordLine(user, hashPassword(secret))
  );
  Deno.writeTextFileSync(passwd, Deno.readTextFileSync(paths.passwd) + extraUsers.join("\n") + "\n");
  Deno.writeTextFileSync(
    acl,
    Deno.readTextFileSync(paths.acl) +
      `\nuser ${BRIDGE_USER}\ntopic readwrite home/secure/#\nuser ${PROBE_USER}\ntopic readwrite ${PROBE_TOPIC}\n`,
  );
  return { passwd, acl, secrets };
}

function secureLines(auth: { passwd: string; acl: string }): string[] {
  // Started as root, Mosquitto would switch to its own user, which cannot read a 0700 temp dir.
  return ["allow_anonymous false", `password_file ${auth.passwd}`, `acl_file ${auth.acl}`, "user root"];
}

function bridgeLines(remotePort: number, direction: "both" | "out", remote?: { password: string }): string[] {
  return [
    "connection to-b",
    `address 127.0.0.1:${remotePort}`,
    `topic home/secure/# ${direction} 1`,
    "remote_clientid bridge-a",
    "cleansession true",
    "bridge_protocol_version mqttv311",
    // The malicious broker (aedes) does not speak Mosquitto's private bridge protocol flag.
    "try_private false",
    "restart_timeout 1",
    // Mosquitto would publish its bridge state on $SYS/…, which aedes refuses by closing the connection.
    "notifications false",
    ...(remote ? [`remote_username ${BRIDGE_USER}`, `remote_password ${remote.password}`] : []),
  ];
}

/** Publishes probes on A until one arrives at B: the bridge is up (bounded: 10 s). */
async function waitForBridge(a: TestBroker, secretA: string, b: { url: string }, secretB?: string) {
  const sub = await connectMqtt({
    url: b.url,
    clientId: "probe-sub",
    ...(secretB ? { username: PROBE_USER, password: secretB } : {}),
  });
  const pub = await connectMqtt({
    url: a.url,
    clientId: "probe-pub",
    username: PROBE_USER,
    password: secretA,
  });
  let arrived = false;
  sub.onMessage(() => arrived = true);
  try {
    await sub.subscribe(PROBE_TOPIC, { qos: 0 });
    const deadline = Date.now() + 10_000;
    while (!arrived) {
      if (Date.now() > deadline) throw new Error("the bridge from A to B did not come up within 10 s");
      await pub.publish(PROBE_TOPIC, "probe", { qos: 0 });
      await systemClock.sleep(100);
    }
  } finally {
    await Promise.all([sub.close(), pub.close()]);
  }
}

function events(records: Record<string, unknown>[], event: string) {
  return records.filter((r) => r.event === event);
}

async function startActuator(homeDir: string, url: string, logPath: string): Promise<SecmqttProcess> {
  const actuator = spawnSecmqtt([
    "actuator",
    "--secure",
    "--keys",
    homeDir,
    "--broker",
    url,
    "--log",
    logPath,
  ]);
  await waitFor(
    () => events(readRecords(logPath), "role_started").length > 0,
    20_000,
    "the actuator to subscribe",
  );
  return actuator;
}

Deno.test({
  name:
    "bridge: sensor on Mosquitto A, actuator on Mosquitto B; every legit envelope crosses and is acted on",
  ignore,
  async fn() {
    const home = await makeTestHome();
    const brokers: TestBroker[] = [];
    let actuator: SecmqttProcess | undefined;
    try {
      const authB = writeBrokerAuth(home, await Deno.makeTempDir({ dir: home }));
      const authA = writeBrokerAuth(home, await Deno.makeTempDir({ dir: home }));
      const b = await startMosquitto(secureLines(authB));
      brokers.push(b);
      const a = await startMosquitto([
        ...secureLines(authA),
        ...bridgeLines(b.port, "both", { password: authB.secrets[BRIDGE_USER] }),
      ]);
      brokers.push(a);
      await waitForBridge(a, authA.secrets[PROBE_USER], b, authB.secrets[PROBE_USER]);

      const actuatorLog = `${home}/actuator.jsonl`;
      const sensorLog = `${home}/sensor.jsonl`;
      actuator = await startActuator(home, b.url, actuatorLog);
      const count = 20;
      const sensor = spawnSecureSensor({ home, broker: a.url, log: sensorLog, count, intervalMs: 50 });
      const status = await sensor.child.status;
      assert.equal(status.code, 0, sensor.stderr());
      await waitFor(
        () => events(readRecords(actuatorLog), "action").length >= count,
        20_000,
        `${count} actions`,
      );
      await actuator.stop();
      actuator = undefined;

      const published = events(readRecords(sensorLog), "published");
      const records = readRecords(actuatorLog);
      const actions = events(records, "action");
      assert.equal(published.length, count);
      assert.deepEqual(actions.map((r) => r.digest).sort(), published.map((r) => r.digest).sort());
      assert.equal(events(records, "rejected").length, 0, "nothing was rejected");
      assert.equal(events(records, "duplicate").length, 0, "the bridge delivered each message once");
    } finally {
      await actuator?.kill9();
      for (const broker of brokers.reverse()) await broker.close();
      await Deno.remove(home, { recursive: true });
    }
  },
});

Deno.test({
  name: "malicious broker B behind a bridge: no tampered message is acted on, each rejection has the right " +
    "code, and legit losses are exactly the drops and the late messages",
  ignore,
  async fn() {
    const home = await makeTestHome();
    const writer = memoryLogWriter();
    const brokerLog = new Log(writer, { role: "broker", run: "malicious", clock: systemClock });
    const evil = await startMaliciousBroker({
      log: brokerLog,
      seed: 20240611,
      topicPrefix: "home/secure/door",
      delayMs: 150,
      rates: {
        "tamper-payload": 0.12,
        "tamper-topic": 0.1,
        drop: 0.08,
        duplicate: 0.1,
        delay: 0.08,
        reorder: 0.08,
      },
    });
    let a: TestBroker | undefined;
    let actuator: SecmqttProcess | undefined;
    try {
      const authA = writeBrokerAuth(home, await Deno.makeTempDir({ dir: home }));
      a = await startMosquitto([...secureLines(authA), ...bridgeLines(evil.port, "out")]);
      await waitForBridge(a, authA.secrets[PROBE_USER], evil);

      const actuatorLog = `${home}/actuator.jsonl`;
      const sensorLog = `${home}/sensor.jsonl`;
      actuator = await startActuator(home, evil.url, actuatorLog);
      const count = 60;
      const sensor = spawnSecureSensor({ home, broker: a.url, log: sensorLog, count, intervalMs: 40 });
      assert.equal((await sensor.child.status).code, 0, sensor.stderr());
      const published = events(readRecords(sensorLog), "published");
      assert.equal(published.length, count);

      const broker = () => writer.records.filter((r) => r.event !== "broker_listening");
      const decided = () => Object.values(evil.stats).reduce((s, n) => s + n, 0);
      // Every published message reaches B once: one decision each (the actuator is B's only subscriber).
      await waitFor(() => decided() >= count, 20_000, "B to receive every message");
      // Every delivery the actuator gets ends in action, rejected or duplicate.
      const expectedVerdicts = count - evil.stats.drop + evil.stats.duplicate;
      const verdicts = () =>
        readRecords(actuatorLog).filter((r) =>
          ["action", "rejected", "duplicate"].includes(r.event as string)
        );
      await waitFor(() => verdicts().length >= expectedVerdicts, 20_000, `${expectedVerdicts} verdicts`);
      assert.equal(decided(), count);
      assert.equal(actuator.child.pid > 0 && (await isRunning(actuator)), true, "the actuator did not crash");
      await actuator.stop();
      actuator = undefined;

      const records = readRecords(actuatorLog);
      const actions = events(records, "action");
      const rejected = events(records, "rejected");
      const duplicates = events(records, "duplicate");
      const legit = new Set(published.map((r) => r.digest));

      // Nothing but legit envelopes is acted on, each at most once, in strictly increasing counter order.
      for (const action of actions) assert.ok(legit.has(action.digest), `acted on ${action.digest}`);
      assert.equal(new Set(actions.map((r) => r.digest)).size, actions.length, "no digest acted on twice");
      const counters = actions.map((r) => r.counter as number);
      assert.ok(counters.every((c, i) => i === 0 || c > counters[i - 1]), "counters strictly increase");

      const byKind = (event: string, kind?: string) =>
        broker().filter((r) => r.event === event && (kind === undefined || r.kind === kind));
      const verdictsFor = (digest: unknown, topic?: string) =>
        records.filter((r) =>
          ["action", "rejected", "duplicate"].includes(r.event as string) && r.digest === digest &&
          (topic === undefined || r.topic === topic)
        );
      const codeCount: Record<string, number> = {};
      for (const t of byKind("tampered", "payload")) {
        const [verdict, ...more] = verdictsFor(t.forwarded_digest);
        assert.equal(more.length, 0);
        assert.equal(verdict?.event, "rejected", `flipped payload ${t.forwarded_digest}`);
        assert.ok(FORGERY_CODES.includes(verdict.code as string), `flipped payload gave ${verdict.code}`);
        codeCount[verdict.code as string] = (codeCount[verdict.code as string] ?? 0) + 1;
        assert.equal(verdictsFor(t.digest).length, 0, "the original never arrived");
      }
      for (const t of byKind("tampered", "topic")) {
        const found = verdictsFor(t.digest);
        assert.equal(found.length, 1);
        assert.equal(found[0].event, "rejected");
        assert.equal(found[0].code, "BAD_SIGNATURE", "a moved envelope fails its signature");
        assert.equal(found[0].topic, t.forwarded_topic);
      }
      for (const d of byKind("dropped")) assert.equal(verdictsFor(d.digest).length, 0);
      for (const d of byKind("duplicated")) {
        const found = verdictsFor(d.digest).map((r) => r.event).sort();
        assert.deepEqual(found, ["action", "duplicate"], `duplicate ${d.digest}`);
      }
      let late = 0;
      for (const d of [...byKind("delayed"), ...byKind("reordered")]) {
        const found = verdictsFor(d.digest);
        assert.equal(found.length, 1);
        if (found[0].event === "rejected") {
          assert.equal(found[0].code, "REPLAY", "a late message is refused by the strict counter");
          late++;
        } else assert.equal(found[0].event, "action");
      }
      const misbehaved = new Set(broker().map((r) => r.digest));
      const honest = published.filter((p) => !misbehaved.has(p.digest));
      for (const p of honest) {
        assert.deepEqual(verdictsFor(p.digest).map((r) => r.event), ["action"], `honest ${p.digest}`);
      }
      assert.equal(duplicates.length, evil.stats.duplicate);
      assert.equal(
        actions.length,
        count - evil.stats.drop - evil.stats["tamper-payload"] - evil.stats["tamper-topic"] - late,
        "legit losses are exactly the drops, the tampered and the late messages",
      );
      assert.ok(rejected.every((r) => r.code !== "BAD_KEY" && r.code !== "BAD_CIPHERTEXT"));
      console.log(
        `malicious broker: ${JSON.stringify(evil.stats)}; acted ${actions.length}/${count}; ` +
          `late refused as REPLAY ${late}; flipped-payload codes ${JSON.stringify(codeCount)}`,
      );
    } finally {
      await actuator?.kill9();
      await a?.close();
      await evil.close();
      await Deno.remove(home, { recursive: true });
    }
  },
});

async function isRunning(process: SecmqttProcess): Promise<boolean> {
  const exited = await Promise.race([
    process.child.status.then(() => true),
    systemClock.sleep(10).then(() => false),
  ]);
  return !exited;
}
