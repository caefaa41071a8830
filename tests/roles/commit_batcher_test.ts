import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { FakeClock } from "../../core/clock.ts";
import { Log, memoryLogWriter } from "../../log/jsonl.ts";
import { startActuator, type Verdict } from "../../roles/actuator.ts";
import { encodeReading, makeReading } from "../../roles/door.ts";
import { CommitBatcher, type CommitOutcome } from "../../roles/commit_batcher.ts";
import { type AcceptItem, type AcceptResult, MemoryReplayStore, StateError } from "../../store/replay.ts";

/** A memory store that counts its durable transactions and can be made to fail. */
class CountingStore extends MemoryReplayStore {
  transactions: AcceptItem[][] = [];
  failNext = false;
  override acceptBatch(items: readonly AcceptItem[]) {
    this.transactions.push([...items]);
    if (this.failNext) {
      this.failNext = false;
      throw new StateError("STATE_WRITE_FAILED", "disk full");
    }
    return super.acceptBatch(items);
  }
}

/** Lets every pending promise callback run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

function track(promise: Promise<CommitOutcome>): { outcome?: CommitOutcome } {
  const box: { outcome?: CommitOutcome } = {};
  promise.then((outcome) => box.outcome = outcome);
  return box;
}

Deno.test("many items submitted within the delay commit in one transaction", async () => {
  const replay = new CountingStore();
  const clock = new FakeClock();
  const batcher = new CommitBatcher({ replay, clock }, { maxDelayMs: 2 });
  const outcomes = Array.from({ length: 50 }, (_, i) => batcher.submit(`sensor-${i}`, 1));
  clock.advance(2);
  deepStrictEqual(await Promise.all(outcomes), Array(50).fill({ ok: true }));
  strictEqual(replay.transactions.length, 1);
  strictEqual(replay.transactions[0].length, 50);
  deepStrictEqual(batcher.stats, { batches: 1, items: 50, largest: 50 });
});

Deno.test("no outcome is known before the commit", async () => {
  const replay = new CountingStore();
  const clock = new FakeClock();
  const batcher = new CommitBatcher({ replay, clock }, { maxDelayMs: 5 });
  const boxes = [track(batcher.submit("a", 1)), track(batcher.submit("b", 1))];
  clock.advance(4);
  await settle();
  strictEqual(replay.transactions.length, 0);
  strictEqual(replay.highest("a"), undefined);
  strictEqual(boxes.some((b) => b.outcome !== undefined), false);
  clock.advance(1);
  await settle();
  strictEqual(replay.transactions.length, 1);
  deepStrictEqual(boxes.map((b) => b.outcome), [{ ok: true }, { ok: true }]);
});

Deno.test("a full batch commits without waiting for the delay", async () => {
  const replay = new CountingStore();
  const clock = new FakeClock();
  const batcher = new CommitBatcher({ replay, clock }, { maxDelayMs: 1000, maxItems: 3 });
  const outcomes = [batcher.submit("a", 1), batcher.submit("b", 1), batcher.submit("c", 1)];
  deepStrictEqual(await Promise.all(outcomes), [{ ok: true }, { ok: true }, { ok: true }]);
  strictEqual(replay.transactions.length, 1);
});

Deno.test("a failing commit refuses every item of its batch with STATE_WRITE_FAILED", async () => {
  const replay = new CountingStore();
  replay.failNext = true;
  const clock = new FakeClock();
  const batcher = new CommitBatcher({ replay, clock }, { maxDelayMs: 2 });
  const outcomes = [batcher.submit("a", 1), batcher.submit("b", 7)];
  clock.advance(2);
  const results = await Promise.all(outcomes);
  for (const result of results) {
    strictEqual(result.ok, false);
    strictEqual(!result.ok && result.code, "STATE_WRITE_FAILED");
  }
  strictEqual(replay.highest("a"), undefined);
  // The next batch is committed normally.
  const later = batcher.submit("a", 1);
  clock.advance(2);
  deepStrictEqual(await later, { ok: true });
});

Deno.test("a sender's counters are applied in submission order, within and across batches", async () => {
  const replay = new CountingStore();
  const clock = new FakeClock();
  const batcher = new CommitBatcher({ replay, clock }, { maxDelayMs: 2 });
  const first = [
    batcher.submit("a", 1),
    batcher.submit("a", 2),
    batcher.submit("b", 5),
    batcher.submit("a", 3),
  ];
  clock.advance(2);
  deepStrictEqual(await Promise.all(first), Array(4).fill({ ok: true }));
  deepStrictEqual(replay.transactions[0].map((i) => `${i.sender}:${i.counter}`), [
    "a:1",
    "a:2",
    "b:5",
    "a:3",
  ]);
  const second = [batcher.submit("a", 4), batcher.submit("a", 2)];
  clock.advance(2);
  deepStrictEqual(await Promise.all(second), [{ ok: true }, { ok: false, code: "REPLAY", highest: 4n }]);
  strictEqual(replay.highest("a"), 4n);
});

Deno.test("the same sender and counter twice in one batch: one accepted, one REPLAY", async () => {
  const replay = new CountingStore();
  const clock = new FakeClock();
  const batcher = new CommitBatcher({ replay, clock }, { maxDelayMs: 2 });
  const outcomes = [batcher.submit("a", 9), batcher.submit("a", 9)];
  clock.advance(2);
  deepStrictEqual(await Promise.all(outcomes), [{ ok: true }, { ok: false, code: "REPLAY", highest: 9n }]);
  strictEqual(replay.transactions.length, 1);
});

Deno.test("flush commits what waits without advancing the clock", async () => {
  const replay = new CountingStore();
  const clock = new FakeClock();
  const batcher = new CommitBatcher({ replay, clock }, { maxDelayMs: 1000 });
  const outcome = batcher.submit("a", 1);
  await batcher.flush();
  deepStrictEqual(await outcome, { ok: true });
  strictEqual(clock.pendingSleeps, 0);
});

Deno.test("an actuator judging several messages at once acts in arrival order", async () => {
  const clock = new FakeClock();
  const records = memoryLogWriter();
  const log = new Log(records, { role: "actuator", run: "t", clock });
  let deliver!: (topic: string, payload: Uint8Array) => void;
  const transport = {
    subscribe: () => Promise.resolve(),
    onMessage: (handler: (topic: string, payload: Uint8Array) => void) => deliver = handler,
  };
  // Verdicts are released by the test, last message first.
  const release: (() => void)[] = [];
  const open = (_topic: string, payload: Uint8Array): Promise<Verdict> => {
    const reading = JSON.parse(new TextDecoder().decode(payload));
    return new Promise((resolve) => release.push(() => resolve({ ok: true, reading })));
  };
  const actuator = await startActuator({ topic: "t", qos: 1, phase: "secure", concurrency: 8 }, {
    clock,
    log,
    transport,
    open,
  });
  for (let counter = 1; counter <= 5; counter++) {
    deliver("t", encodeReading(makeReading("a", counter, clock.now(), 20)));
  }
  await settle();
  strictEqual(release.length, 5, "all five are judged at once");
  for (const done of release.reverse()) done();
  await actuator.idle();
  const actions = records.records.filter((r) => r.event === "action").map((r) => r.counter);
  deepStrictEqual(actions, [1, 2, 3, 4, 5]);
});

/** A store that answers later, like PostgreSQL: each transaction resolves when the test says so. */
class SlowStore {
  readonly #memory = new MemoryReplayStore();
  open = 0;
  mostOpen = 0;
  release: (() => void)[] = [];
  acceptBatch(items: readonly AcceptItem[]): Promise<AcceptResult[]> {
    this.open++;
    this.mostOpen = Math.max(this.mostOpen, this.open);
    return new Promise((resolve) => {
      this.release.push(() => {
        this.open--;
        resolve(this.#memory.acceptBatch(items));
      });
    });
  }
}

Deno.test("an asynchronous store gets one batch at a time, in order, and verdicts wait for it", async () => {
  const replay = new SlowStore();
  const clock = new FakeClock();
  const batcher = new CommitBatcher({ replay, clock }, { maxDelayMs: 2 });
  const first = track(batcher.submit("sensor-1", 5));
  clock.advance(2);
  await settle();
  strictEqual(replay.release.length, 1, "the first batch is being written");
  // Arrives while the first batch is written: its own batch, written only after the first finished.
  const second = track(batcher.submit("sensor-1", 6));
  clock.advance(2);
  await settle();
  strictEqual(replay.release.length, 1, "the second batch waits for the first");
  strictEqual(first.outcome, undefined, "no verdict before the write is durable");
  replay.release[0]();
  await settle();
  deepStrictEqual(first.outcome, { ok: true });
  strictEqual(replay.release.length, 2);
  replay.release[1]();
  await batcher.flush();
  deepStrictEqual(second.outcome, { ok: true }, "6 after 5: no false REPLAY from reordering");
  strictEqual(replay.mostOpen, 1);
});
