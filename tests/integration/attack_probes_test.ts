/**
 * The probes of `attack --secure` (an account holder's and the wire's) against the embedded secure broker
 * and against Mosquitto with broker-config/mosquitto.secure.conf's hardening: each is blocked while the
 * legit sensor's messages are all acted on, except credential sniffing over plaintext MQTT, which only
 * TLS stops (checked through the same relay against a TLS listener).
 */

import assert from "node:assert/strict";
import { systemClock } from "../../core/clock.ts";
import { importDomainPem } from "../../crypto/dsa.ts";
import { importRsaPublicKeyPem } from "../../crypto/rsa.ts";
import { issueHomeTls } from "../../crypto/x509.ts";
import { Log, type LogRecord, memoryLogWriter } from "../../log/jsonl.ts";
import { SECURE_TOPIC } from "../../roles/door.ts";
import { settle, startSecureHome } from "../../roles/home.ts";
import { createAttackContext } from "../../roles/attacks/context.ts";
import {
  ATTACK_CATALOGUE,
  DEFAULT_SECURE_ATTACK,
  openBrokerStream,
  runSecureAttacks,
  SECURE_ATTACK_CLASSES,
  type SecureAttackClass,
  startRelay,
} from "../../roles/secure_attacker.ts";
import { homePaths } from "../../store/home.ts";
import { loadBrokerPolicy } from "../../auth/policy.ts";
import { startBroker } from "../../transport/broker.ts";
import { connectMqtt } from "../../transport/client.ts";
import {
  mosquittoAvailable,
  secureConfHardening,
  startMosquitto,
  type TestBroker,
} from "../../testkit/brokers.ts";
import { credential, makeTestHome } from "./secure_home.ts";

const ATTEMPTS = 3;
const PROBES = SECURE_ATTACK_CLASSES.filter((cls) => ATTACK_CATALOGUE[cls].level === "probe");
async function startHardened(
  kind: "embedded" | "mosquitto",
  dir: string,
  tls?: string[],
): Promise<TestBroker> {
  const paths = homePaths(dir);
  if (kind === "mosquitto") {
    return await startMosquitto([
      ...secureConfHardening(),
      `password_file ${paths.passwd}`,
      `acl_file ${paths.acl}`,
      "user root",
      ...(tls ?? []),
    ]);
  }
  const log = new Log(memoryLogWriter(), { role: "broker", run: "probes", clock: systemClock });
  const broker = await startBroker({ port: 0, log, policy: loadBrokerPolicy(paths.passwd, paths.acl) });
  return { kind, url: broker.url, port: broker.port, close: () => broker.close() };
}

