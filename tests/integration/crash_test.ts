/**
 * Crash safety with real processes: kill -9 of the secure actuator mid-stream (no replay accepted after
 * restart, no legit message falsely rejected), kill -9 of the secure sensor (its next messages are
 * accepted), and a corrupt replay database (the actuator refuses to start and leaves the file alone).
 */

import assert from "node:assert/strict";
import { systemClock } from "../../core/clock.ts";
import { Log, memoryLogWriter } from "../../log/jsonl.ts";
import { SECURE_TOPIC } from "../../roles/door.ts";
import { homePaths } from "../../store/home.ts";
import { readRecords, runSecmqtt, spawnSecmqtt, waitFor } from "./cli_process.ts";
import { mosquittoAvailable } from "../../testkit/brokers.ts";
import { credential, makeTestHome, startSecureBroker } from "./secure_home.ts";
import { connectMqtt } from "../../transport/client.ts";
import { secureSealer } from "../../roles/secure_sensor.ts";
import { runSensor } from "../../roles/sensor.ts";
import { importSigningKeyPem } from "../../crypto/signature.ts";
import { importRsaPublicKeyPem } from "../../crypto/rsa.ts";
import { SUITE_DSA } from "../../crypto/envelope.ts";
import { CounterStore } from "../../store/counter.ts";

function actuatorArgs(dir: string, url: string, logPath: string) {
  return ["actuator", "--secure", "--keys", dir, "--broker", url, "--log", logPath];
}

