import assert from "node:assert/strict";
import { KeyedTokenBuckets, TokenBucket } from "../../core/token_bucket.ts";

Deno.test("a bucket allows its burst at once, then its rate", () => {
  const bucket = new TokenBucket({ ratePerS: 10, burst: 3 }, 0);
  assert.deepEqual([1, 2, 3, 4].map(() => bucket.take(0)), [true, true, true, false]);
  assert.equal(bucket.take(50), false, "half a token after 50 ms");
  assert.equal(bucket.take(100), true, "one token after 100 ms at 10/s");
  assert.equal(bucket.take(100), false);
  assert.equal(bucket.available(10_000), 3, "never more than the burst");
});

Deno.test("a refused event takes nothing, and time going backwards adds nothing", () => {
  const bucket = new TokenBucket({ ratePerS: 1, burst: 1 }, 1000);
  assert.equal(bucket.take(1000), true);
  assert.equal(bucket.take(1000), false);
  assert.equal(bucket.take(500), false);
  assert.equal(bucket.take(2000), true);
});

Deno.test("a rate limit must be positive", () => {
  assert.throws(() => new TokenBucket({ ratePerS: 0, burst: 1 }, 0), RangeError);
  assert.throws(() => new TokenBucket({ ratePerS: 1, burst: 0 }, 0), RangeError);
});

Deno.test("keyed buckets limit each key on its own and forget the least recent beyond maxKeys", () => {
  const limits = new KeyedTokenBuckets({ ratePerS: 1, burst: 1 }, 2);
  assert.equal(limits.take("a", 0), true);
  assert.equal(limits.take("a", 0), false, "a is over");
  assert.equal(limits.take("b", 0), true, "b has its own bucket");
  assert.equal(limits.take("c", 0), true, "c pushes out a, the least recent");
  assert.equal(limits.take("a", 0), true, "a starts again with a full bucket");
});
