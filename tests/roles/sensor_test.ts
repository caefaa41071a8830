/** The sensor loop under a fake clock: count, interval and log lines, without sleeping. */

import assert from "node:assert/strict";
import { FakeClock } from "../../core/clock.ts";
import { Log, memoryLogWriter } from "../../log/jsonl.ts";
import { decodeReading } from "../../roles/door.ts";
import { memoryCounter, plaintextSealer, runSensor } from "../../roles/sensor.ts";

Deno.test("the sensor publishes `count` readings, one interval apart, and logs each with its digest", async () => {
  const clock = new FakeClock(1_700_000_000_000);
  const writer = memoryLogWriter();
  const sent: { topic: string; payload: Uint8Array; at: number }[] = [];
  const transport = {
    publish: (topic: string, payload: Uint8Array | string) => {
      sent.push({ topic, payload: payload as Uint8Array, at: clock.now() });
      return Promise.resolve();
    },
  };
  const running = runSensor(
    { sensorId: "door-1", topic: "home/door", intervalMs: 2000, count: 3, qos: 1, phase: "insecure" },
    {
      clock,
      log: new Log(writer, { role: "sensor", run: "t", clock }),
      transport,
      seal: plaintextSealer,
      nextCounter: memoryCounter(),
      random: () => 0.5,
    },
  );
  while (sent.length < 3) {
    await new Promise((r) => setTimeout(r, 0));
    if (clock.pendingSleeps > 0) clock.advance(2000);
  }
  assert.deepEqual(await running, { sent: 3 });
  assert.deepEqual(sent.map((s) => s.at - 1_700_000_000_000), [0, 2000, 4000]);
  const readings = sent.map((s) => decodeReading(s.payload));
  assert.ok(readings.every((r) => r.ok));
  assert.deepEqual(readings.map((r) => r.ok && r.reading.event), ["open", "closed", "open"]);
  assert.deepEqual(readings.map((r) => r.ok && r.reading.counter), [1, 2, 3]);
  const published = writer.records.filter((r) => r.event === "published");
  assert.equal(published.length, 3);
  assert.ok(published.every((p) => typeof p.digest === "string" && (p.digest as string).length === 16));
});

Deno.test("an aborted sensor stops after the message in progress, without waiting out its interval", async () => {
  const clock = new FakeClock();
  const controller = new AbortController();
  let published = 0;
  const transport = {
    publish: () => {
      published++;
      controller.abort(); // SIGINT arrives while the first message is being published
      return Promise.resolve();
    },
  };
  const result = await runSensor(
    { sensorId: "door-1", topic: "home/door", intervalMs: 60_000, qos: 0, phase: "insecure" },
    {
      clock,
      log: new Log(memoryLogWriter(), { role: "sensor", run: "t", clock }),
      transport,
      seal: plaintextSealer,
      nextCounter: memoryCounter(),
      signal: controller.signal,
    },
  );
  assert.deepEqual(result, { sent: 1 });
  assert.equal(published, 1);
  assert.equal(clock.pendingSleeps, 0);
});

Deno.test("a signal ends the sensor while a publish waits for a broker that never answers", async () => {
  const clock = new FakeClock(1_700_000_000_000);
  const writer = memoryLogWriter();
  const controller = new AbortController();
  let attempts = 0;
  const transport = {
    publish: () => {
      attempts++;
      return new Promise<void>(() => {}); // a dead broker: no PUBACK, ever
    },
  };
  const running = runSensor(
    { sensorId: "door-1", topic: "home/door", intervalMs: 2000, qos: 1, phase: "insecure" },
    {
      clock,
      log: new Log(writer, { role: "sensor", run: "t", clock }),
      transport,
      seal: plaintextSealer,
      nextCounter: memoryCounter(),
      signal: controller.signal,
    },
  );
  while (attempts === 0) await new Promise((r) => setTimeout(r, 0));
  controller.abort();
  assert.deepEqual(await running, { sent: 0 }, "the unconfirmed message is not counted");
  assert.equal(writer.records.filter((r) => r.event === "published").length, 0);
  const stopped = writer.records.find((r) => r.event === "role_stopped");
  assert.equal(stopped?.reason, "signal");
});
