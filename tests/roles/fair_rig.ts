/** The fair actuator on a fake transport, shared by the fair-queue and throttle tests. */

import { setImmediate } from "node:timers";
import { FakeClock } from "../../core/clock.ts";
import { Log, memoryLogWriter } from "../../log/jsonl.ts";
import { type MessageOpener, startActuator, type Verdict } from "../../roles/actuator.ts";
import { encodeReading, makeReading, secureTopicFor } from "../../roles/door.ts";
import type { ThrottlePolicy } from "../../roles/publisher_throttle.ts";
import type { MessageHandler } from "../../transport/client.ts";

/** Lets the actuator run until it waits again: it may give I/O a turn (setImmediate) between messages. */
export async function tick() {
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 0));
  }
}

/** An opener that judges one message per release, recording the order it was handed them in. */
export function gatedOpener() {
  const gates: (() => void)[] = [];
  const order: string[] = [];
  const open: MessageOpener = async (topic, payload) => {
    order.push(topic);
    await new Promise<void>((release) => gates.push(release));
    const reading = JSON.parse(new TextDecoder().decode(payload));
    return reading.sensor_id === "mallory"
      ? { ok: false, code: "BAD_SIGNATURE", detail: "forged" }
      : { ok: true, reading } as Verdict;
  };
  return { open, order, releaseOne: () => gates.shift()?.() };
}

/** A fair actuator on a fake transport; `extra` swaps the opener, sets a throttle or a larger total. */
export async function fairActuator(
  perKey: number,
  alerts = { threshold: 5, windowMs: 10_000, quietMs: 60_000 },
  extra: { open?: MessageOpener; throttle?: ThrottlePolicy; maxTotal?: number } = {},
) {
  const clock = new FakeClock();
  const writer = memoryLogWriter();
  let handler: MessageHandler | undefined;
  const opener = gatedOpener();
  const actuator = await startActuator(
    {
      topic: "home/secure/+/door",
      qos: 1,
      phase: "secure",
      fairQueue: { perKey, maxKeys: 16, maxTotal: extra.maxTotal ?? 64 },
      maxPayloadBytes: 8192,
      alerts,
      throttle: extra.throttle,
    },
    {
      clock,
      log: new Log(writer, { role: "actuator", run: "t", clock }),
      transport: { subscribe: () => Promise.resolve(), onMessage: (h) => void (handler = h) },
      open: extra.open ?? opener.open,
    },
  );
  const deliver = (sender: string, n: number) =>
    handler!(secureTopicFor(sender), encodeReading(makeReading(sender, n, clock.now(), 20)));
  const raw = (topic: string, payload: Uint8Array) => handler!(topic, payload);
  return { actuator, writer, opener, deliver, raw, clock };
}
