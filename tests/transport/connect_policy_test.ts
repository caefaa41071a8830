import assert from "node:assert/strict";
import { FakeClock } from "../../core/clock.ts";
import { type MqttTransport, TransportError } from "../../transport/client.ts";
import {
  backoffMs,
  ConnectionWatch,
  connectWithPolicy,
  DEFAULT_CONNECT_POLICY,
} from "../../transport/connect_policy.ts";

const fakeTransport = { clientId: "c" } as MqttTransport;
const unreachable = () => new TransportError("CONNECT_FAILED", "cannot connect to mqtt://x: refused");

/** Drives the fake clock until `promise` settles: each pending sleep is advanced past. */
async function settle<T>(clock: FakeClock, promise: Promise<T>): Promise<T> {
  let done = false;
  promise.then(() => done = true, () => done = true);
  while (!done) {
    await new Promise((r) => setTimeout(r, 0));
    if (clock.pendingSleeps > 0) clock.advance(50);
  }
  return promise;
}

Deno.test("backoff doubles from the initial wait up to the cap", () => {
  const waits = [1, 2, 3, 4, 5, 6, 7].map((a) => backoffMs(DEFAULT_CONNECT_POLICY, a));
  assert.deepEqual(waits, [250, 500, 1000, 2000, 4000, 4000, 4000]);
});

Deno.test("a broker that comes up during the window is connected to, after saying it waits", async () => {
  const clock = new FakeClock(0);
  let calls = 0;
  const retries: number[] = [];
  const transport = await settle(
    clock,
    connectWithPolicy({ url: "mqtt://x" }, DEFAULT_CONNECT_POLICY, {
      clock,
      connect: () => ++calls < 4 ? Promise.reject(unreachable()) : Promise.resolve(fakeTransport),
      onRetry: ({ waitMs }) => retries.push(waitMs),
    }),
  );
  assert.equal(transport, fakeTransport);
  assert.equal(calls, 4);
  assert.deepEqual(retries, [250, 500, 1000]);
});

Deno.test("a broker that never comes up: CONNECT_FAILED once the window is spent, naming the attempts", async () => {
  const clock = new FakeClock(0);
  let calls = 0;
  await assert.rejects(
    settle(
      clock,
      connectWithPolicy({ url: "mqtt://x" }, { ...DEFAULT_CONNECT_POLICY, firstConnectWindowMs: 10_000 }, {
        clock,
        connect: () => {
          calls++;
          return Promise.reject(unreachable());
        },
      }),
    ),
    (error: unknown) => {
      assert.ok(error instanceof TransportError);
      assert.equal(error.code, "CONNECT_FAILED");
      assert.match(error.message, /gave up after \d+ attempt\(s\) in 10 s/);
      return true;
    },
  );
  // 250 + 500 + 1000 + 2000 + 4000 = 7750 ms of waiting fit in 10 s; the next 4 s wait does not.
  assert.equal(calls, 6);
});

Deno.test("a refusal by the broker is final at once: no retry that would look like password guessing", async () => {
  const clock = new FakeClock(0);
  let calls = 0;
  await assert.rejects(
    connectWithPolicy({ url: "mqtt://x" }, DEFAULT_CONNECT_POLICY, {
      clock,
      connect: () => {
        calls++;
        return Promise.reject(new TransportError("NOT_AUTHORIZED", "not authorised"));
      },
    }),
    /not authorised/,
  );
  assert.equal(calls, 1);
});

Deno.test("a window of 0 makes one attempt only", async () => {
  const clock = new FakeClock(0);
  let calls = 0;
  await assert.rejects(
    connectWithPolicy({ url: "mqtt://x" }, { ...DEFAULT_CONNECT_POLICY, firstConnectWindowMs: 0 }, {
      clock,
      connect: () => {
        calls++;
        return Promise.reject(unreachable());
      },
    }),
    /gave up after 1 attempt/,
  );
  assert.equal(calls, 1);
});

Deno.test("an abort while waiting for the broker ends the wait with CONNECT_ABORTED", async () => {
  const clock = new FakeClock(0);
  const controller = new AbortController();
  const waiting = connectWithPolicy({ url: "mqtt://x" }, DEFAULT_CONNECT_POLICY, {
    clock,
    signal: controller.signal,
    connect: () => new Promise(() => {}), // no answer at all
  });
  controller.abort();
  await assert.rejects(waiting, (error: unknown) => {
    assert.ok(error instanceof TransportError);
    assert.equal(error.code, "CONNECT_ABORTED");
    return true;
  });
});

Deno.test("ConnectionWatch: one disconnected and one reconnected notice per outage, with its length", () => {
  const clock = new FakeClock(1000);
  const watch = new ConnectionWatch(clock);
  assert.equal(watch.update("connected"), undefined, "the first connect is not a reconnect");
  assert.deepEqual(watch.update("offline"), { event: "disconnected" });
  assert.equal(watch.down, true);
  clock.advance(1500);
  assert.equal(watch.update("reconnecting"), undefined);
  assert.equal(watch.update("closed"), undefined);
  clock.advance(500);
  assert.deepEqual(watch.update("connected"), { event: "reconnected", outage_ms: 2000 });
  assert.equal(watch.down, false);
  assert.deepEqual(watch.update("reconnecting"), { event: "disconnected" }, "a second outage");
});
