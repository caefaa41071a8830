/**
 * TLS on every secure hop, with the files keygen writes and nothing else: real Mosquitto started on the
 * home's own mosquitto.conf, and `secmqtt broker --secure --keys` as a process, each serve TLS that
 * verifies against the home's tls/ca.crt and refuse plaintext MQTT and clients that trust another CA;
 * the actuator and sensor processes work over mqtts:// with only --keys.
 */

import { secureTopicFor } from "../../roles/door.ts";
import assert from "node:assert/strict";
import tls from "node:tls";
import { systemClock } from "../../core/clock.ts";
import { issueHomeTls } from "../../crypto/x509.ts";
import { Log, memoryLogWriter } from "../../log/jsonl.ts";
import { homePaths } from "../../store/home.ts";
import { readBrokerTls } from "../../store/tls.ts";
import { loadBrokerPolicy } from "../../auth/policy.ts";
import { startBroker } from "../../transport/broker.ts";
import { connectMqtt, TransportError } from "../../transport/client.ts";
import { freePort, mosquittoAvailable, type TestBroker } from "../../testkit/brokers.ts";
import { readRecords, runSecmqtt, spawnSecmqtt, waitFor } from "./cli_process.ts";
import { credential, makeTestHome, startHomeMosquitto } from "./secure_home.ts";

const SENSOR_MESSAGES = 3;

/** The checks both brokers must pass, given a broker serving the home `dir` at `url` (mqtts://). */
async function assertHomeTls(url: string, dir: string): Promise<void> {
  const port = new URL(url).port;
  const ca = Deno.readTextFileSync(homePaths(dir).caCert);
  const login = { username: "door-sensor-1", password: credential(dir, "door-sensor-1") };

  // The home's CA verifies the broker, by IP address and by name (both are SANs keygen writes).
  for (const host of ["127.0.0.1", "localhost"]) {
    const client = await connectMqtt({ url: `mqtts://${host}:${port}`, ca, reconnectPeriodMs: 0, ...login });
    await client.publish(secureTopicFor("door-sensor-1"), "probe", { qos: 1 }); // the sensor's own topic
    await client.close();
  }

  // No CA (the system's CAs), another home's CA, plaintext MQTT to the TLS port: all refused.
  const stranger = await issueHomeTls({
    homeName: "stranger",
    brokerHosts: ["127.0.0.1"],
    nowMs: Date.now(),
  });
  for (
    const attempt of [
      { what: "system CAs", url },
      { what: "another home's CA", url, ca: stranger.ca.certPem },
      { what: "plaintext", url: `mqtt://127.0.0.1:${port}` },
    ]
  ) {
    await assert.rejects(
      connectMqtt({ ...attempt, ...login, reconnectPeriodMs: 0, connectTimeoutMs: 3000 }),
      (error: unknown) => error instanceof TransportError && error.code === "CONNECT_FAILED",
      attempt.what,
    );
  }

  // The roles as processes, with only --keys: credentials and the CA come from the home.
  const logDir = await Deno.makeTempDir({ prefix: "secmqtt-tls-logs-" });
  const actuatorLog = `${logDir}/actuator.jsonl`;
  const actuator = spawnSecmqtt([
    "actuator",
    "--secure",
    "--keys",
    dir,
    "--broker",
    url,
    "--log",
    actuatorLog,
  ]);
  try {
    await waitFor(
      () => readRecords(actuatorLog).some((r) => r.event === "role_started"),
      30_000,
      `actuator on ${url}: ${actuator.stderr()}`,
    );
    const sensor = await runSecmqtt([
      "sensor",
      "--secure",
      "--keys",
      dir,
      "--broker",
      url,
      "--count",
      String(SENSOR_MESSAGES),
      "--interval-ms",
      "50",
    ]);
    assert.equal(sensor.code, 0, sensor.stderr);
    await waitFor(
      () => readRecords(actuatorLog).filter((r) => r.event === "action").length === SENSOR_MESSAGES,
      30_000,
      `${SENSOR_MESSAGES} actions: ${actuator.stderr()}`,
    );
  } finally {
    await actuator.stop();
    await Deno.remove(logDir, { recursive: true });
  }
}

