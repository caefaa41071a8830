import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { formatLoadTable, spawnActuator } from "../../cli/load.ts";
import { systemClock } from "../../core/clock.ts";
import { SUITE_ED25519 } from "../../crypto/envelope.ts";
import { Log, memoryLogWriter } from "../../log/jsonl.ts";
import { runLoad } from "../../roles/load.ts";
import { mosquittoAvailable } from "../../testkit/brokers.ts";
import { makeTestHome, startSecureBroker } from "./secure_home.ts";

const SENSORS = Array.from({ length: 50 }, (_, i) => `sensor-${String(i + 1).padStart(4, "0")}`);

for (const kind of ["embedded", "mosquitto"] as const) {
  Deno.test({
    name: `load on ${kind}: 50 Ed25519 sensors for 3 s, every message accepted by the batching actuator`,
    ignore: kind === "mosquitto" && !mosquittoAvailable(),
    async fn() {
      const dir = await makeTestHome(SUITE_ED25519, SENSORS);
      const broker = await startSecureBroker(kind, dir);
      const logPath = `${dir}/load.jsonl`;
      const actuator = await spawnActuator({
        keysDir: dir,
        brokerUrl: broker.url,
        logPath,
        batchMs: 2,
        run: "load-test",
      });
      try {
        const log = new Log(memoryLogWriter(), { role: "load", run: "load-test", clock: systemClock });
        const summary = await runLoad({
          keysDir: dir,
          sensorIds: SENSORS,
          actuatorId: "door-actuator",
          durationMs: 3_000,
          epochLength: 100,
          connections: SENSORS.length,
          drainTimeoutMs: 15_000,
        }, { clock: systemClock, log, brokerUrl: broker.url, actuator });

        ok(summary.sent > 0, "something was sent");
        strictEqual(summary.accepted, summary.sent);
        deepStrictEqual(summary.rejectsByCode, {});
        strictEqual(summary.unanswered, 0);
        strictEqual(summary.publishFailures, 0);
        strictEqual(summary.sensors, 50);
        ok(summary.acceptedPerS > 0);
        ok(summary.latencyMs.p50 > 0 && summary.latencyMs.p50 <= summary.latencyMs.p95);
        ok(summary.latencyMs.p95 <= summary.latencyMs.p99);
        ok((summary.actuatorPeakRssKiB ?? 0) > 0, "actuator peak RSS read from /proc");
        const table = formatLoadTable(summary, { broker: kind, batchMs: 2 }).join("\n");
        for (
          const label of [
            "sensors",
            "duration",
            "messages sent",
            "accepted",
            "accepted/s",
            "latency p50/p95/p99",
          ]
        ) {
          ok(table.includes(label), `table has ${label}`);
        }
        ok(/rejects\s+0/.test(table));
        ok(table.includes("actuator peak RSS"));
        const measured = formatLoadTable(summary, {
          broker: kind,
          batchMs: 2,
          verifyMs: 0.43,
          verifySamples: 300,
          efficiency: 0.61,
        }).join("\n");
        ok(measured.includes("0.430 ms per"), measured);
        ok(measured.includes("median of 300, sampled through the run"), measured);
        ok(measured.includes("= 0.61"), measured);
      } finally {
        await actuator.stop();
        await broker.close();
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}
