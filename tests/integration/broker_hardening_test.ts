/**
 * An attacker with a broker account of her own (keygen --attacker mallory), on the embedded broker and
 * on real Mosquitto started with broker-config/mosquitto.secure.conf's hardening: she cannot take over
 * the actuator's client id and persistent session, and she cannot leave a retained message on a secure
 * topic for the actuator's account to receive.
 */

import assert from "node:assert/strict";
import { systemClock } from "../../core/clock.ts";
import { Log, type LogRecord, memoryLogWriter } from "../../log/jsonl.ts";
import { SECURE_TOPIC } from "../../roles/door.ts";
import { settle, startSecureHome } from "../../roles/home.ts";
import { homePaths } from "../../store/home.ts";
import { loadBrokerPolicy } from "../../auth/policy.ts";
import { startBroker } from "../../transport/broker.ts";
import { connectMqtt, type MqttTransport, TransportError } from "../../transport/client.ts";
import {
  mosquittoAvailable,
  secureConfHardening,
  startMosquitto,
  type TestBroker,
} from "../../testkit/brokers.ts";
import { credential, makeTestHome } from "./secure_home.ts";

const TAKEOVER_ATTEMPTS = 12;
/** How long the 40 legit messages may take at most before the run counts as broken (not a timing claim). */
const LEGIT_RUN_DEADLINE_MS = 60_000;
/** The home's secure broker; for the embedded one, its log records too. */
async function startHardenedBroker(
  kind: "embedded" | "mosquitto",
  dir: string,
): Promise<TestBroker & { records?: LogRecord[] }> {
  const paths = homePaths(dir);
  if (kind === "mosquitto") {
    const hardening = secureConfHardening();
    assert.ok(hardening.includes("use_username_as_clientid true"));
    assert.ok(hardening.includes("retain_available false"));
    return await startMosquitto([
      ...hardening,
      `password_file ${paths.passwd}`,
      `acl_file ${paths.acl}`,
      "user root", // started as root, Mosquitto would switch to a user that cannot read a 0700 home
    ]);
  }
  const writer = memoryLogWriter();
  const log = new Log(writer, { role: "broker", run: "hardening", clock: systemClock });
  const broker = await startBroker({ port: 0, log, policy: loadBrokerPolicy(paths.passwd, paths.acl) });
  return {
    kind,
    url: broker.url,
    port: broker.port,
    close: () => broker.close(),
    records: writer.records,
  };
}

function malloryLogin(dir: string) {
  return { username: "mallory", password: credential(dir, "mallory") };
}

