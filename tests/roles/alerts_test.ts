import assert from "node:assert/strict";
import { AlertMonitor } from "../../roles/alerts.ts";

const policy = { threshold: 3, windowMs: 1000, quietMs: 5000 };

Deno.test("the threshold within the window raises one alert naming the publisher, codes and counts", () => {
  const monitor = new AlertMonitor(policy);
  assert.equal(monitor.record("t/mallory", "BAD_SIGNATURE", 0), undefined);
  assert.equal(monitor.record("t/mallory", "STALE", 100), undefined);
  assert.deepEqual(monitor.record("t/mallory", "BAD_SIGNATURE", 200), {
    publisher: "t/mallory",
    codes: { BAD_SIGNATURE: 2, STALE: 1 },
    count: 3,
    since_ms: 0,
  });
  for (let t = 300; t < 4000; t += 10) assert.equal(monitor.record("t/mallory", "STALE", t), undefined);
  assert.deepEqual(monitor.alerting(), ["t/mallory"]);
});

Deno.test("rejections spread wider than the window raise nothing", () => {
  const monitor = new AlertMonitor(policy);
  for (let t = 0; t < 10_000; t += 600) assert.equal(monitor.record("t/door", "STALE", t), undefined);
  assert.deepEqual(monitor.alerting(), []);
});

Deno.test("after a quiet spell, a new burst is a new episode with a new alert", () => {
  const monitor = new AlertMonitor(policy);
  [0, 1, 2].forEach((t) => monitor.record("t/m", "MALFORMED", t));
  const again = [6000, 6001, 6002].map((t) => monitor.record("t/m", "OVERLOADED", t));
  assert.deepEqual(again[2], { publisher: "t/m", codes: { OVERLOADED: 3 }, count: 3, since_ms: 6000 });
});

Deno.test("publishers are counted apart, and tracking is bounded", () => {
  const monitor = new AlertMonitor(policy, 2);
  monitor.record("a", "STALE", 0);
  monitor.record("a", "STALE", 1);
  monitor.record("b", "STALE", 2);
  monitor.record("c", "STALE", 3); // forgets a, the quietest
  assert.equal(monitor.record("a", "STALE", 4), undefined, "a's third, but a starts over");
  assert.ok(
    monitor.record("a", "STALE", 5) === undefined && monitor.record("a", "STALE", 6),
    "a's new third",
  );
});