for (const kind of ["embedded", "mosquitto"] as const) {
  Deno.test({
    name:
      `${kind}: kill -9 of the actuator mid-stream: after restart no replay is accepted and no legit message is falsely rejected`,
    ignore: kind === "mosquitto" && !mosquittoAvailable(),
    async fn() {
      const dir = await makeTestHome();
      const broker = await startSecureBroker(kind, dir);
      const logPath = `${dir}/actuator.jsonl`;
      const paths = homePaths(dir);
      const writer = memoryLogWriter();
      const log = new Log(writer, { role: "sensor", run: "crash", clock: systemClock });
      // A wiretap with the attacker's credentials records every envelope, to replay them all at the end.
      const tap = await connectMqtt({
        url: broker.url,
        clientId: "mallory-tap",
        username: "mallory",
        password: credential(dir, "mallory"),
      });
      const wire: Uint8Array[] = [];
      tap.onMessage((_t, p) => wire.push(p));
      await tap.subscribe(SECURE_TOPIC);
      const sensorT = await connectMqtt({
        url: broker.url,
        clientId: "door-sensor-1",
        username: "door-sensor-1",
        password: credential(dir, "door-sensor-1"),
      });
      const counter = CounterStore.open(paths.counter("door-sensor-1"));
      let actuator = spawnSecmqtt(actuatorArgs(dir, broker.url, logPath));
      try {
        await waitFor(
          () => readRecords(logPath).some((r) => r.event === "role_started"),
          15_000,
          "actuator start",
        );
        const seal = secureSealer({
          topic: SECURE_TOPIC,
          sensorId: "door-sensor-1",
          suite: SUITE_DSA,
          signingKey: await importSigningKeyPem(
            "dsa-2048",
            Deno.readTextFileSync(paths.privateKey("door-sensor-1")),
          ),
          recipientPublicKey: await importRsaPublicKeyPem(
            Deno.readTextFileSync(paths.publicKey("door-actuator")),
          ),
          epochLength: 1,
        });
        const sending = runSensor(
          {
            sensorId: "door-sensor-1",
            topic: SECURE_TOPIC,
            intervalMs: 30,
            count: 40,
            qos: 1,
            phase: "secure",
          },
          { clock: systemClock, log, transport: sensorT, seal, nextCounter: () => counter.next() },
        );
        await waitFor(
          () => readRecords(logPath).filter((r) => r.event === "action").length >= 10,
          15_000,
          "10 actions",
        );
        await actuator.kill9();
        actuator = spawnSecmqtt(actuatorArgs(dir, broker.url, logPath));
        await sending;
        const published = writer.records.filter((r) => r.event === "published");
        const handled = () =>
          readRecords(logPath).filter((r) => ["action", "rejected", "duplicate"].includes(r.event as string))
            .length;
        await waitFor(() => handled() >= published.length - 2, 20_000, "the restarted actuator to catch up");

        // Replay everything ever seen on the wire.
        const replayer = await connectMqtt({
          url: broker.url,
          clientId: "mallory-replayer",
          username: "mallory",
          password: credential(dir, "mallory"),
        });
        const recorded = wire.slice(); // the tap also hears the replays: replay only what it recorded
        for (const envelope of recorded) await replayer.publish(SECURE_TOPIC, envelope);
        await replayer.close();
        await waitFor(() => handled() >= published.length - 2 + recorded.length, 20_000, "replays handled");
        await actuator.stop();

        const records = readRecords(logPath);
        const actions = records.filter((r) => r.event === "action");
        const actedDigests = actions.map((r) => r.digest);
        assert.equal(
          new Set(actedDigests).size,
          actedDigests.length,
          "no message acted on twice: every replay refused",
        );
        const legit = new Set(published.map((r) => r.digest));
        assert.ok(actions.every((a) => legit.has(a.digest)));
        // Only the message(s) in flight at the kill may be lost (acknowledged to the broker, not yet acted on).
        assert.ok(
          actions.length >= published.length - 2,
          `acted on ${actions.length} of ${published.length}`,
        );
        // A legit message is never refused before it was first acted on (no false REPLAY after restart).
        for (const r of records.filter((r) => r.event === "rejected")) {
          const firstAction = actions.find((a) => a.digest === r.digest);
          if (firstAction) {
            assert.ok(
              (r.ts as number) > (firstAction.ts as number),
              `rejection of ${r.digest} follows its action`,
            );
          }
          assert.equal(r.code, "REPLAY");
        }
      } finally {
        await actuator.kill9();
        counter.close();
        await Promise.all([tap.close(), sensorT.close()]);
        await broker.close();
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}

Deno.test("kill -9 of the sensor, then restart: its next messages are accepted", async () => {
  const dir = await makeTestHome();
  const broker = await startSecureBroker("embedded", dir);
  const actuatorLog = `${dir}/actuator.jsonl`;
  const sensorLog = `${dir}/sensor.jsonl`;
  const actuator = spawnSecmqtt(actuatorArgs(dir, broker.url, actuatorLog));
  try {
    await waitFor(
      () => readRecords(actuatorLog).some((r) => r.event === "role_started"),
      15_000,
      "actuator start",
    );
    const sensorArgs = [
      "sensor",
      "--secure",
      "--keys",
      dir,
      "--broker",
      broker.url,
      "--log",
      sensorLog,
      "--interval-ms",
      "20",
    ];
    const first = spawnSecmqtt([...sensorArgs, "--count", "1000"]);
    await waitFor(
      () => readRecords(sensorLog).filter((r) => r.event === "published").length >= 8,
      15_000,
      "8 published",
    );
    await first.kill9();
    const before = readRecords(sensorLog).filter((r) => r.event === "published");
    const highest = Math.max(...before.map((r) => r.counter as number));
    const second = await runSecmqtt([...sensorArgs, "--count", "5"]);
    assert.equal(second.code, 0, second.stderr);
    const after = readRecords(sensorLog).filter((r) => r.event === "published").slice(before.length);
    assert.equal(after.length, 5);
    assert.ok(after.every((r) => (r.counter as number) > highest), "the restarted sensor skips forward");
    await waitFor(
      () =>
        after.every((p) =>
          readRecords(actuatorLog).some((a) => a.event === "action" && a.digest === p.digest)
        ),
      10_000,
      "the restarted sensor's messages to be acted on",
    );
    assert.equal(readRecords(actuatorLog).filter((r) => r.event === "rejected").length, 0);
  } finally {
    await actuator.stop();
    await broker.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a corrupt replay database: the actuator exits non-zero with one clear line and leaves the file untouched", async () => {
  const dir = await makeTestHome();
  const state = `${dir}/corrupt.sqlite`;
  const garbage = crypto.getRandomValues(new Uint8Array(8192));
  garbage.set(new TextEncoder().encode("SQLite format 3\0"));
  await Deno.writeFile(state, garbage);
  const { code, stderr } = await runSecmqtt([
    "actuator",
    "--secure",
    "--keys",
    dir,
    "--state",
    state,
    "--broker",
    "mqtt://127.0.0.1:1",
  ]);
  assert.notEqual(code, 0);
  assert.equal(stderr.trim().split("\n").length, 1, stderr);
  assert.match(stderr, /corrupt|STATE/i);
  assert.deepEqual(await Deno.readFile(state), garbage);
  await Deno.remove(dir, { recursive: true });
});
