/**
 * Several actuator instances behind one MQTT shared subscription (`--share`), each with its own broker
 * account (keygen `--actuator-accounts`), agreeing through one replay state: PostgreSQL for three
 * instances, one SQLite file for two. Real Mosquitto (the embedded broker, aedes 1.2, has no `$share`),
 * real processes. Also: the actuator refuses a missing state (exit 2, one line) unless `--init-state`.
 */

import assert from "node:assert/strict";
import { createHome } from "../../roles/keygen.ts";
import { SUITE_ED25519 } from "../../crypto/envelope.ts";
import { connectMqtt } from "../../transport/client.ts";
import { mosquittoAvailable, secureMosquittoConfig, startMosquitto } from "../../testkit/brokers.ts";
import { postgresAvailable, startPostgres } from "../../testkit/postgres.ts";
import { homePaths } from "../../store/home.ts";
import { readRecords, runSecmqtt, type SecmqttProcess, spawnSecmqtt, waitFor } from "./cli_process.ts";
import { credential } from "./secure_home.ts";

const ACTUATOR = "door-actuator";
const SENSOR = "door-sensor-1";
const EVENTS = 60;
const REPLAYS_EACH = 2;
const GROUP = "doors";
/**
 * Time between one sensor's events. Mosquitto hands a shared subscription's messages out round-robin, so
 * a sender's consecutive envelopes go to different instances; one that overtakes its predecessor makes
 * the predecessor a REPLAY under the strict counter rule (docs/PROTOCOL.md §8.2 rule 5, docs/SCALING.md).
 * Door events seconds apart never race; 20 ms apart they do. This gap is far above the time to act.
 */
const EVENT_GAP_MS = 400;

async function makeHome(instances: number): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "secmqtt-shared-" });
  await createHome({
    outDir: dir,
    sensors: [SENSOR],
    actuatorId: ACTUATOR,
    suite: SUITE_ED25519,
    attacker: "mallory",
    force: true,
    actuatorAccounts: instances,
  });
  return dir;
}

function accountOf(instance: number): string {
  return instance === 0 ? ACTUATOR : `${ACTUATOR}-${instance + 1}`;
}

function eventsOf(records: Record<string, unknown>[], event: string) {
  return records.filter((r) => r.role === "actuator" && r.event === event);
}

/**
 * Starts `instances` actuators sharing `state`, runs the sensor for {@link EVENTS} events while the
 * attacker account records every envelope, replays each twice through the sensor's own account, and
 * checks: each event acted on exactly once across the instances, every instance did a share, every
 * replay refused.
 */
async function runShared(instances: number, state: string) {
  const dir = await makeHome(instances);
  const paths = homePaths(dir);
  const broker = await startMosquitto(secureMosquittoConfig(paths.passwd, paths.acl));
  const actuators: SecmqttProcess[] = [];
  const logs = Array.from({ length: instances }, (_, i) => `${dir}/actuator-${i + 1}.jsonl`);
  const capturer = await connectMqtt({
    url: broker.url,
    clientId: "mallory",
    username: "mallory",
    password: credential(dir, "mallory"),
  });
  try {
    const captured: { topic: string; payload: Uint8Array }[] = [];
    capturer.onMessage((topic, payload) => captured.push({ topic, payload: new Uint8Array(payload) }));
    await capturer.subscribe("home/secure/#", { qos: 1 });

    for (const [i, log] of logs.entries()) {
      // The first instance creates the state; the others must find it (and would refuse to start if not).
      actuators.push(spawnSecmqtt([
        "actuator",
        "--secure",
        "--keys",
        dir,
        "--broker",
        broker.url,
        "-u",
        accountOf(i),
        "--share",
        GROUP,
        "--state",
        state,
        "--batch-ms",
        "2",
        "--log",
        log,
        ...(i === 0 ? ["--init-state"] : []),
      ]));
      await waitFor(
        () => eventsOf(readRecords(log), "role_started").length === 1,
        30_000,
        `actuator instance ${i + 1} to subscribe (${actuators[i].stderr()})`,
      );
    }
    const all = () => logs.flatMap((log) => readRecords(log));

    const sensor = spawnSecmqtt([
      "sensor",
      "--secure",
      "--keys",
      dir,
      "--broker",
      broker.url,
      "--interval-ms",
      String(EVENT_GAP_MS),
      "--count",
      String(EVENTS),
      "--log",
      `${dir}/sensor.jsonl`,
    ]);
    assert.equal((await sensor.child.status).code, 0, sensor.stderr());
    const seen = () =>
      `${EVENTS} actions (so far ${eventsOf(all(), "action").length}, rejected ${
        JSON.stringify(eventsOf(all(), "rejected").map((r) => r.code))
      })`;
    await waitFor(() => eventsOf(all(), "action").length >= EVENTS, 60_000, `${EVENTS} actions`).catch(
      (error) => {
        throw new Error(`${error.message}: ${seen()}`);
      },
    );
    await waitFor(() => captured.length >= EVENTS, 10_000, "every envelope captured");
    assert.equal(captured.length, EVENTS, "the capturer saw each legit envelope once");

    // Replayed through the sensor's own account (its ACL allows the topic), under a client id of its own.
    const replayer = await connectMqtt({
      url: broker.url,
      clientId: `${SENSOR}-replayer`,
      username: SENSOR,
      password: credential(dir, SENSOR),
    });
    try {
      // The capturer sees the replays too: replay what it had captured before, no more.
      const originals = captured.slice(0, EVENTS);
      for (let round = 0; round < REPLAYS_EACH; round++) {
        for (const { topic, payload } of originals) await replayer.publish(topic, payload, { qos: 1 });
      }
    } finally {
      await replayer.close();
    }
    const refusals = () => eventsOf(all(), "rejected").length + eventsOf(all(), "duplicate").length;
    await waitFor(() => refusals() >= EVENTS * REPLAYS_EACH, 60_000, "every replay judged");

    const records = all();
    const actions = eventsOf(records, "action");
    assert.equal(actions.length, EVENTS, "each event acted on once, and no replay acted on");
    assert.equal(new Set(actions.map((a) => a.counter)).size, EVENTS, "no counter acted on twice");
    for (const [i, log] of logs.entries()) {
      const share = eventsOf(readRecords(log), "action").length;
      assert.ok(share > 0, `instance ${i + 1} acted on none of the ${EVENTS} events`);
    }
    const rejected = eventsOf(records, "rejected");
    assert.equal(rejected.length + eventsOf(records, "duplicate").length, EVENTS * REPLAYS_EACH);
    assert.deepEqual([...new Set(rejected.map((r) => r.code))].filter((c) => c !== "REPLAY"), []);
    return { shares: logs.map((log) => eventsOf(readRecords(log), "action").length) };
  } finally {
    for (const actuator of actuators) await actuator.stop();
    await capturer.close();
    await broker.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name: "three instances with --share on Mosquitto and one PostgreSQL state: each event acted on once, " +
    "every instance a share, every replay refused",
  ignore: !mosquittoAvailable() || !postgresAvailable(),
  async fn() {
    const pg = await startPostgres();
    try {
      await runShared(3, pg.url);
    } finally {
      await pg.close();
    }
  },
});

