/** The secure actuator's fair queue and alerts: a flooding publisher loses its own overflow, nobody waits. */

import assert from "node:assert/strict";
import { secureTopicFor } from "../../roles/door.ts";
import { fairActuator, tick } from "./fair_rig.ts";

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
