import assert from "node:assert/strict";
import { FairQueue } from "../../roles/fair_queue.ts";

Deno.test("publishers are served in turn: a flood of one waits behind each other's next message", () => {
  const queue = new FairQueue<string>({ perKey: 100, maxKeys: 10 });
  for (let i = 0; i < 50; i++) queue.push("flood", `f${i}`);
  queue.push("door", "d0");
  queue.push("door", "d1");
  const order = Array.from({ length: 5 }, () => queue.shift()!.item);
  assert.deepEqual(order, ["f0", "d0", "f1", "d1", "f2"]);
  assert.equal(queue.size, 47);
});

Deno.test("a full key refuses more of its own, and only its own", () => {
  const queue = new FairQueue<number>({ perKey: 2, maxKeys: 10 });
  assert.deepEqual(queue.push("flood", 1), { ok: true });
  assert.deepEqual(queue.push("flood", 2), { ok: true });
  assert.deepEqual(queue.push("flood", 3), { ok: false, reason: "key_full" });
  assert.deepEqual(queue.push("door", 1), { ok: true });
  assert.equal(queue.waiting("flood"), 2);
  assert.equal(queue.waiting("door"), 1);
});

Deno.test("new keys beyond maxKeys are refused; an emptied key frees its place", () => {
  const queue = new FairQueue<number>({ perKey: 5, maxKeys: 2 });
  queue.push("a", 1);
  queue.push("b", 1);
  assert.deepEqual(queue.push("c", 1), { ok: false, reason: "too_many_keys" });
  assert.deepEqual(queue.shift(), { key: "a", item: 1 });
  assert.deepEqual(queue.push("c", 1), { ok: true });
});

Deno.test("within one key, order is kept; an empty queue shifts undefined", () => {
  const queue = new FairQueue<number>({ perKey: 5, maxKeys: 2 });
  [1, 2, 3].forEach((n) => queue.push("k", n));
  assert.deepEqual([1, 2, 3].map(() => queue.shift()!.item), [1, 2, 3]);
  assert.equal(queue.shift(), undefined);
  assert.equal(queue.size, 0);
  assert.throws(() => new FairQueue({ perKey: 0, maxKeys: 1 }), RangeError);
});

Deno.test("past maxTotal, keys with items waiting are refused but a publisher with none still gets in", () => {
  const queue = new FairQueue<number>({ perKey: 10, maxKeys: 10, maxTotal: 4 });
  for (let i = 0; i < 2; i++) {
    queue.push("flood-a", i);
    queue.push("flood-b", i);
  }
  assert.deepEqual(queue.push("flood-a", 9), { ok: false, reason: "total_full" });
  assert.deepEqual(queue.push("door", 1), { ok: true });
  assert.deepEqual(queue.push("door", 2), { ok: false, reason: "total_full" });
  assert.equal(queue.size, 5);
});