Deno.test({
  name: "two instances with --share on Mosquitto and one SQLite file: each event acted on once, " +
    "every instance a share, every replay refused",
  ignore: !mosquittoAvailable(),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "secmqtt-shared-state-" });
    try {
      await runShared(2, `${dir}/replay.sqlite`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("a missing SQLite state: the actuator exits 2 with one line naming the path; --init-state creates it", async () => {
  const dir = await makeHome(1);
  try {
    const state = `${dir}/gone/../lost.sqlite`;
    const missing = await runSecmqtt([
      "actuator",
      "--secure",
      "--keys",
      dir,
      "--state",
      state,
      "--broker",
      "mqtt://127.0.0.1:1",
    ]);
    assert.equal(missing.code, 2, missing.stderr);
    assert.equal(missing.stderr.trim().split("\n").length, 1, missing.stderr);
    assert.ok(missing.stderr.includes(state), missing.stderr);
    assert.match(missing.stderr, /--init-state/);
    assert.throws(() => Deno.statSync(`${dir}/lost.sqlite`), Deno.errors.NotFound);

    // With --init-state the state is made before the broker is tried (which then fails: nobody listens).
    const init = await runSecmqtt([
      "actuator",
      "--secure",
      "--keys",
      dir,
      "--state",
      `${dir}/lost.sqlite`,
      "--init-state",
      "--broker",
      "mqtt://127.0.0.1:1",
    ]);
    assert.notEqual(init.code, 2, init.stderr);
    assert.ok(Deno.statSync(`${dir}/lost.sqlite`).isFile);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "missing PostgreSQL tables: exit 2, one line naming the database without its password",
  ignore: !postgresAvailable(),
  async fn() {
    const dir = await makeHome(1);
    const pg = await startPostgres();
    try {
      const url = new URL(pg.url);
      url.password = "not-shown-anywhere";
      const missing = await runSecmqtt([
        "actuator",
        "--secure",
        "--keys",
        dir,
        "--state",
        url.toString(),
        "--broker",
        "mqtt://127.0.0.1:1",
      ]);
      assert.equal(missing.code, 2, missing.stderr);
      assert.equal(missing.stderr.trim().split("\n").length, 1, missing.stderr);
      assert.match(missing.stderr, /secmqtt_replay_highest/);
      assert.ok(missing.stderr.includes(`127.0.0.1:${pg.port}`), missing.stderr);
      assert.ok(!missing.stderr.includes("not-shown-anywhere"), "no password in the message");
    } finally {
      await pg.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("keygen --actuator-accounts 3: accounts door-actuator, -2, -3 with read rights and credentials", async () => {
  const dir = await makeHome(3);
  try {
    const paths = homePaths(dir);
    const acl = Deno.readTextFileSync(paths.acl);
    for (const account of [ACTUATOR, `${ACTUATOR}-2`, `${ACTUATOR}-3`]) {
      assert.ok(credential(dir, account).length > 0);
      // The actuator's read rights: its subscription filter, one device topic per sensor.
      assert.match(acl, new RegExp(`user ${account}\\ntopic read home/secure/\\+/door\\n`));
    }
    assert.ok(Deno.statSync(paths.replayDb(ACTUATOR)).isFile, "keygen made the replay state");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("load --share on the embedded broker: one line saying it has no shared subscriptions, exit 2", async () => {
  const { code, stderr } = await runSecmqtt(["load", "--share", "--actuators", "2"]);
  assert.equal(code, 2, stderr);
  assert.equal(stderr.trim().split("\n").length, 1, stderr);
  assert.match(stderr, /--share needs --broker mqtt:\/\//);
});
