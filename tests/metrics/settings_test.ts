import assert from "node:assert/strict";
import type { LogRecord } from "../../log/jsonl.ts";
import { SettingsFold } from "../../metrics/settings.ts";

const record = (fields: Partial<LogRecord> & Record<string, unknown>): LogRecord =>
  ({ ts: 1, role: "x", run: "r", event: "e", ...fields }) as LogRecord;

Deno.test("settings come from role_started, broker_listening and published records", () => {
  const s = new SettingsFold();
  s.add(record({ ts: 500, role: "broker", event: "broker_listening", secure: true }));
  s.add(record({ ts: 100, role: "broker", event: "broker_listening", secure: false }));
  s.add(
    record({ ts: 200, role: "sensor", event: "role_started", phase: "secure", count: 20, interval_ms: 40 }),
  );
  s.add(
    record({
      ts: 300,
      role: "attacker",
      event: "role_started",
      phase: "secure",
      classes: ["replay", 7],
      attempts: 8,
    }),
  );
  s.add(
    record({ ts: 400, role: "sensor", event: "published", phase: "secure", suite: "S2", epoch_length: 16 }),
  );
  s.add(
    record({ ts: 410, role: "sensor", event: "published", phase: "secure", suite: "S1", epoch_length: 1 }),
  );
  s.add(
    record({ ts: 420, role: "actuator", event: "action", phase: "secure", suite: "S1", epoch_length: 99 }),
  );
  const out = s.finish();
  assert.equal(out.first_ts, 100);
  assert.equal(out.last_ts, 500);
  assert.deepEqual(out.suites, ["S2", "S1"]);
  assert.deepEqual(out.epoch_lengths, [1, 16], "only the sensor's epoch lengths, ascending");
  assert.deepEqual(out.attackers, { secure: { classes: ["replay"], attempts: 8 } });
  assert.deepEqual(out.sensors, { secure: { count: 20, interval_ms: 40 } });
  assert.deepEqual(out.broker, { kind: "embedded", listeners: 2, secure_listeners: 1 });
});

Deno.test("without settings records the settings say so instead of guessing", () => {
  const out = new SettingsFold().finish();
  assert.equal(out.first_ts, null);
  assert.equal(out.broker.kind, "not logged");
  assert.deepEqual(out.suites, []);
  const s = new SettingsFold();
  s.add(record({ role: "sensor", event: "role_started", phase: "insecure", count: null }));
  assert.deepEqual(s.finish().sensors.insecure, { count: null, interval_ms: null });
});
