/** The secure actuator's fair queue and alerts: a flooding publisher loses its own overflow, nobody waits. */

import assert from "node:assert/strict";
import { setImmediate } from "node:timers";
import { FakeClock } from "../../core/clock.ts";
import { Log, memoryLogWriter } from "../../log/jsonl.ts";
import { type MessageOpener, startActuator, type Verdict } from "../../roles/actuator.ts";
import { encodeReading, makeReading, secureTopicFor } from "../../roles/door.ts";
import type { MessageHandler } from "../../transport/client.ts";

/** Lets the actuator run until it waits again: it may give I/O a turn (setImmediate) between messages. */
async function tick() {
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 0));
  }
}

/** An opener that judges one message per release, recording the order it was handed them in. */
function gatedOpener() {
  const gates: (() => void)[] = [];
  const order: string[] = [];
  const open: MessageOpener = async (topic, payload) => {
    order.push(topic);
    await new Promise<void>((release) => gates.push(release));
    const reading = JSON.parse(new TextDecoder().decode(payload));
    return reading.sensor_id === "mallory"
      ? { ok: false, code: "BAD_SIGNATURE", detail: "forged" }
      : { ok: true, reading } as Verdict;
  };
  return { open, order, releaseOne: () => gates.shift()?.() };
}

async function fairActuator(perKey: number, alerts = { threshold: 5, windowMs: 10_000, quietMs: 60_000 }) {
  const clock = new FakeClock();
  const writer = memoryLogWriter();
  let handler: MessageHandler | undefined;
  const opener = gatedOpener();
  const actuator = await startActuator(
    {
      topic: "home/secure/+/door",
      qos: 1,
      phase: "secure",
      fairQueue: { perKey, maxKeys: 16, maxTotal: 64 },
      maxPayloadBytes: 8192,
      alerts,
    },
    {
      clock,
      log: new Log(writer, { role: "actuator", run: "t", clock }),
      transport: { subscribe: () => Promise.resolve(), onMessage: (h) => void (handler = h) },
      open: opener.open,
    },
  );
  const deliver = (sender: string, n: number) =>
    handler!(secureTopicFor(sender), encodeReading(makeReading(sender, n, clock.now(), 20)));
  const raw = (topic: string, payload: Uint8Array) => handler!(topic, payload);
  return { actuator, writer, opener, deliver, raw };
}

Deno.test("a flooding publisher overflows only its own queue: OVERLOADED at once, nothing held back", async () => {
  const { actuator, writer, opener, deliver } = await fairActuator(4);
  const results = [];
  for (let n = 1; n <= 20; n++) results.push(deliver("mallory", n));
  results.push(deliver("door-sensor-1", 1));
  assert.ok(results.every((r) => r === undefined), "no message is held back on the connection");
  // 1 being judged + 4 waiting; the other 15 were refused on arrival.
  assert.equal(actuator.stats.byCode.OVERLOADED, 15);
  // The door sensor's message waits for at most one more of mallory's (whose key queued first), not for
  // all four.
  for (let i = 0; i < 2; i++) {
    opener.releaseOne();
    await tick();
  }
  const mallory = secureTopicFor("mallory");
  assert.deepEqual(opener.order, [mallory, mallory, secureTopicFor("door-sensor-1")]);
  opener.releaseOne();
  await tick();
  assert.equal(actuator.stats.acted, 1);
  const action = writer.records.find((r) => r.event === "action");
  assert.equal(action?.sensor_id, "door-sensor-1");
  for (let i = 0; i < 3; i++) {
    opener.releaseOne();
    await tick();
  }
  await actuator.idle();
  assert.equal(actuator.stats.rejected, 20);
});

Deno.test("one alert per episode names the publisher, its account and the codes", async () => {
  const { actuator, writer, opener, deliver } = await fairActuator(2, {
    threshold: 5,
    windowMs: 10_000,
    quietMs: 60_000,
  });
  for (let n = 1; n <= 30; n++) deliver("mallory", n);
  for (let i = 0; i < 3; i++) {
    opener.releaseOne();
    await tick();
  }
  await actuator.idle();
  const alerts = writer.records.filter((r) => r.event === "alert");
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0].publisher, secureTopicFor("mallory"));
  assert.equal(alerts[0].account, "mallory");
  assert.equal((alerts[0].codes as Record<string, number>).OVERLOADED, 5);
  assert.equal(actuator.stats.alerts, 1);
});

Deno.test("a payload over maxPayloadBytes is refused as MALFORMED before it is queued", async () => {
  const { actuator, opener, raw } = await fairActuator(4);
  raw(secureTopicFor("mallory"), new Uint8Array(8193));
  await tick();
  assert.equal(opener.order.length, 0, "never handed to the opener");
  assert.deepEqual(actuator.stats.byCode, { MALFORMED: 1 });
});
