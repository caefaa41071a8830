/**
 * Faults with real processes: the broker killed and restarted mid-stream (Mosquitto with persistence, and
 * the embedded broker, which keeps nothing across its own restart), the actuator and the sensor killed
 * with SIGKILL at random points round after round, and a replay database that can no longer be written.
 *
 * Vocabulary of the assertions: a message is *published* when the sensor logged `published`, which it does
 * only after the broker's PUBACK. A published message is *lost* when no actuator ever logged `action` or
 * `rejected` for its digest.
 */

import assert from "node:assert/strict";
import { systemClock } from "../../core/clock.ts";
import { Log, memoryLogWriter } from "../../log/jsonl.ts";
import { SECURE_TOPIC } from "../../roles/door.ts";
import { homePaths } from "../../store/home.ts";
import { ReplayStore } from "../../store/replay.ts";
import { startBroker } from "../../transport/broker.ts";
import { loadBrokerPolicy } from "../../auth/policy.ts";
import { connectMqtt } from "../../transport/client.ts";
import { seededRandom } from "../../transport/malicious_broker.ts";
import { findMosquitto, freePort, mosquittoAvailable, type TestBroker } from "../../testkit/brokers.ts";
import { readRecords, type SecmqttProcess, spawnSecmqtt, spawnSecureSensor, waitFor } from "./cli_process.ts";
import { credential, makeTestHome, startSecureBroker } from "./secure_home.ts";

/** Slack between aedes logging a subscription and the subscription routing messages (generous: CI runs tests in parallel). */
const RESUBSCRIBE_SETTLE_MS = 250;

const haveMosquitto = mosquittoAvailable();
/** Events that end the actuator's handling of one delivery. */
const VERDICTS = ["action", "rejected", "duplicate"];

type LogLine = Record<string, unknown>;

function ofEvent(records: LogLine[], ...names: string[]): LogLine[] {
  return records.filter((r) => names.includes(r.event as string));
}

/** The actuator as the CLI runs it, with a fixed client id so its persistent session survives restarts. */
function spawnActuator(home: string, url: string, logPath: string, extra: string[] = []): SecmqttProcess {
  return spawnSecmqtt([
    "actuator",
    "--secure",
    "--keys",
    home,
    "--broker",
    url,
    "--client-id",
    "door-actuator",
    "--log",
    logPath,
    ...extra,
  ]);
}

/** Waits until the actuator log has `n` more `role_started` lines than `before` (it subscribed). */
async function actuatorStarted(logPath: string, before: number) {
  await waitFor(
    () => ofEvent(readRecords(logPath), "role_started").length > before,
    20_000,
    "the actuator to subscribe",
  );
}

