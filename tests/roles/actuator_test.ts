/** The actuator's queue: bounded, with backpressure instead of loss, and OVERLOADED only past that. */

import assert from "node:assert/strict";
import { FakeClock } from "../../core/clock.ts";
import { Log, memoryLogWriter } from "../../log/jsonl.ts";
import { type MessageOpener, startActuator, type Verdict } from "../../roles/actuator.ts";
import { encodeReading, makeReading } from "../../roles/door.ts";
import type { MessageHandler } from "../../transport/client.ts";

function fakeTransport() {
  let handler: MessageHandler | undefined;
  return {
    subscribe: () => Promise.resolve(),
    onMessage: (h: MessageHandler) => void (handler = h),
    deliver: (payload: Uint8Array) => handler!("home/door", payload),
  };
}

/** An opener that accepts, but only when the test releases it. */
function gatedOpener() {
  const gates: (() => void)[] = [];
  const open: MessageOpener = async (_topic, payload) => {
    await new Promise<void>((release) => gates.push(release));
    const reading = JSON.parse(new TextDecoder().decode(payload));
    return { ok: true, reading } as Verdict;
  };
  return {
    open,
    releaseOne: () => gates.shift()?.(),
    get waiting() {
      return gates.length;
    },
  };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

/** An insecure actuator with a queue of 2 on a fake transport, whose opener finishes only when released. */
async function startGatedActuator() {
  const clock = new FakeClock();
  const writer = memoryLogWriter();
  const transport = fakeTransport();
  const opener = gatedOpener();
  const actuator = await startActuator({ topic: "home/door", qos: 1, phase: "insecure", queueLimit: 2 }, {
    clock,
    log: new Log(writer, { role: "actuator", run: "t", clock }),
    transport,
    open: opener.open,
  });
  return { clock, writer, transport, opener, actuator };
}

Deno.test("a full queue holds the next message back (a pending promise for the transport) instead of dropping it", async () => {
  const { clock, writer, transport, opener, actuator } = await startGatedActuator();
  const message = (n: number) => encodeReading(makeReading("s", n, clock.now(), 20));
  // 1 is being judged, 2 and 3 fill the queue, 4 must wait.
  const results = [1, 2, 3, 4].map((n) => transport.deliver(message(n)));
  await tick();
  assert.equal(results[0], undefined);
  assert.equal(results[1], undefined);
  assert.equal(results[2], undefined);
  assert.ok(results[3] instanceof Promise, "the fourth message is held back");
  let admitted = false;
  (results[3] as Promise<void>).then(() => admitted = true);
  await tick();
  assert.equal(admitted, false);
  opener.releaseOne(); // message 1 done: 2 starts, 4 is admitted to the queue
  await tick();
  await tick();
  assert.equal(admitted, true);
  for (let i = 0; i < 3; i++) {
    opener.releaseOne();
    await tick();
    await tick();
  }
  await actuator.idle();
  assert.deepEqual(writer.records.filter((r) => r.event === "action").map((r) => r.counter), [1, 2, 3, 4]);
  assert.equal(writer.records.filter((r) => r.event === "rejected").length, 0);
});

Deno.test("a transport that ignores backpressure meets OVERLOADED past the queue and its waiting list", async () => {
  const { clock, writer, transport, opener, actuator } = await startGatedActuator();
  // 1 judged, 2 queued (limit 2 → 2,3), waiting list 2 (4,5), then 6 and 7 overflow.
  for (let n = 1; n <= 7; n++) transport.deliver(encodeReading(makeReading("s", n, clock.now(), 20)));
  await tick();
  const overloaded = writer.records.filter((r) => r.event === "rejected" && r.code === "OVERLOADED");
  assert.equal(overloaded.length, 2);
  while (opener.waiting > 0 || actuator.stats.acted < 5) {
    opener.releaseOne();
    await tick();
    await tick();
  }
  await actuator.idle();
  assert.deepEqual(writer.records.filter((r) => r.event === "action").map((r) => r.counter), [1, 2, 3, 4, 5]);
});

Deno.test("a malformed message is rejected with a code and the next one is still acted on", async () => {
  const clock = new FakeClock();
  const writer = memoryLogWriter();
  const transport = fakeTransport();
  const { plaintextOpener } = await import("../../roles/actuator.ts");
  const actuator = await startActuator({ topic: "home/door", qos: 1, phase: "insecure" }, {
    clock,
    log: new Log(writer, { role: "actuator", run: "t", clock }),
    transport,
    open: plaintextOpener,
  });
  transport.deliver(new TextEncoder().encode("{not json"));
  transport.deliver(encodeReading(makeReading("s", 1, clock.now() - 5, 20)));
  await actuator.idle();
  await tick();
  await actuator.idle();
  assert.deepEqual(writer.records.filter((r) => r.event === "rejected").map((r) => r.code), ["MALFORMED"]);
  const action = writer.records.find((r) => r.event === "action")!;
  assert.equal(action.latency_ms, 5, "latency is the fake clock's now minus the reading's send time");
});
