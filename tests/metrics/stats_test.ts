import assert from "node:assert/strict";
import {
  cropAbovePercentile,
  mean,
  percentileOfSorted,
  QuantileSketch,
  RunningMoments,
  sampleVariance,
  summarize,
  welchFromMoments,
  welchT,
} from "../../metrics/stats.ts";

const close = (actual: number, expected: number, tolerance = 1e-9) =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `expected ${expected}, got ${actual}`);

Deno.test("mean and sample variance of a known set", () => {
  const xs = [2, 4, 4, 4, 5, 5, 7, 9];
  assert.equal(mean(xs), 5);
  close(sampleVariance(xs), 32 / 7);
  assert.ok(Number.isNaN(mean([])));
});

Deno.test("percentiles interpolate linearly between closest ranks", () => {
  const sorted = [1, 2, 3, 4];
  assert.equal(percentileOfSorted(sorted, 0), 1);
  assert.equal(percentileOfSorted(sorted, 50), 2.5);
  assert.equal(percentileOfSorted(sorted, 100), 4);
  close(percentileOfSorted(sorted, 95), 3.85);
  assert.throws(() => percentileOfSorted(sorted, 101), RangeError);
});

Deno.test("summarize gives p50/p95/p99/max of 1..100", () => {
  const s = summarize(Array.from({ length: 100 }, (_, i) => 100 - i));
  assert.equal(s.count, 100);
  assert.equal(s.mean, 50.5);
  assert.equal(s.p50, 50.5);
  close(s.p95, 95.05);
  close(s.p99, 99.01);
  assert.equal(s.max, 100);
});

Deno.test("Welch's t matches a hand-computed example", () => {
  // A = 1..5: mean 3, var 2.5; B = 3,5,7: mean 5, var 4.
  // t = (3 − 5) / sqrt(2.5/5 + 4/3) = −2 / sqrt(11/6) = −1.477098…
  // df = (11/6)² / ((0.5)²/4 + (4/3)²/2) = 3.3611… / 0.95139… = 3.53285…
  const r = welchT([1, 2, 3, 4, 5], [3, 5, 7]);
  close(r.t, -2 / Math.sqrt(11 / 6));
  close(r.t, -1.4770978917519928, 1e-12);
  close(r.df, (11 / 6) ** 2 / (0.25 / 4 + (16 / 9) / 2));
  assert.equal(r.nA, 5);
  assert.equal(r.nB, 3);
});

Deno.test("Welch's t from moments equals the sample version; equal constants give 0", () => {
  const a = [1.5, 2.5, 2, 3];
  const b = [4, 4.5, 5.5];
  const fromMoments = welchFromMoments(
    { n: a.length, mean: mean(a), variance: sampleVariance(a) },
    { n: b.length, mean: mean(b), variance: sampleVariance(b) },
  );
  close(fromMoments.t, welchT(a, b).t);
  assert.equal(welchT([2, 2, 2], [2, 2]).t, 0);
  assert.equal(welchT([3, 3], [2, 2]).t, Infinity);
  assert.throws(() => welchT([1], [1, 2]), RangeError);
});

Deno.test("cropping drops values above a percentile of the reference", () => {
  assert.deepEqual([...cropAbovePercentile([1, 2, 3, 4, 100], 75)], [1, 2, 3, 4]);
  // The limit comes from the pooled reference (p80 of it is 14), not from each class alone.
  assert.deepEqual([...cropAbovePercentile([5, 50], 80, [1, 2, 3, 5, 50])], [5]);
});

Deno.test("running moments match the batch mean and variance", () => {
  const xs = [10.5, 3, 7.25, 8, 1, 14];
  const m = new RunningMoments();
  xs.forEach((x) => m.add(x));
  assert.equal(m.n, 6);
  close(m.mean, mean(xs));
  close(m.variance, sampleVariance(xs));
});

Deno.test("quantile sketch stays within its relative error and bounded in buckets", () => {
  const sketch = new QuantileSketch(0.01);
  const values: number[] = [];
  let seed = 42;
  for (let i = 0; i < 100_000; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    const x = Math.exp((seed / 2147483648) * 10 - 3); // 0.05 … 1100, log-uniform
    values.push(x);
    sketch.add(x);
  }
  values.sort((a, b) => a - b);
  for (const q of [0.5, 0.95, 0.99]) {
    const exact = values[Math.floor(q * (values.length - 1))];
    const estimate = sketch.quantile(q);
    assert.ok(Math.abs(estimate - exact) / exact <= 0.0101, `q=${q}: ${estimate} vs ${exact}`);
  }
  assert.equal(sketch.count, 100_000);
  assert.equal(sketch.quantile(1), values[values.length - 1]);
  assert.equal(sketch.quantile(0), values[0]);
  assert.ok(sketch.bucketCount < 600, `buckets ${sketch.bucketCount}`);
});

Deno.test("quantile sketch handles zero and negative values", () => {
  const sketch = new QuantileSketch();
  for (const x of [-4, -1, 0, 0, 2, 8]) sketch.add(x);
  assert.equal(sketch.min, -4);
  assert.equal(sketch.max, 8);
  assert.equal(sketch.quantile(0.5), 0);
  close(sketch.quantile(0.2), -1, 0.02);
  assert.equal(sketch.summary().count, 6);
  assert.ok(Number.isNaN(new QuantileSketch().quantile(0.5)));
});
