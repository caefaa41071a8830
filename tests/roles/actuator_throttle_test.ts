/**
 * The secure actuator under a flood of failing messages: past its failure budget, a publisher has its
 * messages shed unjudged, counted in `shed` summaries instead of a line each, while another
 * publisher's messages are all judged and acted on.
 */

import assert from "node:assert/strict";
import type { LogRecord } from "../../log/jsonl.ts";
import type { MessageOpener, Verdict } from "../../roles/actuator.ts";
import { secureTopicFor } from "../../roles/door.ts";
import type { ThrottlePolicy } from "../../roles/publisher_throttle.ts";
import { fairActuator } from "./fair_rig.ts";

/** Refuses mallory's messages, accepts everyone else's; counts what it was handed. */
function countingOpener() {
  const judged: Record<string, number> = {};
  const open: MessageOpener = (topic, payload) => {
    judged[topic] = (judged[topic] ?? 0) + 1;
    const reading = JSON.parse(new TextDecoder().decode(payload));
    return Promise.resolve(
      reading.sensor_id === "mallory"
        ? { ok: false, code: "BAD_SIGNATURE", detail: "forged" }
        : { ok: true, reading } as Verdict,
    );
  };
  return { open, judged };
}

/** A fair actuator (2 048 per publisher) with a counting opener and, when given, a throttle. */
async function throttledActuator(throttle?: ThrottlePolicy) {
  const opener = countingOpener();
  const alerts = { threshold: 1_000_000, windowMs: 10_000, quietMs: 60_000 };
  const rig = await fairActuator(2048, alerts, { open: opener.open, throttle, maxTotal: 4096 });
  return { ...rig, opener };
}

const POLICY: ThrottlePolicy = { failures: { ratePerS: 10, burst: 50 } };

Deno.test("a flood of failures past the budget is shed unjudged; the quiet publisher is judged in full", async () => {
  const { actuator, writer, opener, deliver } = await throttledActuator(POLICY);
  for (let i = 1; i <= 1000; i++) {
    deliver("mallory", i);
    if (i % 100 === 0) deliver("door-sensor-1", i / 100);
  }
  await actuator.idle();
  const mallory = secureTopicFor("mallory");
  // Judged: the burst of 50 failures, then nothing (the fake clock stands still, so nothing refills).
  assert.equal(opener.judged[mallory], 50);
  assert.equal(opener.judged[secureTopicFor("door-sensor-1")], 10);
  assert.equal(actuator.stats.acted, 10);
  assert.equal(actuator.stats.shed, 950);
  assert.equal(actuator.stats.byCode.OVERLOADED, 950);
  assert.equal(actuator.stats.rejected, 1000);
  // One `rejected` line for the first shed message, the other 949 in one `shed` summary at the drain's end.
  const records: LogRecord[] = writer.records;
  const overloadedLines = records.filter((r) => r.event === "rejected" && r.code === "OVERLOADED");
  assert.equal(overloadedLines.length, 1);
  const summaries = records.filter((r) => r.event === "shed");
  assert.equal(summaries.length, 1);
  assert.equal(summaries[0].count, 949);
  assert.equal(summaries[0].publisher, mallory);
  assert.equal(summaries[0].account, "mallory");
  assert.equal(summaries[0].code, "OVERLOADED");
});

Deno.test("failures slower than the budget's rate are all judged", async () => {
  const { actuator, opener, deliver, clock } = await throttledActuator(POLICY);
  for (let i = 1; i <= 200; i++) {
    deliver("mallory", i);
    await actuator.idle();
    clock.advance(100); // 10 a second: the rate of the budget, which never runs out
  }
  assert.equal(opener.judged[secureTopicFor("mallory")], 200);
  assert.equal(actuator.stats.shed, 0);
  assert.equal(actuator.stats.byCode.BAD_SIGNATURE, 200);
});

Deno.test("the budget refills with time: a throttled publisher gets its rate's worth judged", async () => {
  const { actuator, opener, deliver, clock } = await throttledActuator(POLICY);
  for (let i = 1; i <= 500; i++) deliver("mallory", i);
  await actuator.idle();
  assert.equal(opener.judged[secureTopicFor("mallory")], 50); // the burst
  clock.advance(2000); // 2 s at 10/s: 20 more tokens
  for (let i = 501; i <= 1000; i++) deliver("mallory", i);
  await actuator.idle();
  assert.equal(opener.judged[secureTopicFor("mallory")], 50 + 20);
});

Deno.test("without a throttle every failing message is judged, however many wait", async () => {
  const { actuator, opener, deliver } = await throttledActuator();
  for (let i = 1; i <= 1000; i++) deliver("mallory", i);
  await actuator.idle();
  assert.equal(opener.judged[secureTopicFor("mallory")], 1000);
  assert.equal(actuator.stats.shed, 0);
});

Deno.test("a drain that sheds everything without waiting still ends, and messages after it are judged", async () => {
  const { actuator, opener, deliver } = await throttledActuator({ failures: { ratePerS: 10, burst: 1 } });
  deliver("mallory", 1);
  await actuator.idle(); // judged: the budget's one token is spent
  deliver("mallory", 2); // shed at once, inside this call: the drain ends without ever waiting
  deliver("door-sensor-1", 1); // arrives while that drain is being marked done
  await actuator.idle();
  assert.equal(opener.judged[secureTopicFor("mallory")], 1);
  assert.equal(opener.judged[secureTopicFor("door-sensor-1")], 1);
  assert.equal(actuator.stats.acted, 1);
  assert.equal(actuator.stats.shed, 1);
});
