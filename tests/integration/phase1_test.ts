/**
 * Phase I over real TCP: the plaintext home falls to every attack, proven from the victim's own log,
 * on the embedded broker and on real Mosquitto.
 */

import assert from "node:assert/strict";
import { systemClock } from "../../core/clock.ts";
import { Log, type LogRecord, memoryLogWriter } from "../../log/jsonl.ts";
import { plaintextOpener, startActuator } from "../../roles/actuator.ts";
import { DEFAULT_INSECURE_ATTACK, runInsecureAttacks } from "../../roles/attacker.ts";
import { INSECURE_TOPIC } from "../../roles/door.ts";
import { memoryCounter, plaintextSealer, runSensor } from "../../roles/sensor.ts";
import { connectMqtt } from "../../transport/client.ts";
import { mosquittoAvailable, startEmbedded, startMosquitto, type TestBroker } from "../../testkit/brokers.ts";

async function waitUntil(check: () => boolean, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function phaseOneRun(broker: TestBroker) {
  const writer = memoryLogWriter();
  const log = new Log(writer, { role: "test", run: "p1", clock: systemClock });
  const actuatorT = await connectMqtt({ url: broker.url, clientId: "actuator" });
  const sensorT = await connectMqtt({ url: broker.url, clientId: "sensor" });
  const attackerT = await connectMqtt({ url: broker.url, clientId: "attacker" });
  const actuator = await startActuator({ topic: INSECURE_TOPIC, qos: 1, phase: "insecure" }, {
    clock: systemClock,
    log: log.forRole("actuator"),
    transport: actuatorT,
    open: plaintextOpener,
  });
  const sensorRun = runSensor(
    {
      sensorId: "door-sensor-1",
      topic: INSECURE_TOPIC,
      intervalMs: 40,
      count: 15,
      qos: 1,
      phase: "insecure",
    },
    {
      clock: systemClock,
      log: log.forRole("sensor"),
      transport: sensorT,
      seal: plaintextSealer,
      nextCounter: memoryCounter(),
    },
  );
  await runInsecureAttacks({ ...DEFAULT_INSECURE_ATTACK, attempts: 3, gapMs: 10 }, {
    clock: systemClock,
    log: log.forRole("attacker"),
    transport: attackerT,
  });
  await sensorRun;
  const expected = 15 + 3 * 3;
  await waitUntil(() => actuator.stats.received >= expected);
  await actuator.idle();
  await Promise.all([actuatorT.close(), sensorT.close(), attackerT.close()]);
  return writer.records;
}

function actedOn(records: LogRecord[], digest: string) {
  return records.filter((r) => r.role === "actuator" && r.event === "action" && r.digest === digest).length;
}

function assertEveryAttackSucceeded(records: LogRecord[]) {
  const sent = records.filter((r) => r.event === "attack_sent");
  const published = new Map<string, number>();
  for (const r of records.filter((r) => r.event === "published")) {
    published.set(r.digest as string, (published.get(r.digest as string) ?? 0) + 1);
  }
  for (const cls of ["inject", "replay", "tamper"]) {
    const ofClass = sent.filter((r) => r.class === cls);
    assert.equal(ofClass.length, 3, `${cls}: 3 attempts`);
    for (const attack of ofClass) {
      const digest = attack.digest as string;
      const legit = published.get(digest) ?? 0;
      const sameDigestAttacks = ofClass.filter((a) => a.digest === digest).length;
      assert.equal(
        actedOn(records, digest),
        legit + sameDigestAttacks,
        `${cls} ${attack.attack_id} acted on by the victim`,
      );
    }
  }
  const legitPublished = records.filter((r) => r.event === "published");
  for (const p of legitPublished) {
    assert.ok(actedOn(records, p.digest as string) >= 1, `legit ${p.msg_id} acted on`);
  }
  const captured = records.filter((r) => r.event === "captured" && r.topic === INSECURE_TOPIC);
  assert.ok(captured.length >= 1);
  for (const c of captured) {
    assert.equal(c.readable, true);
    const fields = c.fields as Record<string, unknown>;
    for (const name of ["sensor_id", "event", "timestamp", "counter", "temperature", "status", "msg_id"]) {
      assert.ok(name in fields, `eavesdropper read ${name}`);
    }
  }
}

Deno.test("Phase I on the embedded broker: inject, replay and tamper are acted on; eavesdrop reads every field", async () => {
  const broker = await startEmbedded();
  try {
    assertEveryAttackSucceeded(await phaseOneRun(broker));
  } finally {
    await broker.close();
  }
});

Deno.test({
  name: "Phase I on real Mosquitto: inject, replay and tamper are acted on; eavesdrop reads every field",
  ignore: !mosquittoAvailable(),
  async fn() {
    const broker = await startMosquitto();
    try {
      assertEveryAttackSucceeded(await phaseOneRun(broker));
    } finally {
      await broker.close();
    }
  },
});

for (const kind of ["embedded", "mosquitto"] as const) {
  Deno.test({
    name:
      `the Phase I actuator on ${kind} rejects not-JSON, wrong types and 1 MB of garbage with a code and keeps serving`,
    ignore: kind === "mosquitto" && !mosquittoAvailable(),
    async fn() {
      const broker = kind === "embedded" ? await startEmbedded() : await startMosquitto();
      const writer = memoryLogWriter();
      const log = new Log(writer, { role: "actuator", run: "m", clock: systemClock });
      const actuatorT = await connectMqtt({ url: broker.url });
      const evil = await connectMqtt({ url: broker.url });
      try {
        const actuator = await startActuator({ topic: INSECURE_TOPIC, qos: 1, phase: "insecure" }, {
          clock: systemClock,
          log,
          transport: actuatorT,
          open: plaintextOpener,
        });
        const garbage = crypto.getRandomValues(new Uint8Array(65536));
        const big = new Uint8Array(1024 * 1024);
        for (let i = 0; i < big.length; i += garbage.length) {
          big.set(garbage.subarray(0, Math.min(garbage.length, big.length - i)), i);
        }
        await evil.publish(INSECURE_TOPIC, "this is not json");
        await evil.publish(INSECURE_TOPIC, JSON.stringify({ sensor_id: 7, event: "open" }));
        await evil.publish(INSECURE_TOPIC, big);
        await evil.publish(INSECURE_TOPIC, new Uint8Array([0xff, 0xfe, 0x7b]));
        await evil.publish(
          INSECURE_TOPIC,
          JSON.stringify({
            sensor_id: "s",
            event: "open",
            timestamp: Date.now(),
            counter: 1,
            temperature: 20,
            status: "ok",
            msg_id: "after",
          }),
        );
        await waitUntil(() => actuator.stats.received >= 5, 10_000);
        await actuator.idle();
        const rejected = writer.records.filter((r) => r.event === "rejected").map((r) => r.code);
        assert.deepEqual(rejected, ["MALFORMED", "MALFORMED", "OVERSIZE", "MALFORMED"]);
        const actions = writer.records.filter((r) => r.event === "action");
        assert.equal(actions.length, 1);
        assert.equal(actions[0].msg_id, "after");
      } finally {
        await Promise.all([actuatorT.close(), evil.close()]);
        await broker.close();
      }
    },
  });
}
