import assert from "node:assert/strict";
import { AttackTally } from "../../metrics/attack_outcomes.ts";
import { StageCosts } from "../../metrics/crypto_stages.ts";
import { distribution, overheadRatios } from "../../metrics/latency.ts";
import { QuantileSketch } from "../../metrics/stats.ts";
import { TIMING_RUNS_KEPT_MAX, TimingResults } from "../../metrics/timing_results.ts";

function distributionOf(...values: number[]) {
  const sketch = new QuantileSketch();
  for (const v of values) sketch.add(v);
  return distribution(sketch);
}

Deno.test("overhead is secure ÷ insecure, null when a phase is missing or insecure is zero", () => {
  const ratios = overheadRatios({ insecure: distributionOf(2), secure: distributionOf(6) });
  assert.ok(Math.abs(ratios.mean_ratio! - 3) < 1e-9);
  assert.equal(overheadRatios({ secure: distributionOf(6) }).p50_ratio, null);
  assert.equal(overheadRatios({ insecure: distributionOf(0), secure: distributionOf(6) }).mean_ratio, null);
});

Deno.test("attack outcomes list by_code most frequent first, ties by code, and blocked = attempts − accepted", () => {
  const attacks = new AttackTally();
  attacks.refused("secure", "acl", "NOT_AUTHORIZED");
  attacks.refused("secure", "acl", "BANNED");
  attacks.refused("secure", "acl", "NOT_AUTHORIZED");
  attacks.refused("secure", "acl", "ACL");
  attacks.captured("secure", true);
  attacks.captured("secure", false);
  const outcomes = attacks.outcomes().secure;
  assert.deepEqual(Object.entries(outcomes.acl.by_code), [["NOT_AUTHORIZED", 2], ["ACL", 1], ["BANNED", 1]]);
  assert.deepEqual(outcomes.eavesdrop, {
    attempts: 2,
    accepted: 1,
    blocked: 1,
    success_rate: 0.5,
    by_code: { NOT_READABLE: 1 },
  });
});

Deno.test("stage costs are grouped by suite and epoch length, unknown epoch first, non-numbers skipped", () => {
  const costs = new StageCosts();
  costs.add("b", 8, { sign_ms: 1 });
  costs.add("a", 8, { sign_ms: 2, note: "x" });
  costs.add("a", null, { sign_ms: 3 });
  const groups = costs.groups();
  assert.deepEqual(groups.map((g) => [g.suite, g.epoch_length]), [["a", null], ["a", 8], ["b", 8]]);
  assert.deepEqual(Object.keys(groups[1].stages), ["sign_ms"]);
});

Deno.test("timing results keep the last result per function and its last t values", () => {
  const results = new TimingResults();
  for (let i = 0; i < TIMING_RUNS_KEPT_MAX + 2; i++) {
    results.addTiming({ ts: i, role: "timing", run: "r", event: "timing_result", function: "f", t: i });
  }
  const f = results.timing().f;
  assert.equal(f.runs, TIMING_RUNS_KEPT_MAX + 2);
  assert.equal(f.t, TIMING_RUNS_KEPT_MAX + 1);
  assert.equal(f.t_values.length, TIMING_RUNS_KEPT_MAX);
  assert.equal(f.t_values[0], 2);
});