for (const kind of ["embedded", "mosquitto"] as const) {
  const ignore = kind === "mosquitto" && !mosquittoAvailable();

  Deno.test({
    name:
      `${kind}: while mallory keeps connecting with the actuator's client id and a persistent session, every legit message is acted on and she receives nothing`,
    ignore,
    async fn() {
      const dir = await makeTestHome();
      const broker = await startHardenedBroker(kind, dir);
      const writer = memoryLogWriter();
      const log = new Log(writer, { role: "test", run: "takeover", clock: systemClock });
      const home = await startSecureHome(
        { kind: "external", url: broker.url },
        { keysDir: dir, sensorId: "door-sensor-1", actuatorId: "door-actuator" },
        log,
        systemClock,
        { epochLength: 1 },
      );
      try {
        const legit = home.runSensor(40, 25);
        let stolen = 0;
        const refusals: string[] = [];
        for (let i = 0; i < TAKEOVER_ATTEMPTS; i++) {
          let mallory: MqttTransport;
          try {
            mallory = await connectMqtt({
              url: broker.url,
              clientId: "door-actuator",
              clean: false,
              reconnectPeriodMs: 0,
              ...malloryLogin(dir),
            });
          } catch (error) {
            refusals.push(error instanceof TransportError ? error.code : String(error));
            continue;
          }
          // Accepted (Mosquitto, under her own username as client id): the actuator's session must not
          // be hers, so nothing may arrive without a subscription of her own.
          mallory.onMessage(() => void stolen++);
          await systemClock.sleep(50);
          await mallory.close();
        }
        // Without the defence the two sessions fight and the run may never finish: bound the wait.
        const finished = await Promise.race([
          legit,
          systemClock.sleep(LEGIT_RUN_DEADLINE_MS).then(() => undefined),
        ]);
        assert.ok(finished, "the legit sensor run finished");
        const { sent } = finished;
        const settled = await Promise.race([
          settle(home.actuator, sent, 10_000, systemClock).then(() => true),
          systemClock.sleep(LEGIT_RUN_DEADLINE_MS).then(() => false),
        ]);
        assert.ok(settled, "the actuator settled");
        const actions = writer.records.filter((r) => r.event === "action");
        const published = writer.records.filter((r) => r.event === "published");
        assert.equal(published.length, sent);
        assert.equal(actions.length, sent, "every legit message acted on");
        for (const p of published) {
          assert.equal(actions.filter((a) => a.digest === p.digest).length, 1, `${p.msg_id} acted on once`);
        }
        assert.equal(stolen, 0, "mallory received nothing");
        if (kind === "embedded") {
          assert.deepEqual(refusals, Array(TAKEOVER_ATTEMPTS).fill("CONNECT_REFUSED"));
          const denied = broker.records!.filter((r) => r.event === "broker_denied");
          assert.equal(denied.length, TAKEOVER_ATTEMPTS);
          for (const d of denied) {
            assert.equal(d.code, "CLIENT_ID_NOT_OWNED");
            assert.equal(d.username, "mallory");
            assert.equal(d.client_id, "door-actuator");
            assert.equal(d.owner, "door-actuator");
          }
          // The actuator was never kicked off: one connection for its whole run.
          assert.equal(
            broker.records!.filter((r) => r.event === "client_connected" && r.client_id === "door-actuator")
              .length,
            1,
          );
        } else {
          assert.deepEqual(refusals, [], "Mosquitto lets her in, under her own username as client id");
        }
      } finally {
        await home.close();
        await broker.close();
        await Deno.remove(dir, { recursive: true });
      }
    },
  });

  Deno.test({
    name:
      `${kind}: a retained message from mallory on a secure topic never reaches a new actuator subscription`,
    ignore,
    async fn() {
      const dir = await makeTestHome();
      const broker = await startHardenedBroker(kind, dir);
      try {
        const mallory = await connectMqtt({
          url: broker.url,
          clientId: "mallory",
          reconnectPeriodMs: 0,
          ...malloryLogin(dir),
        });
        const closed = new Promise<"closed">((r) => mallory.onState((s) => s === "closed" && r("closed")));
        await mallory.publish(SECURE_TOPIC, "poison", { qos: 0, retain: true }).catch(() => {});
        // Either the broker drops her for it, or a later publish on the same connection is acknowledged,
        // which proves the retained one was handled first.
        const outcome = await Promise.race([
          closed,
          mallory.publish(`${SECURE_TOPIC}/after`, "after", { qos: 1 }).then(() => "acked", () => "failed"),
        ]);
        await mallory.close();
        assert.equal(outcome, "closed", "the broker disconnects a client that publishes a retained message");

        const probe = await connectMqtt({
          url: broker.url,
          clientId: "door-actuator-probe",
          username: "door-actuator",
          password: credential(dir, "door-actuator"),
          reconnectPeriodMs: 0,
        });
        const received: string[] = [];
        probe.onMessage((_t, payload) => void received.push(new TextDecoder().decode(payload)));
        await probe.subscribe("home/secure/#", { qos: 1 });
        // A retained message is sent on subscribe, before anything published after it: once the control
        // message is here, a retained one would have been too.
        const sensor = await connectMqtt({
          url: broker.url,
          clientId: "door-sensor-1",
          username: "door-sensor-1",
          password: credential(dir, "door-sensor-1"),
          reconnectPeriodMs: 0,
        });
        await sensor.publish(SECURE_TOPIC, "control", { qos: 1 });
        await sensor.close();
        const deadline = Date.now() + 10_000;
        while (!received.includes("control") && Date.now() < deadline) await systemClock.sleep(10);
        await probe.close();
        assert.deepEqual(received, ["control"]);
        if (kind === "embedded") {
          const denied = broker.records!.filter((r) => r.event === "broker_denied");
          assert.deepEqual(denied.map((r) => [r.code, r.username, r.topic]), [
            ["RETAIN_REFUSED", "mallory", SECURE_TOPIC],
          ]);
        }
      } finally {
        await broker.close();
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}