Deno.test({
  name:
    "mosquitto -c <home>/mosquitto.conf: TLS verified by tls/ca.crt, plaintext and strangers refused, roles work with only --keys",
  ignore: !mosquittoAvailable(),
  async fn() {
    const dir = await makeTestHome();
    let broker: (TestBroker & { output(): string }) | undefined;
    try {
      broker = await startHomeMosquitto(dir);
      await assertHomeTls(broker.url, dir);
    } finally {
      await broker?.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("broker --secure --keys: TLS verified by tls/ca.crt, plaintext and strangers refused, roles work with only --keys", async () => {
  const dir = await makeTestHome();
  const port = freePort();
  const brokerLog = `${dir}/broker.jsonl`;
  const broker = spawnSecmqtt([
    "broker",
    "--secure",
    "--keys",
    dir,
    "--port",
    String(port),
    "--log",
    brokerLog,
  ]);
  try {
    await waitFor(
      () => readRecords(brokerLog).some((r) => r.event === "broker_listening"),
      30_000,
      `broker listening: ${broker.stderr()}`,
    );
    // The log line can come before the stderr line is read: wait for it (bounded), then check it.
    const listening = new RegExp(`listening on mqtts://127\\.0\\.0\\.1:${port} \\(secure: TLS`);
    await waitFor(
      () => listening.test(broker.stderr()),
      30_000,
      `the broker's listening line: ${broker.stderr()}`,
    );
    assert.match(broker.stderr(), listening);
    await assertHomeTls(`mqtts://127.0.0.1:${port}`, dir);
    // The password and ACL of the home are enforced over TLS too.
    const denied = readRecords(brokerLog).filter((r) =>
      r.event === "acl_denied" || r.event === "auth_failed"
    );
    assert.equal(denied.length, 0, "the legit roles were never refused");
  } finally {
    await broker.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("broker --secure --keys refuses a wrong password and an ACL violation over TLS", async () => {
  const dir = await makeTestHome();
  const writer = memoryLogWriter();
  const log = new Log(writer, { role: "broker", run: "tls", clock: systemClock });
  const paths = homePaths(dir);
  const broker = await startBroker({
    port: 0,
    log,
    policy: loadBrokerPolicy(paths.passwd, paths.acl),
    tls: readBrokerTls(paths),
  });
  const ca = Deno.readTextFileSync(paths.caCert);
  try {
    assert.match(broker.url, /^mqtts:\/\//);
    await assert.rejects(
      connectMqtt({
        url: broker.url,
        ca,
        username: "door-sensor-1",
        password: "wrong",
        reconnectPeriodMs: 0,
      }),
      (error: unknown) => error instanceof TransportError && error.code === "NOT_AUTHORIZED",
    );
    const mallory = await connectMqtt({
      url: broker.url,
      ca,
      username: "mallory",
      password: credential(dir, "mallory"),
      reconnectPeriodMs: 0,
    });
    await mallory.publish("home/secure/window", "x", { qos: 0 }).catch(() => {});
    await waitFor(() => writer.records.some((r) => r.event === "acl_denied"), 10_000, "acl_denied");
    await mallory.close();
  } finally {
    await broker.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("over TLS, a CONNECT announcing 200 MiB is refused from its fixed header", async () => {
  const dir = await makeTestHome();
  const writer = memoryLogWriter();
  const log = new Log(writer, { role: "broker", run: "tls", clock: systemClock });
  const paths = homePaths(dir);
  const broker = await startBroker({
    port: 0,
    log,
    policy: loadBrokerPolicy(paths.passwd, paths.acl),
    tls: readBrokerTls(paths),
  });
  try {
    const socket = tls.connect({
      host: "127.0.0.1",
      port: broker.port,
      ca: Deno.readTextFileSync(paths.caCert),
    });
    const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
    socket.on("error", () => {});
    await new Promise<void>((resolve) => socket.once("secureConnect", () => resolve()));
    // CONNECT (0x10) with remaining length 200 MiB: varint 0x80 0x80 0x80 0x64.
    socket.write(new Uint8Array([0x10, 0x80, 0x80, 0x80, 0x64]));
    await closed;
    const denied = writer.records.find((r) => r.event === "broker_denied" && r.code === "PACKET_TOO_LARGE");
    assert.ok(denied, "broker_denied PACKET_TOO_LARGE logged");
    assert.equal(denied.declared_bytes, 200 * 1024 * 1024 + 5);
  } finally {
    await broker.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a connection that never starts its TLS handshake is closed by the connect timeout", async () => {
  const dir = await makeTestHome();
  const paths = homePaths(dir);
  const broker = await startBroker({
    port: 0,
    log: new Log(memoryLogWriter(), { role: "broker", run: "tls", clock: systemClock }),
    policy: loadBrokerPolicy(paths.passwd, paths.acl),
    tls: readBrokerTls(paths),
    limits: { connectTimeoutMs: 300 },
  });
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: broker.port });
    // Nothing sent: the broker must close it (read gives end of stream) rather than hold it forever.
    assert.equal(await conn.read(new Uint8Array(16)).catch(() => null), null);
    conn.close();
  } finally {
    await broker.close();
    await Deno.remove(dir, { recursive: true });
  }
});