/** Runs `classes` against the home on `brokerUrl` while the sensor publishes; a second sensor uses the relay. */
async function probeRun(dir: string, brokerUrl: string, classes: SecureAttackClass[], via: {
  relayTarget: number;
  deviceUrl: (relayPort: number) => string;
  ca?: string;
}) {
  const writer = memoryLogWriter();
  const log = new Log(writer, { role: "test", run: "probes", clock: systemClock });
  const home = await startSecureHome(
    { kind: "external", url: brokerUrl },
    { keysDir: dir, sensorId: "door-sensor-1", actuatorId: "door-actuator" },
    log,
    systemClock,
    { epochLength: 1 },
  );
  const relay = startRelay({ target: { hostname: "127.0.0.1", port: via.relayTarget } });
  const paths = homePaths(dir);
  const mallory = { username: "mallory", password: credential(dir, "mallory") };
  try {
    // A device of the home pointed at the relay (its own account, so it kicks no other device off).
    const tapped = await connectMqtt({
      url: via.deviceUrl(relay.port),
      ca: via.ca,
      username: "door-sensor-2",
      password: credential(dir, "door-sensor-2"),
      clientId: "door-sensor-2",
      reconnectPeriodMs: 0,
    });
    await tapped.close();
    const attackerT = await home.connect({ clientId: "mallory", ...mallory });
    const legit = home.runSensor(30, 25);
    const result = await runSecureAttacks({
      classes,
      attempts: ATTEMPTS,
      topic: SECURE_TOPIC,
      captureTimeoutMs: 5000,
      captureCount: 3,
      gapMs: 1,
      qos: 1,
      brokerUrl,
      victimUsername: "door-sensor-1",
      aclViolationTopic: "home/secure/window",
      crossTopic: `${SECURE_TOPIC}/garage`,
    }, {
      clock: systemClock,
      log: log.forRole("attacker"),
      transport: attackerT,
      connect: (o) => home.connect({ ...o, reconnectPeriodMs: 0, connectTimeoutMs: 2000 }),
      openStream: () => openBrokerStream(brokerUrl),
      relay,
      ownCredentials: mallory,
      actuatorPublicKey: await importRsaPublicKeyPem(Deno.readTextFileSync(paths.publicKey("door-actuator"))),
      dsaDomain: importDomainPem(Deno.readTextFileSync(paths.dsaParams)),
    });
    const { sent } = await legit;
    await settle(home.actuator, sent, 10_000, systemClock);
    // The backoff after all those guesses must not lock the real device out.
    const sensorAgain = await connectMqtt({
      url: brokerUrl,
      username: "door-sensor-1",
      password: credential(dir, "door-sensor-1"),
      clientId: "door-sensor-1-again",
      reconnectPeriodMs: 0,
    });
    await sensorAgain.close();
    await attackerT.close();
    return { records: writer.records, result, sent };
  } finally {
    await relay.close();
    await home.close();
  }
}

function outcomes(records: LogRecord[], cls: string) {
  return {
    refused: records.filter((r) => r.event === "attack_refused" && r.class === cls).map((r) => r.code),
    succeeded: records.filter((r) => r.event === "attack_succeeded" && r.class === cls),
  };
}

function assertLegitUnharmed(records: LogRecord[], sent: number) {
  const published = records.filter((r) => r.event === "published");
  const actions = records.filter((r) => r.role === "actuator" && r.event === "action");
  assert.equal(published.length, sent);
  for (const p of published) {
    assert.equal(actions.filter((a) => a.digest === p.digest).length, 1, `legit ${p.msg_id} acted on once`);
  }
  assert.equal(actions.length, sent, "nothing but the legit messages acted on");
}

