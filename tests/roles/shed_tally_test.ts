/** The shed tally: one full line per run of shed messages, then a summary at most every `everyMs`. */

import assert from "node:assert/strict";
import { ShedTally } from "../../roles/shed_tally.ts";

Deno.test("the first shed message is logged in full, the rest counted into a summary every second", () => {
  const tally = new ShedTally(1000);
  assert.deepEqual(tally.add("t/a", "OVERLOADED", "full", 0), { log: "full" });
  for (let t = 1; t < 10; t++) {
    assert.deepEqual(tally.add("t/a", "OVERLOADED", "full", t), { log: "counted" });
  }
  const decision = tally.add("t/a", "OVERLOADED", "throttled", 1000);
  assert.deepEqual(decision, {
    log: "counted",
    due: { publisher: "t/a", code: "OVERLOADED", count: 10, detail: "throttled", since_ms: 1 },
  });
  tally.add("t/a", "OVERLOADED", "throttled", 1500);
  assert.deepEqual(tally.flush(1600), [], "not due: a summary went out 600 ms ago");
  assert.deepEqual(tally.flush(2000), [
    { publisher: "t/a", code: "OVERLOADED", count: 1, detail: "throttled", since_ms: 1500 },
  ]);
  assert.equal(tally.open, 0);
  assert.deepEqual(tally.add("t/a", "OVERLOADED", "full", 2100), { log: "full" }, "a new run starts in full");
});

Deno.test("publishers are counted apart, flush(all) empties everything", () => {
  const tally = new ShedTally(1000);
  tally.add("t/a", "OVERLOADED", "x", 0);
  tally.add("t/b", "OVERLOADED", "x", 0);
  tally.add("t/a", "OVERLOADED", "x", 1);
  tally.add("t/a", "OVERLOADED", "x", 2);
  tally.add("t/b", "OVERLOADED", "x", 3);
  const all = tally.flush(4, true);
  assert.deepEqual(all.map((s) => [s.publisher, s.count]), [["t/a", 2], ["t/b", 1]]);
  assert.equal(tally.open, 0);
});

Deno.test("past maxOpen publishers, a shed message is logged in full rather than remembered", () => {
  const tally = new ShedTally(1000, 2);
  tally.add("t/a", "OVERLOADED", "x", 0);
  tally.add("t/b", "OVERLOADED", "x", 0);
  assert.deepEqual(tally.add("t/c", "OVERLOADED", "x", 0), { log: "full" });
  assert.deepEqual(tally.add("t/c", "OVERLOADED", "x", 1), { log: "full" });
  assert.equal(tally.open, 2);
});
