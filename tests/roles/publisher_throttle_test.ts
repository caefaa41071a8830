/** The failure budget: rejections spend it, time refills it, accepted messages never touch it. */

import assert from "node:assert/strict";
import { PublisherThrottle } from "../../roles/publisher_throttle.ts";

Deno.test("a publisher is throttled once its failures spend the budget, and the refill lets some through", () => {
  const throttle = new PublisherThrottle({ failures: { ratePerS: 10, burst: 3 } });
  for (let i = 0; i < 3; i++) {
    assert.equal(throttle.shed("t/m", 0), false);
    throttle.failed("t/m", 0);
  }
  assert.equal(throttle.shed("t/m", 0), true);
  assert.equal(throttle.shed("t/other", 0), false, "another publisher has its own budget");
  assert.equal(throttle.shed("t/m", 99), true, "0.99 of a token is not one");
  assert.equal(throttle.shed("t/m", 100), false, "100 ms at 10/s refills one");
});

Deno.test("a publisher that is never refused is never throttled", () => {
  const throttle = new PublisherThrottle({ failures: { ratePerS: 1, burst: 1 } });
  for (let i = 0; i < 10_000; i++) assert.equal(throttle.shed("t/ok", i), false);
});
