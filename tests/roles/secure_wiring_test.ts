/** The one builder of the secure sealer and opener, from a real home in a temp dir. */

import assert from "node:assert/strict";
import { FakeClock } from "../../core/clock.ts";
import { utf8Decode } from "../../crypto/codec.ts";
import { Log, memoryLogWriter } from "../../log/jsonl.ts";
import { makeReading, SECURE_TOPIC } from "../../roles/door.ts";
import { wireSecureActuator, wireSecureSensor, wireSecureSensors } from "../../roles/secure_wiring.ts";
import { homePaths } from "../../store/home.ts";
import { IdentityError } from "../../store/identity.ts";
import { ReplayStore, StateError } from "../../store/replay.ts";
import { withTestHome } from "../store/home_helpers.ts";

const ACTUATOR = "door-actuator";
const SENSOR = "door-sensor-1";
const NOW_MS = 1_700_000_000_000;

function withHome(fn: (dir: string) => Promise<void>, sensors = [SENSOR]): Promise<void> {
  return withTestHome(fn, { sensors });
}

function testLog(clock: FakeClock) {
  const writer = memoryLogWriter();
  return { writer, log: new Log(writer, { role: "actuator", run: "t", clock }) };
}

Deno.test("a wired sensor's envelopes open at the wired actuator; a replay is refused", () =>
  withHome(async (dir) => {
    // Not before the home (and its replay state) was made: older envelopes are STALE (§8.3).
    const now = Date.now();
    const clock = new FakeClock(now);
    const { log } = testLog(clock);
    const sensor = await wireSecureSensor({
      keysDir: dir,
      sensorId: SENSOR,
      actuatorId: ACTUATOR,
      topic: SECURE_TOPIC,
      epochLength: 1,
    });
    const actuator = await wireSecureActuator({ keysDir: dir, actuatorId: ACTUATOR }, { clock, log });
    try {
      const counter = sensor.nextCounter();
      const { payload } = await sensor.seal(makeReading(SENSOR, counter, now, 21));
      const verdict = await actuator.open(SECURE_TOPIC, payload);
      assert.ok(verdict.ok, JSON.stringify(verdict));
      assert.equal(verdict.reading.counter, counter);
      const again = await actuator.open(SECURE_TOPIC, payload);
      assert.equal(again.ok, false);
    } finally {
      sensor.close();
      await actuator.close();
    }
  }));

Deno.test("the sensor's counter and the actuator's replay state persist in the home's files", () =>
  withHome(async (dir) => {
    // Not before the home (and its replay state) was made: older envelopes are STALE (§8.3).
    const now = Date.now();
    const clock = new FakeClock(now);
    const { log } = testLog(clock);
    const spec = {
      keysDir: dir,
      sensorId: SENSOR,
      actuatorId: ACTUATOR,
      topic: SECURE_TOPIC,
      epochLength: 1,
    };
    const first = await wireSecureSensor(spec);
    const used = [first.nextCounter(), first.nextCounter()];
    first.close();
    const second = await wireSecureSensor(spec);
    const next = second.nextCounter();
    assert.ok(next > used[1], `counter ${next} after ${used}`);
    const { payload: old } = await second.seal(makeReading(SENSOR, used[1], now, 20));
    const { payload: fresh } = await second.seal(makeReading(SENSOR, next, now, 20));
    second.close();

    const actuator = await wireSecureActuator({ keysDir: dir, actuatorId: ACTUATOR }, { clock, log });
    assert.ok((await actuator.open(SECURE_TOPIC, fresh)).ok);
    await actuator.close();
    assert.ok(Deno.statSync(homePaths(dir).replayDb(ACTUATOR)).isFile);
    const restarted = await wireSecureActuator({ keysDir: dir, actuatorId: ACTUATOR }, { clock, log });
    const verdict = await restarted.open(SECURE_TOPIC, old);
    await restarted.close();
    assert.equal(verdict.ok, false, "a lower counter is refused after a restart");
    assert.equal(!verdict.ok && verdict.code, "REPLAY");
  }));

Deno.test("epochLength N: N consecutive envelopes share one wrapped key, then it changes", () =>
  withHome(async (dir) => {
    const sensor = await wireSecureSensor({
      keysDir: dir,
      sensorId: SENSOR,
      actuatorId: ACTUATOR,
      topic: SECURE_TOPIC,
      epochLength: 3,
    });
    const wrapped: string[] = [];
    for (let i = 0; i < 4; i++) {
      const { payload } = await sensor.seal(makeReading(SENSOR, sensor.nextCounter(), NOW_MS, 20));
      wrapped.push(JSON.parse(utf8Decode(payload)).wrapped_key);
    }
    sensor.close();
    assert.equal(new Set(wrapped.slice(0, 3)).size, 1);
    assert.notEqual(wrapped[3], wrapped[0]);
  }));

