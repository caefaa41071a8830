import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { LOGIN_THROTTLE_DEFAULTS, LoginThrottle } from "../../auth/login_throttle.ts";

Deno.test("each recent failure doubles the delay of the next refusal, up to the cap", () => {
  const throttle = new LoginThrottle({ baseDelayMs: 50, maxDelayMs: 1000 });
  const delays = Array.from({ length: 7 }, (_, i) => throttle.recordFailure(["address:a"], 1000 + i));
  deepStrictEqual(delays, [50, 100, 200, 400, 800, 1000, 1000]);
});

Deno.test("the worst of the address and the username prices a refusal", () => {
  const throttle = new LoginThrottle({ baseDelayMs: 10, maxDelayMs: 10_000 });
  for (let i = 0; i < 4; i++) throttle.recordFailure(["address:a", "user:door-sensor-1"], i);
  // A new address guessing the same user still pays for that user's failures, and vice versa.
  equal(throttle.recordFailure(["address:b", "user:door-sensor-1"], 5), 160);
  equal(throttle.recordFailure(["address:a", "user:other"], 6), 160);
  equal(throttle.recordFailure(["address:c", "user:fresh"], 7), 10);
});

Deno.test("failures are forgotten after a quiet period", () => {
  const throttle = new LoginThrottle({ baseDelayMs: 10, forgetAfterMs: 60_000 });
  for (let i = 0; i < 5; i++) throttle.recordFailure(["address:a"], i);
  equal(throttle.recordFailure(["address:a"], 5 + 60_001), 10);
});

Deno.test("memory is bounded: the stalest keys are dropped first", () => {
  const throttle = new LoginThrottle({ maxTracked: 100 });
  for (let i = 0; i < 1000; i++) throttle.recordFailure([`address:${i}`], i);
  equal(throttle.tracked, 100);
  equal(throttle.recordFailure(["address:999"], 2000), LOGIN_THROTTLE_DEFAULTS.baseDelayMs * 2);
  equal(throttle.recordFailure(["address:0"], 2001), LOGIN_THROTTLE_DEFAULTS.baseDelayMs);
});

Deno.test("the defaults stay under a 2 s client connect timeout", () => {
  const throttle = new LoginThrottle();
  let worst = 0;
  for (let i = 0; i < 100; i++) worst = Math.max(worst, throttle.recordFailure(["address:a"], i));
  ok(worst < 2000);
  equal(worst, LOGIN_THROTTLE_DEFAULTS.maxDelayMs);
});
