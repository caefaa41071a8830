/**
 * Smoke test of the end-to-end bench: with a handful of messages it runs every configuration on the
 * embedded broker (and on Mosquitto when installed; in CI it must be), fills a row per configuration with
 * positive figures, and every message is acted on. Speed is never asserted: timing on a shared machine is noise.
 */

import assert from "node:assert/strict";
import { E2E_COLUMNS, E2E_CONFIGS, e2eConfigs, e2eMarkdown, runE2eBench } from "../testkit/e2e.ts";
import { FIXTURE_DSA_DOMAIN } from "./integration/secure_home.ts";
import { mosquittoAvailable } from "../testkit/brokers.ts";

const MESSAGES = 20;
/** A reading's timestamp is whole milliseconds, so one latency sample may come out up to 0.5 ms low. */
const TIMESTAMP_ROUNDING_MS = 0.5;

Deno.test("runE2eBench fills a row per broker and configuration, and every message is acted on", async () => {
  const brokers = mosquittoAvailable() ? ["embedded", "mosquitto"] as const : ["embedded"] as const;
  const { table, rows, timeline, timelineRows } = await runE2eBench({
    messages: MESSAGES,
    intervalMs: 5,
    rounds: 2,
    warmupMessages: 2,
    brokers: [...brokers],
    dsaDomain: FIXTURE_DSA_DOMAIN,
  });

  assert.equal(rows.length, brokers.length * E2E_CONFIGS.length);
  assert.deepEqual(table.columns, [...E2E_COLUMNS]);
  assert.equal(table.rows.length, rows.length);
  for (const broker of brokers) {
    assert.deepEqual(
      rows.filter((r) => r.broker === broker).map((r) => r.config),
      E2E_CONFIGS.map((c) => c.name),
    );
  }
  for (const row of rows) {
    const where = `${row.broker} ${row.config}`;
    for (const value of [row.p95Ms, row.msgsPerS, row.msgsPerSRatio]) {
      assert.ok(Number.isFinite(value) && value > 0, `${where}: expected a positive figure, got ${value}`);
    }
    // A sub-millisecond median can round to about zero on a fast machine; it is still a real figure.
    assert.ok(row.p50Ms > -TIMESTAMP_ROUNDING_MS, `${where}: p50 ${row.p50Ms}`);
    assert.ok(Number.isFinite(row.p50Ratio), `${where}: p50 ratio ${row.p50Ratio}`);
    assert.ok(row.p95Ms >= row.p50Ms, `${where}: p95 ${row.p95Ms} < p50 ${row.p50Ms}`);
    // Paced and back to back, MESSAGES each.
    assert.equal(row.sent, 2 * MESSAGES, `${where}: sent`);
    assert.equal(row.acted, row.sent, `${where}: acted on ${row.acted} of ${row.sent}`);
  }
  for (const row of rows.filter((r) => r.config === "insecure")) {
    assert.equal(row.p50Ratio, 1);
    assert.equal(row.msgsPerSRatio, 1);
    assert.equal(row.p50OverheadMs, 0);
  }
  // The timeline: one row per secure configuration, with the stages of both ends.
  assert.equal(timelineRows.length, brokers.length * E2E_CONFIGS.filter((c) => c.secure).length);
  assert.equal(timeline.rows.length, timelineRows.length);
  for (const row of timelineRows) {
    for (const stage of ["sensor.seal_ms", "actuator.verify_ms", "actuator.commit_ms", "actuator.total_ms"]) {
      assert.ok(Number.isFinite(row.stagesP50Ms[stage]), `${row.broker} ${row.config}: ${stage}`);
    }
  }
});

Deno.test("e2eConfigs: each secure configuration sequential, pipelined, or both side by side", () => {
  const names = (pipeline: "off" | "on" | "both") => e2eConfigs(pipeline).map((c) => c.name);
  assert.deepEqual(names("off").slice(0, 2), ["insecure", "secure DSA, epoch 1, sequential"]);
  assert.deepEqual(names("on").slice(0, 2), ["insecure", "secure DSA, epoch 1, pipelined"]);
  assert.deepEqual(names("both").slice(0, 3), [
    "insecure",
    "secure DSA, epoch 1, sequential",
    "secure DSA, epoch 1, pipelined",
  ]);
  assert.equal(names("both").length, 1 + 2 * (names("on").length - 1));
  for (const config of e2eConfigs("both")) {
    if (config.secure) assert.equal(config.pipelined, config.name.endsWith("pipelined"));
  }
});

Deno.test("e2eMarkdown renders the table with numeric columns right-aligned", () => {
  const text = e2eMarkdown({ columns: ["broker", "msgs/s"], rows: [["embedded", 400], ["mosquitto", null]] });
  assert.equal(text, "| broker | msgs/s |\n| --- | --- |\n| embedded | 400 |\n| mosquitto | — |");
  assert.equal(
    e2eMarkdown({ columns: ["a|b", "n"], rows: [["x", 1]] }),
    "| a\\|b | n |\n| --- | ---: |\n| x | 1 |",
  );
});