Deno.test("wireSecureSensors: a fleet in order, each with its own counter; an unknown id is IdentityError", () =>
  withHome(async (dir) => {
    const spec = { keysDir: dir, actuatorId: ACTUATOR, topic: SECURE_TOPIC, epochLength: 10 };
    const fleet = await wireSecureSensors({ ...spec, sensorIds: ["s-2", "s-1"] });
    assert.deepEqual(fleet.map((s) => s.sensorId), ["s-2", "s-1"]);
    assert.deepEqual(fleet.map((s) => s.nextCounter()), [1, 1]);
    for (const s of fleet) s.close();
    await assert.rejects(
      wireSecureSensors({ ...spec, sensorIds: ["s-1", "stranger"] }),
      (error: unknown) => error instanceof IdentityError && error.code === "CONFIG_UNKNOWN_SENSOR",
    );
  }, ["s-1", "s-2"]));

Deno.test("the actuator logs a private key readable by others as KEY_FILE_PERMISSIVE and still starts", () =>
  withHome(async (dir) => {
    const clock = new FakeClock(NOW_MS);
    const { writer, log } = testLog(clock);
    Deno.chmodSync(homePaths(dir).privateKey(ACTUATOR), 0o644);
    const replayDb = `${dir}/elsewhere.sqlite`;
    const actuator = await wireSecureActuator({
      keysDir: dir,
      actuatorId: ACTUATOR,
      replayDb,
      initState: true,
    }, {
      clock,
      log,
    });
    await actuator.close();
    const warnings = writer.records.filter((r) => r.event === "error");
    assert.deepEqual(warnings.map((r) => r.code), ["KEY_FILE_PERMISSIVE"]);
    assert.ok(Deno.statSync(replayDb).isFile, "the replay database is where the spec says");
  }));

Deno.test("a missing replay state stops the actuator with STATE_MISSING naming the path; initState creates it", () =>
  withHome(async (dir) => {
    const clock = new FakeClock(Date.now());
    const { log } = testLog(clock);
    const replayDb = `${dir}/lost.sqlite`;
    await assert.rejects(
      wireSecureActuator({ keysDir: dir, actuatorId: ACTUATOR, replayDb }, { clock, log }),
      (error: unknown) =>
        error instanceof StateError && error.code === "STATE_MISSING" && error.kind === "input" &&
        error.message.includes(replayDb) && !error.message.includes("\n"),
    );
    assert.throws(
      () => Deno.statSync(replayDb),
      Deno.errors.NotFound,
      "nothing is created without initState",
    );
    const actuator = await wireSecureActuator({
      keysDir: dir,
      actuatorId: ACTUATOR,
      replayDb,
      initState: true,
    }, {
      clock,
      log,
    });
    await actuator.close();
    assert.ok(Deno.statSync(replayDb).isFile);
  }));

Deno.test("an envelope older than the replay state is STALE, though inside the window", () =>
  withHome(async (dir) => {
    const sensor = await wireSecureSensor({
      keysDir: dir,
      sensorId: SENSOR,
      actuatorId: ACTUATOR,
      topic: SECURE_TOPIC,
      epochLength: 1,
    });
    const createdAtMs = Date.now();
    const replayDb = `${dir}/recreated.sqlite`;
    ReplayStore.open(replayDb, { nowMs: createdAtMs }).close();
    const clock = new FakeClock(createdAtMs + 1_000);
    const { log } = testLog(clock);
    const actuator = await wireSecureActuator({ keysDir: dir, actuatorId: ACTUATOR, replayDb }, {
      clock,
      log,
    });
    try {
      // Captured 5 s before the state was (re)made: well inside the 30 s window, but the state cannot judge it.
      const { payload: before } = await sensor.seal(
        makeReading(SENSOR, sensor.nextCounter(), createdAtMs - 5_000, 20),
      );
      const verdict = await actuator.open(SECURE_TOPIC, before);
      assert.equal(!verdict.ok && verdict.code, "STALE", JSON.stringify(verdict));
      const { payload: after } = await sensor.seal(
        makeReading(SENSOR, sensor.nextCounter(), createdAtMs + 500, 20),
      );
      assert.ok((await actuator.open(SECURE_TOPIC, after)).ok);
    } finally {
      sensor.close();
      await actuator.close();
    }
  }));
