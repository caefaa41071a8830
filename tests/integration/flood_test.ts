/**
 * Flood (issue 12): one device account floods, the real sensor keeps sending, on real Mosquitto started
 * from keygen's files and on the embedded secure broker, every role a separate process
 * (testkit/flood.ts). The assertions are about correctness only: every legit event acted on, nothing of
 * the flood acted on, the flooder named in an `alert` or rate-limited. Latency is printed, never asserted
 * (bench/flood.ts measures it): on a 2-core machine it moves with whatever else runs.
 */

import assert from "node:assert/strict";
import { summarize } from "../../metrics/stats.ts";
import { secureTopicFor } from "../../roles/door.ts";
import { mosquittoAvailable } from "../../testkit/brokers.ts";
import {
  DEFAULT_FORGED_MESSAGES,
  FLOOD_ACCOUNT,
  type FloodRun,
  LEGIT_SENSOR,
  refusalsByCode,
  runFloodScenario,
} from "../../testkit/flood.ts";

const LEGIT_MESSAGES = 20;

function mosquittoPubAvailable(): boolean {
  try {
    Deno.statSync("/usr/bin/mosquitto_pub");
    return true;
  } catch {
    if (Deno.env.get("CI")) {
      throw new Error("mosquitto_pub is missing and CI is set: install mosquitto-clients");
    }
    return false;
  }
}

const ignore = !mosquittoAvailable() || !mosquittoPubAvailable();

/** The legit events' fate and what the flood got, with the figures printed. */
function judge(run: FloodRun, label: string) {
  const legit = new Set(run.legitPublished.map((p) => p.digest));
  const actions = run.actuator.filter((r) => r.event === "action");
  const rejected = run.actuator.filter((r) => r.event === "rejected");
  const legitActed = new Set(actions.filter((a) => legit.has(a.digest)).map((a) => a.digest));
  const legitRejected = rejected.filter((r) => legit.has(r.digest));
  const foreignActions = actions.filter((a) =>
    !legit.has(a.digest) && !run.earlierDigests.has(a.digest as string)
  );
  const byCode = refusalsByCode(run.actuator); // `shed` summaries count what was refused unjudged
  const shed = run.actuator.filter((r) => r.event === "shed");
  const alerts = run.actuator.filter((r) => r.event === "alert");
  const latency = summarize(run.latenciesMs);
  console.log(
    `${label}: ${run.floodSent} flood messages in ${run.floodMs} ms; actuator verdicts ${
      JSON.stringify(byCode)
    }; ` +
      `legit ${legitActed.size}/${run.legitPublished.length} acted on; alerts ${
        JSON.stringify(alerts.map((a) => a.account))
      }; PUBACK-to-action p50/p95/p99 ${latency.p50.toFixed(1)}/${latency.p95.toFixed(1)}/${
        latency.p99.toFixed(1)
      } ms (printed, not asserted)`,
  );
  assert.equal(run.legitPublished.length, LEGIT_MESSAGES);
  assert.equal(legitActed.size, LEGIT_MESSAGES, "every legit event acted on");
  assert.deepEqual(legitRejected, [], "no legit event refused");
  return { actions, rejected, foreignActions, byCode, alerts, shed };
}

for (const broker of ["mosquitto", "embedded"] as const) {
  Deno.test({
    name:
      `${broker}: a device account streams ${DEFAULT_FORGED_MESSAGES} forged envelopes at QoS 0 onto every ` +
      "topic it can reach: every legit event acted on, none of the flood, an alert names the account",
    ignore,
    async fn() {
      const run = await runFloodScenario({ broker, flood: "forged" });
      const { foreignActions, rejected, byCode, alerts, shed } = judge(run, `${broker}, forged flood`);
      assert.ok(run.floodSent >= DEFAULT_FORGED_MESSAGES, `the whole flood was streamed (${run.floodSent})`);
      assert.deepEqual(foreignActions, [], "nothing of the flood acted on");
      // The ACL kept the flood off the real sensor's topic: nothing was refused there.
      assert.deepEqual(rejected.filter((r) => r.topic === secureTopicFor(LEGIT_SENSOR)), []);
      const expected = ["TOPIC_MISMATCH", "BAD_SIGNATURE", "MALFORMED", "OVERLOADED", "STALE"];
      for (const code of Object.keys(byCode)) assert.ok(expected.includes(code), `unexpected ${code}`);
      assert.ok((byCode.TOPIC_MISMATCH ?? 0) > 0, "envelopes in the real sensor's name refused by topic");
      assert.ok(alerts.some((a) => a.account === FLOOD_ACCOUNT), "an alert names the flooding account");
      assert.ok(alerts.every((a) => a.account === FLOOD_ACCOUNT), "and no one else");
      // Throttled: past its failure budget (1 024, then 100/s) the flood was refused unjudged, so the
      // actuator judged a small part of it, and what it shed it counted in summaries, naming the account.
      const judged = Object.entries(byCode).filter(([c]) => c !== "OVERLOADED").reduce(
        (n, [, k]) => n + k,
        0,
      );
      assert.ok(judged < run.floodSent / 10, `only a small part of the flood was judged (${judged})`);
      assert.ok(shed.every((r) => r.account === FLOOD_ACCOUNT), "only the flooder's messages were shed");
      if (broker === "embedded") {
        const limited = run.broker.filter((r) => r.event === "broker_denied" && r.code === "RATE_LIMITED");
        assert.ok(limited.some((r) => r.username === FLOOD_ACCOUNT), "the broker rate-limited the account");
        assert.ok(limited.length <= 3, `one record per episode, not per message (${limited.length})`);
      }
    },
  });

  Deno.test({
    name: `${broker}: a compromised trusted sensor floods valid envelopes: the other sensor's events all ` +
      "acted on, the flooder rate-limited",
    ignore,
    async fn() {
      const run = await runFloodScenario({ broker, flood: "trusted" });
      const { rejected, byCode } = judge(run, `${broker}, trusted flood`);
      const limited = rejected.filter((r) => r.code === "RATE_LIMITED");
      assert.ok(limited.length > 0, "the flooder was rate-limited");
      assert.ok(limited.every((r) => r.sensor_id === FLOOD_ACCOUNT), "only the flooder");
      for (const code of Object.keys(byCode)) {
        assert.ok(["RATE_LIMITED", "OVERLOADED"].includes(code), `unexpected ${code}`);
      }
    },
  });
}
