/** The embedded broker's per-account publish limit: over-limit publishes reach no one, counted, logged once. */

import assert from "node:assert/strict";
import { systemClock } from "../../core/clock.ts";
import { Log, memoryLogWriter } from "../../log/jsonl.ts";
import { type BrokerPolicy, startBroker } from "../../transport/broker.ts";
import { connectMqtt } from "../../transport/client.ts";

const allowAll: BrokerPolicy = { authenticate: () => ({ ok: true }), authorize: () => true };

Deno.test("an account over its publish rate: acknowledged, delivered to no one, one broker_denied per episode", async () => {
  const writer = memoryLogWriter();
  const log = new Log(writer, { role: "broker", run: "t", clock: systemClock });
  const broker = await startBroker({
    port: 0,
    log,
    policy: allowAll,
    limits: { publishRate: { ratePerS: 0.001, burst: 3 } },
  });
  const subscriber = await connectMqtt({
    url: broker.url,
    clientId: "reader",
    username: "reader",
    password: "x",
  });
  const flooder = await connectMqtt({
    url: broker.url,
    clientId: "flooder",
    username: "flooder",
    password: "x",
  });
  const quiet = await connectMqtt({ url: broker.url, clientId: "quiet", username: "quiet", password: "x" });
  try {
    const received: string[] = [];
    subscriber.onMessage((topic) => void received.push(topic));
    await subscriber.subscribe("t/#", { qos: 1 });
    for (let i = 0; i < 10; i++) await flooder.publish("t/flood", new Uint8Array([i]), { qos: 1 });
    await quiet.publish("t/quiet", new Uint8Array([1]), { qos: 1 });
    // The quiet account's message was published last: once it is in, every earlier one was routed or dropped.
    for (let i = 0; i < 200 && !received.includes("t/quiet"); i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(
      received.filter((t) => t === "t/flood").length,
      3,
      "the burst gets through, the rest does not",
    );
    assert.ok(received.includes("t/quiet"), "another account is not limited");
    assert.equal(broker.rateLimited.flooder, 7);
    const denied = writer.records.filter((r) => r.event === "broker_denied" && r.code === "RATE_LIMITED");
    assert.equal(denied.length, 1, "one record per episode, not one per message");
    assert.equal(denied[0].username, "flooder");
  } finally {
    await Promise.all([subscriber.close(), flooder.close(), quiet.close()]);
    await broker.close();
  }
});
