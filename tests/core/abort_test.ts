import assert from "node:assert/strict";
import { ABORTED, untilSettledOrAborted } from "../../core/abort.ts";

Deno.test("untilSettledOrAborted passes a value through when no abort comes", async () => {
  assert.equal(await untilSettledOrAborted(Promise.resolve(7), new AbortController().signal), 7);
  assert.equal(await untilSettledOrAborted(Promise.resolve(8), undefined), 8);
});

Deno.test("untilSettledOrAborted passes a rejection through when it comes first", async () => {
  await assert.rejects(
    untilSettledOrAborted(Promise.reject(new Error("refused")), new AbortController().signal),
    /refused/,
  );
});

Deno.test("untilSettledOrAborted resolves with ABORTED on an abort, during or before the wait", async () => {
  const controller = new AbortController();
  const pending = untilSettledOrAborted(new Promise(() => {}), controller.signal);
  controller.abort();
  assert.equal(await pending, ABORTED);
  let rejectLate = (_: Error) => {};
  const late = new Promise((_, reject) => rejectLate = reject);
  const abandoned = untilSettledOrAborted(late, controller.signal);
  assert.equal(await abandoned, ABORTED, "an abort that came before the call still wins over pending work");
  rejectLate(new Error("late")); // ignored: no unhandled rejection
});

Deno.test("work that has already settled wins over an abort that came with it", async () => {
  const controller = new AbortController();
  controller.abort();
  assert.equal(await untilSettledOrAborted(Promise.resolve("done"), controller.signal), "done");
});