/** A Mosquitto process this test can SIGKILL and start again on the same port with the same files. */
interface KillableMosquitto {
  url: string;
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

function spawnMosquitto(confPath: string, port: number): Promise<KillableMosquitto> {
  const child = new Deno.Command(findMosquitto()!, { args: ["-c", confPath], stdout: "null", stderr: "null" })
    .spawn();
  const url = `mqtt://127.0.0.1:${port}`;
  const end = async (signal: Deno.Signal) => {
    try {
      child.kill(signal);
    } catch { /* already gone */ }
    await child.status;
  };
  return (async () => {
    await waitFor(
      async () => {
        try {
          (await Deno.connect({ hostname: "127.0.0.1", port })).close();
          return true;
        } catch {
          return false;
        }
      },
      10_000,
      `mosquitto on port ${port}`,
    );
    return { url, kill9: () => end("SIGKILL"), stop: () => end("SIGTERM") };
  })();
}

Deno.test({
  name: "Mosquitto (persistence on) killed -9 and restarted mid-stream: every PUBACKed message is acted on " +
    "exactly once; QoS 1 redeliveries are logged as duplicates",
  ignore: !haveMosquitto,
  async fn() {
    const home = await makeTestHome();
    const paths = homePaths(home);
    const port = freePort();
    const conf = `${home}/mosquitto.conf`;
    await Deno.mkdir(`${home}/persist`);
    await Deno.writeTextFile(
      conf,
      [
        `listener ${port} 127.0.0.1`,
        "allow_anonymous false",
        `password_file ${paths.passwd}`,
        `acl_file ${paths.acl}`,
        "user root",
        "persistence true",
        `persistence_location ${home}/persist/`,
        // Mosquitto writes its database only every autosave_interval seconds and on a clean shutdown, so
        // after kill -9 it restarts from the last save: 1 s keeps the actuator's session on disk.
        "autosave_interval 1",
        "",
      ].join("\n"),
    );
    let broker = await spawnMosquitto(conf, port);
    const actuatorLog = `${home}/actuator.jsonl`;
    const sensorLog = `${home}/sensor.jsonl`;
    const actuator = spawnActuator(home, broker.url, actuatorLog);
    let sensor: SecmqttProcess | undefined;
    try {
      await actuatorStarted(actuatorLog, 0);
      // Let one autosave put the actuator's session (its subscription) on disk before the crash.
      await systemClock.sleep(1_500);
      const count = 40;
      sensor = spawnSecureSensor({ home, broker: broker.url, log: sensorLog, count, intervalMs: 50 });
      await waitFor(() => ofEvent(readRecords(sensorLog), "published").length >= 12, 20_000, "12 publishes");
      await broker.kill9();
      const killedAt = Date.now();
      const publishedBeforeKill = ofEvent(readRecords(sensorLog), "published").length;
      await systemClock.sleep(1_500);
      const publishedWhileDown = ofEvent(readRecords(sensorLog), "published").length - publishedBeforeKill;
      broker = await spawnMosquitto(conf, port);
      const restartedAt = Date.now();
      assert.equal((await sensor.child.status).code, 0, sensor.stderr());
      await waitFor(
        () => ofEvent(readRecords(actuatorLog), ...VERDICTS).length >= count,
        20_000,
        `verdicts for all ${count} messages`,
      );
      await systemClock.sleep(300); // a late redelivery would show up here
      const published = ofEvent(readRecords(sensorLog), "published");
      const records = readRecords(actuatorLog);
      const actions = ofEvent(records, "action");
      assert.equal(published.length, count, "the sensor got a PUBACK for every message, outage or not");
      assert.equal(publishedWhileDown, 0, "no PUBACK while the broker was down: the sensor waits");
      assert.deepEqual(
        actions.map((r) => r.digest).sort(),
        published.map((r) => r.digest).sort(),
        "every PUBACKed message acted on exactly once",
      );
      assert.equal(ofEvent(records, "rejected").length, 0, "no redelivery was mistaken for an attack");
      const duplicates = ofEvent(records, "duplicate");
      const firstAfterRestart = published.find((p) => (p.ts as number) >= restartedAt);
      console.log(
        `mosquitto restart: outage ${
          restartedAt - killedAt
        } ms, ${publishedBeforeKill} published before the ` +
          `kill, ${count} acted on, ${duplicates.length} QoS 1 redeliveries logged as duplicate; first PUBACK ` +
          `after restart ${firstAfterRestart ? (firstAfterRestart.ts as number) - restartedAt : "?"} ms`,
      );
    } finally {
      await sensor?.kill9();
      await actuator.kill9();
      await broker.kill9();
      await Deno.remove(home, { recursive: true });
    }
  },
});

Deno.test(
  "embedded broker closed and started again on the same port: clients reconnect, and every message " +
    "published once the actuator has subscribed again is acted on",
  async () => {
    const home = await makeTestHome();
    const paths = homePaths(home);
    const port = freePort();
    const writer = memoryLogWriter();
    const brokerLog = new Log(writer, { role: "broker", run: "faults", clock: systemClock });
    const start = () =>
      startBroker({ port, log: brokerLog, policy: loadBrokerPolicy(paths.passwd, paths.acl) });
    let broker = await start();
    const actuatorLog = `${home}/actuator.jsonl`;
    const sensorLog = `${home}/sensor.jsonl`;
    const actuator = spawnActuator(home, broker.url, actuatorLog);
    let sensor: SecmqttProcess | undefined;
    try {
      await actuatorStarted(actuatorLog, 0);
      const count = 30;
      sensor = spawnSecureSensor({ home, broker: broker.url, log: sensorLog, count, intervalMs: 50 });
      await waitFor(() => ofEvent(readRecords(sensorLog), "published").length >= 10, 20_000, "10 publishes");
      await broker.close();
      const restartedAt = Date.now();
      broker = await start();
      assert.equal((await sensor.child.status).code, 0, sensor.stderr());
      const resubscribed = () =>
        writer.records.find((r) =>
          r.event === "subscribed" && r.client_id === "door-actuator" && (r.ts as number) >= restartedAt
        );
      await waitFor(() => resubscribed() !== undefined, 10_000, "the actuator to subscribe again");
      const resubscribedAt = resubscribed()!.ts as number;
      const published = ofEvent(readRecords(sensorLog), "published");
      assert.equal(
        published.length,
        count,
        "the sensor's client queued the publish and sent it after reconnect",
      );
      // aedes logs `subscribed` while authorising, just before the subscription takes effect: a message
      // PUBACKed within a few ms of that may still have found no subscriber.
      const after = published.filter((p) => (p.ts as number) > resubscribedAt + RESUBSCRIBE_SETTLE_MS);
      await waitFor(
        () => {
          const acted = new Set(ofEvent(readRecords(actuatorLog), "action").map((r) => r.digest));
          return after.every((p) => acted.has(p.digest));
        },
        20_000,
        "every message published after the resubscription to be acted on",
      );
      await systemClock.sleep(200);
      const records = readRecords(actuatorLog);
      const actions = ofEvent(records, "action");
      assert.equal(new Set(actions.map((r) => r.digest)).size, actions.length, "nothing acted on twice");
      assert.equal(ofEvent(records, "rejected").length, 0);
      const acted = new Set(actions.map((r) => r.digest));
      const lost = published.filter((p) => !acted.has(p.digest));
      // What an in-memory broker loses: messages PUBACKed while the actuator had no subscription on it.
      for (const p of lost) {
        assert.ok(
          (p.ts as number) <= resubscribedAt + RESUBSCRIBE_SETTLE_MS,
          `message ${p.counter} lost though published after the resubscription`,
        );
      }
      console.log(
        `embedded restart: ${count} published, ${actions.length} acted on, ${lost.length} lost (PUBACKed ` +
          `between the restart and the actuator's resubscription ${resubscribedAt - restartedAt} ms later)`,
      );
    } finally {
      await sensor?.kill9();
      await actuator.kill9();
      await broker.close();
      await Deno.remove(home, { recursive: true });
    }
  },
);

/**
 * A message may be lost only in the queue of an actuator that was then killed: it reached the broker while
 * that actuator instance was alive (after it started, before its SIGKILL). The sensor logs `published` once
 * the broker's PUBACK is in, so a message reached the broker somewhere between the sensor's previous
 * `published` line (`sentAfter`; it is made only after that one) and its own (`ackedBy`). Causal, not timed:
 * on a loaded machine a message can wait in a queue, or the PUBACK in the sensor, for seconds, and it is still
 * that kill that lost it.
 */
function lostToAKill(
  window: { sentAfter: number; ackedBy: number },
  lifetimes: readonly { from: number; killedAt: number }[],
): boolean {
  return lifetimes.some((life) => window.sentAfter <= life.killedAt && window.ackedBy >= life.from);
}

/** Each `published` record with the window in which it reached the broker (see {@link lostToAKill}). */
function publishWindows(published: readonly Record<string, unknown>[], start: number) {
  return published.map((p, i) => ({
    record: p,
    window: { sentAfter: i === 0 ? start : published[i - 1].ts as number, ackedBy: p.ts as number },
  }));
}

Deno.test({
  name:
    "kill -9 of the actuator and the sensor at random points, 5 rounds: nothing acted on twice, no fresh " +
    "message refused as REPLAY, a message lost only in the queue of an actuator that was then killed",
  ignore: !haveMosquitto,
  async fn() {
    const home = await makeTestHome();
    const broker: TestBroker = await startSecureBroker("mosquitto", home);
    const actuatorLog = `${home}/actuator.jsonl`;
    const sensorLog = `${home}/sensor.jsonl`;
    const random = seededRandom(Number(Deno.env.get("FAULTS_SEED") ?? 7));
    const tap = await connectMqtt({
      url: broker.url,
      clientId: "mallory-wiretap",
      username: "mallory",
      password: credential(home, "mallory"),
    });
    const wire = new Map<string, Uint8Array>();
    tap.onMessage((_topic, payload) => wire.set(crypto.randomUUID(), payload.slice()));
    await tap.subscribe(SECURE_TOPIC, { qos: 1 });
    let actuator = spawnActuator(home, broker.url, actuatorLog);
    let sensor: SecmqttProcess | undefined;
    const actuatorKills: number[] = [];
    /** Each killed actuator instance: when it was spawned and when it was killed. */
    const lifetimes: { from: number; killedAt: number }[] = [];
    const testStart = Date.now();
    let actuatorFrom = testStart;
    let sensorKills = 0;
    try {
      await actuatorStarted(actuatorLog, 0);
      sensor = spawnSecureSensor({ home, broker: broker.url, log: sensorLog, intervalMs: 60 });
      const deadline = Date.now() + 40_000;
      for (let round = 0; round < 5 && Date.now() < deadline; round++) {
        const publishedSoFar = ofEvent(readRecords(sensorLog), "published").length;
        // Some traffic first, then a kill after a random extra 0–600 ms.
        await waitFor(
          () => ofEvent(readRecords(sensorLog), "published").length >= publishedSoFar + 3,
          20_000,
          "traffic",
        );
        await systemClock.sleep(Math.floor(random() * 600));
        const victim = ["actuator", "sensor", "both"][Math.floor(random() * 3)];
        if (victim !== "sensor") {
          actuatorKills.push(Date.now());
          lifetimes.push({ from: actuatorFrom, killedAt: Date.now() });
          await actuator.kill9();
        }
        if (victim !== "actuator") {
          sensorKills++;
          await sensor!.kill9();
        }
        if (victim !== "sensor") {
          const started = ofEvent(readRecords(actuatorLog), "role_started").length;
          actuatorFrom = Date.now();
          actuator = spawnActuator(home, broker.url, actuatorLog);
          await actuatorStarted(actuatorLog, started);
        }
        if (victim !== "actuator") {
          sensor = spawnSecureSensor({ home, broker: broker.url, log: sensorLog, intervalMs: 60 });
        }
      }
      // Some traffic after the last round too, so the last actuator and sensor have work to show.
      const publishedByLastRound = ofEvent(readRecords(sensorLog), "published").length;
      await waitFor(
        () => ofEvent(readRecords(sensorLog), "published").length >= publishedByLastRound + 3,
        20_000,
        "traffic after the last round",
      );
      await sensor!.stop();
      sensor = undefined;
      const published = ofEvent(readRecords(sensorLog), "published");
      const windows = publishWindows(published, testStart);
      const handled = () =>
        new Set(ofEvent(readRecords(actuatorLog), "action", "rejected").map((r) => r.digest));
      const settled = () => {
        const seen = handled();
        return published.filter((p) => !seen.has(p.digest)).length;
      };
      // Every message no kill can explain must be handled, however slowly a loaded machine gets there; if one
      // never is, the loss assertion below names it.
      const unexplained = windows.filter((w) => !lostToAKill(w.window, lifetimes));
      await waitFor(
        () => {
          const seen = handled();
          return unexplained.every((w) => seen.has(w.record.digest));
        },
        60_000,
        "every message published outside a killed actuator's life to be handled",
      ).catch(() => {});
      // Then everything else queued for the actuator's session drains; what stays unhandled is lost.
      await waitFor(
        async () => {
          const before = settled();
          await systemClock.sleep(500);
          return settled() === before;
        },
        20_000,
        "the actuator to drain",
      );
      const beforeReplay = readRecords(actuatorLog);

      // No legit message refused as a replay: a REPLAY before the replay phase may only be a redelivery
      // of a message some actuator already acted on (killed after the commit, before its PUBACK left).
      const acted = new Set(ofEvent(beforeReplay, "action").map((r) => r.digest));
      for (const r of ofEvent(beforeReplay, "rejected")) {
        assert.equal(r.code, "REPLAY", `unexpected rejection ${r.code}: ${r.detail}`);
        assert.ok(acted.has(r.digest), `fresh message ${r.digest} refused as REPLAY`);
      }
      const lost = windows.filter((w) => !acted.has(w.record.digest));
      for (const { record, window } of lost) {
        assert.ok(
          lostToAKill(window, lifetimes),
          `message ${record.counter} lost, but it reached the broker (between ${window.sentAfter} and ` +
            `${window.ackedBy}) while no actuator that was then killed was alive: ${
              JSON.stringify(lifetimes)
            }`,
        );
      }

      // Replay every envelope seen on the wire.
      const verdictsBefore = ofEvent(beforeReplay, ...VERDICTS).length;
      const attacker = await connectMqtt({
        url: broker.url,
        clientId: "mallory-replayer",
        username: "mallory",
        password: credential(home, "mallory"),
      });
      const captured = [...wire.values()];
      for (const payload of captured) await attacker.publish(SECURE_TOPIC, payload, { qos: 1 });
      await attacker.close();
      await waitFor(
        () => ofEvent(readRecords(actuatorLog), ...VERDICTS).length >= verdictsBefore + captured.length,
        30_000,
        `verdicts for ${captured.length} replays`,
      );
      const records = readRecords(actuatorLog);
      const replayVerdicts = ofEvent(records, ...VERDICTS).slice(verdictsBefore);
      // A copy may be acted on only as the first delivery of an envelope no actuator acted on: one that died
      // in a killed actuator's queue while no later counter of its sensor was accepted yet (the last round
      // killed both, say). It is authentic and in its time window, and the protocol accepts it once
      // (docs/PROTOCOL.md §8.2). Acting on anything twice fails the check after this one.
      const firstDeliveries = ofEvent(replayVerdicts, "action");
      const lostDigests = new Set(lost.map((w) => w.record.digest));
      const publishedDigests = new Set(published.map((p) => p.digest));
      for (const r of firstDeliveries) {
        assert.ok(
          lostDigests.has(r.digest) || (!publishedDigests.has(r.digest) && !acted.has(r.digest)),
          `a replay of ${r.digest} (counter ${r.counter}) was acted on, and it was not a lost message`,
        );
      }
      for (const r of ofEvent(replayVerdicts, "rejected")) {
        assert.ok(["REPLAY", "STALE"].includes(r.code as string), `replay refused as ${r.code}`);
      }
      const actions = ofEvent(records, "action");
      assert.equal(new Set(actions.map((r) => r.digest)).size, actions.length, "no message acted on twice");
      console.log(
        `kill rounds: ${actuatorKills.length} actuator kills, ${sensorKills} sensor kills; ` +
          `${published.length} published, ${acted.size} acted on, ${lost.length} lost in killed actuators' queues; ` +
          `${captured.length} replays: ${firstDeliveries.length} acted on as first deliveries of lost messages, ${
            ofEvent(replayVerdicts, "rejected").length
          } REPLAY/STALE, ` +
          `${ofEvent(replayVerdicts, "duplicate").length} duplicate`,
      );
    } finally {
      await sensor?.kill9();
      await actuator.kill9();
      await tap.close();
      await broker.close();
      await Deno.remove(home, { recursive: true });
    }
  },
});

/** Sets or clears the immutable attribute (root ignores file modes; chattr +i stops even root). */
async function chattr(flag: "+i" | "-i", path: string): Promise<boolean> {
  try {
    return (await new Deno.Command("chattr", { args: [flag, path], stderr: "null" }).output()).success;
  } catch {
    return false; // chattr not installed
  }
}

Deno.test(
  "replay database that cannot be written: the actuator stops acting (STATE_WRITE_FAILED) and acts again " +
    "once it can write",
  async () => {
    const home = await makeTestHome();
    const broker = await startSecureBroker("embedded", home);
    const actuatorLog = `${home}/actuator.jsonl`;
    const sensorLog = `${home}/sensor.jsonl`;
    const state = `${home}/replay.sqlite`;
    const locked: string[] = [];
    const actuator = spawnActuator(home, broker.url, actuatorLog, ["--state", state, "--init-state"]);
    try {
      await actuatorStarted(actuatorLog, 0);
      const send = async (n: number) => {
        const sensor = spawnSecureSensor({
          home,
          broker: broker.url,
          log: sensorLog,
          count: n,
          intervalMs: 30,
        });
        assert.equal((await sensor.child.status).code, 0, sensor.stderr());
      };
      const verdictCount = () => ofEvent(readRecords(actuatorLog), "action", "rejected").length;
      await send(3);
      await waitFor(() => verdictCount() >= 3, 20_000, "3 verdicts");
      assert.equal(ofEvent(readRecords(actuatorLog), "action").length, 3);

      // In WAL mode every commit appends to the -wal file: that is the write that must fail. (The main
      // file alone being immutable changes nothing until a checkpoint.)
      const wal = `${state}-wal`;
      if (!(Deno.uid() === 0 ? await chattr("+i", wal) : (await Deno.chmod(wal, 0o444), true))) {
        assert.ok(!Deno.env.get("CI"), "CI must be able to make the replay journal unwritable (chattr +i)");
        return;
      }
      locked.push(wal);
      await send(4);
      await waitFor(() => verdictCount() >= 7, 20_000, "4 more verdicts");
      const failed = ofEvent(readRecords(actuatorLog), "action", "rejected").slice(3);
      assert.deepEqual(failed.map((r) => r.event), ["rejected", "rejected", "rejected", "rejected"]);
      assert.ok(
        failed.every((r) => r.code === "STATE_WRITE_FAILED"),
        JSON.stringify(failed.map((r) => r.code)),
      );

      if (Deno.uid() === 0) await chattr("-i", wal);
      else await Deno.chmod(wal, 0o644);
      locked.pop();
      await send(3);
      await waitFor(() => verdictCount() >= 10, 20_000, "3 more verdicts");
      const after = ofEvent(readRecords(actuatorLog), "action", "rejected").slice(7);
      assert.deepEqual(after.map((r) => r.event), ["action", "action", "action"], "acting again");

      // No action was logged for a counter that was not recorded: the store's highest counter is the last
      // action's counter, and every action's counter is above the previous one.
      const actions = ofEvent(readRecords(actuatorLog), "action");
      const counters = actions.map((r) => r.counter as number);
      assert.ok(counters.every((c, i) => i === 0 || c > counters[i - 1]));
      await actuator.stop();
      const store = ReplayStore.open(state, { readOnly: true });
      try {
        assert.equal(store.highest("door-sensor-1"), BigInt(counters.at(-1)!));
      } finally {
        store.close();
      }
    } finally {
      for (const path of locked) await chattr("-i", path);
      await actuator.kill9();
      await broker.close();
      await Deno.remove(home, { recursive: true });
    }
  },
);
