/**
 * The connection policy with real processes: a sensor started before its broker waits for it and then
 * delivers; a sensor whose broker was killed ends on SIGINT with its log closed; an outage is logged once as
 * `disconnected` and once as `reconnected`. Waits are bounded hang guards, never asserted figures.
 */

import assert from "node:assert/strict";
import { freePort } from "../../testkit/brokers.ts";
import { readRecords, spawnSecmqtt, waitFor } from "./cli_process.ts";
import { withTempDir } from "../../testkit/temp_dir.ts";

const TEMP_PREFIX = "secmqtt-conn-";

function startBroker(port: number, log: string) {
  return spawnSecmqtt(["broker", "--port", String(port), "--log", log]);
}

/** An insecure sensor for the broker on `port`, which need not be up yet; without `count` it runs until stopped. */
function startSensor(port: number, log: string, intervalMs: number, count?: number) {
  return spawnSecmqtt([
    "sensor",
    "--broker",
    `mqtt://127.0.0.1:${port}`,
    "--interval-ms",
    String(intervalMs),
    "--log",
    log,
    ...(count === undefined ? [] : ["--count", String(count)]),
  ]);
}

/** Waits (a hang guard) until `log` holds an `event` record. */
function waitForEvent(log: string, event: string, what: string): Promise<void> {
  return waitFor(() => readRecords(log).some((r) => r.event === event), 30_000, what);
}

Deno.test("a sensor started before its broker waits for it, says so, and delivers once it is up", async () => {
  await withTempDir(TEMP_PREFIX, async (dir) => {
    const port = freePort();
    const sensorLog = `${dir}/sensor.jsonl`;
    const sensor = startSensor(port, sensorLog, 50, 2);
    let broker;
    try {
      await waitFor(() => /retrying in/.test(sensor.stderr()), 20_000, "the sensor to say it is waiting");
      broker = startBroker(port, `${dir}/broker.jsonl`);
      const status = await sensor.child.status;
      assert.equal(status.code, 0, sensor.stderr());
      assert.equal(readRecords(sensorLog).filter((r) => r.event === "published").length, 2);
    } finally {
      await sensor.kill9();
      await broker?.kill9();
    }
  });
});

/**
 * A broker and a sensor publishing to it every 100 ms; once the sensor has published twice, the broker is
 * killed and the sensor has logged the outage.
 */
async function publishThenLoseBroker(dir: string) {
  const port = freePort();
  const broker = startBroker(port, `${dir}/broker.jsonl`);
  const sensorLog = `${dir}/sensor.jsonl`;
  const sensor = startSensor(port, sensorLog, 100);
  try {
    await waitFor(
      () => readRecords(sensorLog).filter((r) => r.event === "published").length >= 2,
      30_000,
      "the sensor to publish",
    );
    await broker.kill9();
    await waitForEvent(sensorLog, "disconnected", "the sensor to log the outage");
  } catch (error) {
    await sensor.kill9();
    await broker.kill9();
    throw error;
  }
  return { port, broker, sensor, sensorLog };
}

Deno.test("a sensor whose broker was killed ends on SIGINT, logs the outage and closes its log", async () => {
  await withTempDir(TEMP_PREFIX, async (dir) => {
    const { broker, sensor, sensorLog } = await publishThenLoseBroker(dir);
    try {
      sensor.child.kill("SIGINT");
      const status = await sensor.child.status;
      assert.equal(status.code, 0, sensor.stderr());
      assert.match(sensor.stderr(), /lost the broker/);
      const records = readRecords(sensorLog);
      assert.equal(records.filter((r) => r.event === "disconnected").length, 1, "one notice per outage");
      const stopped = records.find((r) => r.event === "role_stopped");
      assert.equal(stopped?.reason, "signal", "the log was written to the end");
    } finally {
      await sensor.kill9();
      await broker.kill9();
    }
  });
});

Deno.test("an outage is logged once as disconnected and once as reconnected, and delivery goes on", async () => {
  await withTempDir(TEMP_PREFIX, async (dir) => {
    const lost = await publishThenLoseBroker(dir);
    const { sensor, sensorLog, port } = lost;
    let broker = lost.broker;
    const published = () => readRecords(sensorLog).filter((r) => r.event === "published").length;
    try {
      broker = startBroker(port, `${dir}/broker2.jsonl`);
      await waitForEvent(sensorLog, "reconnected", "the reconnect");
      const before = published();
      await waitFor(() => published() > before, 30_000, "delivery after the outage");
      const reconnected = readRecords(sensorLog).filter((r) => r.event === "reconnected");
      assert.equal(reconnected.length, 1);
      assert.ok((reconnected[0].outage_ms as number) > 0);
      assert.match(sensor.stderr(), /reconnected to mqtt:\/\/127\.0\.0\.1/);
    } finally {
      await sensor.stop();
      await broker.kill9();
    }
  });
});