for (const kind of ["embedded", "mosquitto"] as const) {
  Deno.test({
    name:
      `${kind}: every probe is blocked, except credential sniffing over plaintext; legit delivery unharmed`,
    ignore: kind === "mosquitto" && !mosquittoAvailable(),
    async fn() {
      const dir = await makeTestHome(undefined, ["door-sensor-1", "door-sensor-2"]);
      const broker = await startHardened(kind, dir);
      try {
        const { records, sent } = await probeRun(dir, broker.url, PROBES, {
          relayTarget: broker.port,
          deviceUrl: (port) => `mqtt://127.0.0.1:${port}`,
        });
        assertLegitUnharmed(records, sent);
        const takeover = outcomes(records, "client-id-takeover");
        assert.deepEqual(takeover.succeeded, []);
        // Embedded: refused at CONNECT (identifier rejected); Mosquitto: let in under her own name, handed nothing.
        assert.deepEqual(
          takeover.refused,
          Array(ATTEMPTS).fill(kind === "embedded" ? "CONNECT_REFUSED" : "NO_SESSION"),
        );
        const oversize = records.filter((r) =>
          r.class === "preauth-oversize" && r.event === "attack_refused"
        );
        assert.equal(oversize.length, ATTEMPTS);
        for (const r of oversize) {
          assert.equal(r.code, "CLOSED_BEFORE_LOGIN");
          assert.ok((r.bytes_written as number) < (r.declared_bytes as number));
        }
        assert.deepEqual(
          outcomes(records, "password-guessing").refused,
          Array(ATTEMPTS).fill("NOT_AUTHORIZED"),
        );
        assert.deepEqual(outcomes(records, "retained-poison").refused, Array(ATTEMPTS).fill("DISCONNECTED"));
        for (const cls of ["preauth-oversize", "password-guessing", "retained-poison"]) {
          assert.deepEqual(outcomes(records, cls).succeeded, [], cls);
        }
        // Plaintext MQTT through the relay: the second sensor's login was read.
        const sniff = outcomes(records, "credential-sniff");
        assert.deepEqual(sniff.refused, []);
        assert.equal(sniff.succeeded.length, ATTEMPTS);
        for (const r of sniff.succeeded) {
          assert.equal(r.username, "door-sensor-2");
          assert.equal(r.credentials_read, true);
          assert.equal(r.credential_bytes, credential(dir, "door-sensor-2").length);
        }
        // ...and never written down.
        const text = records.map((r) => JSON.stringify(r)).join("\n");
        for (const user of ["door-sensor-1", "door-sensor-2", "door-actuator"]) {
          assert.ok(!text.includes(credential(dir, user)), `password of ${user} not logged`);
        }
        const done = records.filter((r) =>
          r.event === "attack_class_done" && r.class === "password-guessing"
        );
        assert.equal(done.length, 1);
        assert.equal(done[0].attempts, ATTEMPTS);
      } finally {
        await broker.close();
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}

Deno.test({
  name: "mosquitto over TLS: the relay sees only ciphertext, so credential sniffing fails",
  ignore: !mosquittoAvailable(),
  async fn() {
    const dir = await makeTestHome(undefined, ["door-sensor-1", "door-sensor-2"]);
    const tls = await issueHomeTls({ homeName: "probes", brokerHosts: ["127.0.0.1"], nowMs: Date.now() });
    await Deno.writeTextFile(`${dir}/broker.crt`, tls.broker.certPem);
    await Deno.writeTextFile(`${dir}/broker.key`, tls.broker.keyPem, { mode: 0o600 });
    const broker = await startHardened("mosquitto", dir, [
      `certfile ${dir}/broker.crt`,
      `keyfile ${dir}/broker.key`,
    ]);
    try {
      const tapped = startRelay({ target: { hostname: "127.0.0.1", port: broker.port } });
      const device = await connectMqtt({
        url: `mqtts://127.0.0.1:${tapped.port}`,
        ca: tls.ca.certPem,
        username: "door-sensor-2",
        password: credential(dir, "door-sensor-2"),
        clientId: "door-sensor-2",
        reconnectPeriodMs: 0,
      });
      await device.publish("home/secure/door-sensor-2/hello", "over tls", { qos: 1 }).catch(() => {});
      await device.close();
      const seen = tapped.observations();
      await tapped.close();
      assert.ok(seen.length >= 1, "the device's connection went through the relay");
      for (const o of seen) {
        assert.equal(o.readable, false);
        assert.equal(o.password, undefined);
      }
      // The same class, judged by the attacker from that relay's view.
      const writer = memoryLogWriter();
      const log = new Log(writer, { role: "attacker", run: "tls", clock: systemClock });
      const ctx = createAttackContext(
        DEFAULT_SECURE_ATTACK,
        {
          clock: systemClock,
          log,
          transport: {
            publish: () => Promise.resolve(),
            subscribe: () => Promise.resolve(),
            onMessage: () => {},
          },
          connect: () => Promise.reject(new Error("not used")),
          relay: { observations: () => seen },
          ownCredentials: { username: "mallory", password: credential(dir, "mallory") },
          actuatorPublicKey: await importRsaPublicKeyPem(
            Deno.readTextFileSync(homePaths(dir).publicKey("door-actuator")),
          ),
        },
        [],
        () => Promise.resolve(),
      );
      const entry = ATTACK_CATALOGUE["credential-sniff"];
      assert.equal(entry.level, "probe");
      if (entry.level !== "probe") return;
      const outcome = await entry.build(ctx, "through-relay", 1).run();
      assert.deepEqual(outcome, {
        succeeded: false,
        code: "NOT_READABLE",
        fields: { connections: seen.length },
      });
    } finally {
      await broker.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
