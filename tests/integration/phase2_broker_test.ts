/**
 * Phase II at the broker, on the embedded broker and on real Mosquitto: keygen's password file is
 * accepted, anonymous clients and wrong passwords are refused, the ACL keeps a device to its topics,
 * and legit traffic through the secure home is acted on in full.
 */

import assert from "node:assert/strict";
import { systemClock } from "../../core/clock.ts";
import { SECURE_TOPIC } from "../../roles/door.ts";
import { settle } from "../../roles/home.ts";
import { connectMqtt, TransportError } from "../../transport/client.ts";
import { mosquittoAvailable } from "../../testkit/brokers.ts";
import { credential, makeTestHome, startSecureBroker, startTestSecureHome } from "./secure_home.ts";

for (const kind of ["embedded", "mosquitto"] as const) {
  const ignore = kind === "mosquitto" && !mosquittoAvailable();

  Deno.test({
    name: `${kind}: keygen's passwords are accepted; anonymous and wrong-password clients are refused`,
    ignore,
    async fn() {
      const dir = await makeTestHome();
      const broker = await startSecureBroker(kind, dir);
      try {
        const ok = await connectMqtt({
          url: broker.url,
          username: "door-sensor-1",
          password: credential(dir, "door-sensor-1"),
          reconnectPeriodMs: 0,
        });
        await ok.close();
        for (
          const creds of [{}, { username: "door-sensor-1", password: "wrong" }, {
            username: "nobody",
            password: "x",
          }]
        ) {
          await assert.rejects(
            connectMqtt({ url: broker.url, reconnectPeriodMs: 0, ...creds }),
            (e: unknown) => e instanceof TransportError && e.code === "NOT_AUTHORIZED",
            JSON.stringify(creds),
          );
        }
      } finally {
        await broker.close();
        await Deno.remove(dir, { recursive: true });
      }
    },
  });

  Deno.test({
    name:
      `${kind}: legit envelopes are all acted on, and a publish outside the ACL never reaches the actuator`,
    ignore,
    async fn() {
      const { dir, broker, writer, home } = await startTestSecureHome(kind, "p2");
      try {
        const { sent } = await home.runSensor(12, 20);
        // mallory may write every device topic, not home/secure/window; the sensor may write only its topic.
        const mallory = await home.connect({
          clientId: "mallory",
          username: "mallory",
          password: credential(dir, "mallory"),
        });
        await mallory.publish("home/secure/window", "not allowed", { qos: 0 }).catch(() => {});
        await mallory.close().catch(() => {});
        const sensorOther = await home.connect({
          clientId: "door-sensor-1-s2",
          username: "door-sensor-1",
          password: credential(dir, "door-sensor-1"),
        });
        await sensorOther.publish("home/secure/door/other", "not allowed either", { qos: 0 }).catch(() => {});
        await sensorOther.close().catch(() => {});
        await settle(home.actuator, sent, 5000, systemClock);
        await systemClock.sleep(150); // let anything the broker wrongly forwarded arrive
        await home.actuator.idle();
        const actions = writer.records.filter((r) => r.event === "action");
        assert.equal(actions.length, 12);
        assert.ok(actions.every((a) => a.topic === SECURE_TOPIC && a.phase === "secure"));
        assert.equal(
          writer.records.filter((r) => r.event === "rejected").length,
          0,
          "nothing outside the ACL was delivered",
        );
        assert.equal(home.actuator.stats.received, 12);
      } finally {
        await home.close();
        await broker.close();
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}
