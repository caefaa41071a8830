/**
 * The statistics `metrics` and `timing` need, as pure functions over numbers: mean, percentiles,
 * Welch's t-test, dudect-style outlier cropping, running moments, and {@link QuantileSketch}, a
 * log-bucketed histogram that estimates percentiles of an unbounded stream in bounded memory.
 * @module
 */

/**
 * Arithmetic mean; `NaN` for no values.
 * @example
 * ```ts
 * mean([1, 2, 3, 6]); // 3
 * ```
 */
export function mean(values: ArrayLike<number>): number {
  if (values.length === 0) return NaN;
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  return sum / values.length;
}

/**
 * Unbiased sample variance (divisor n − 1); `NaN` for fewer than two values.
 * @example
 * ```ts
 * sampleVariance([2, 4, 4, 4, 5, 5, 7, 9]); // 4.571428…
 * ```
 */
export function sampleVariance(values: ArrayLike<number>): number {
  if (values.length < 2) return NaN;
  const m = mean(values);
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += (values[i] - m) ** 2;
  return sum / (values.length - 1);
}

/**
 * A numeric copy sorted ascending (the input is not changed).
 * @example
 * ```ts
 * sortedCopy([3, 1, 2]); // Float64Array [1, 2, 3]
 * ```
 */
export function sortedCopy(values: ArrayLike<number>): Float64Array {
  return Float64Array.from(values).sort();
}

/**
 * The p-th percentile (0 ≤ p ≤ 100) of values already sorted ascending, by linear interpolation between
 * closest ranks (the "type 7" definition used by R, NumPy and spreadsheets); `NaN` for no values.
 * @example
 * ```ts
 * percentileOfSorted([1, 2, 3, 4], 50); // 2.5
 * percentileOfSorted([1, 2, 3, 4], 100); // 4
 * ```
 */
export function percentileOfSorted(sorted: ArrayLike<number>, p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0..100, got ${p}`);
  const n = sorted.length;
  if (n === 0) return NaN;
  const rank = (p / 100) * (n - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
}

/** Count, mean and the headline percentiles of a distribution. */
export interface Summary {
  count: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/**
 * Count, mean, p50, p95, p99 and max of a set of values (exact; for streams use {@link QuantileSketch}).
 * @example
 * ```ts
 * summarize([1, 2, 3, 4, 5]).p50; // 3
 * ```
 */
export function summarize(values: ArrayLike<number>): Summary {
  const sorted = sortedCopy(values);
  return {
    count: sorted.length,
    mean: mean(sorted),
    p50: percentileOfSorted(sorted, 50),
    p95: percentileOfSorted(sorted, 95),
    p99: percentileOfSorted(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1] : NaN,
  };
}

/** The result of Welch's unequal-variances t-test. */
export interface WelchResult {
  /** The t statistic: (mean A − mean B) / sqrt(varA/nA + varB/nB). */
  t: number;
  /** Welch–Satterthwaite degrees of freedom. */
  df: number;
  /** Sample sizes. */
  nA: number;
  nB: number;
}

/**
 * Welch's t-test from two samples' summary moments (n, mean, unbiased variance). Useful when the
 * samples were folded with {@link RunningMoments} and never held in memory.
 * @example
 * ```ts
 * welchFromMoments({ n: 3, mean: 2, variance: 1 }, { n: 3, mean: 5, variance: 1 }).t; // -3.674…
 * ```
 */
export function welchFromMoments(
  a: { n: number; mean: number; variance: number },
  b: { n: number; mean: number; variance: number },
): WelchResult {
  if (a.n < 2 || b.n < 2) {
    throw new RangeError(`Welch's t needs at least 2 values per class, got ${a.n} and ${b.n}`);
  }
  const seA = a.variance / a.n;
  const seB = b.variance / b.n;
  const se = Math.sqrt(seA + seB);
  const diff = a.mean - b.mean;
  // Two constant, equal classes: no evidence of a difference. Constant but different: infinite evidence.
  const t = se === 0 ? (diff === 0 ? 0 : Math.sign(diff) * Infinity) : diff / se;
  const df = se === 0 ? a.n + b.n - 2 : (seA + seB) ** 2 / (seA ** 2 / (a.n - 1) + seB ** 2 / (b.n - 1));
  return { t, df, nA: a.n, nB: b.n };
}

/**
 * Welch's unequal-variances t-test of two samples (the test dudect applies to timing classes).
 * @example
 * ```ts
 * welchT([1, 2, 3], [4, 5, 6]).t; // -3.674…
 * ```
 */
export function welchT(a: ArrayLike<number>, b: ArrayLike<number>): WelchResult {
  return welchFromMoments(
    { n: a.length, mean: mean(a), variance: sampleVariance(a) },
    { n: b.length, mean: mean(b), variance: sampleVariance(b) },
  );
}

/**
 * dudect-style cropping: keeps only the values at or below the p-th percentile of `reference` (by default
 * the values themselves). Timing measurements have a long upper tail from interrupts, page faults and GC;
 * cutting it at a percentile computed on the pooled data of both classes removes that noise without
 * favouring either class.
 * @example
 * ```ts
 * cropAbovePercentile([1, 2, 3, 4, 100], 75); // Float64Array [1, 2, 3, 4]
 * ```
 */
export function cropAbovePercentile(
  values: ArrayLike<number>,
  p: number,
  reference: ArrayLike<number> = values,
): Float64Array {
  const limit = percentileOfSorted(sortedCopy(reference), p);
  return Float64Array.from(values).filter((v) => v <= limit);
}

/**
 * Welford's online mean and variance: numerically stable, constant memory.
 * @example
 * ```ts
 * const m = new RunningMoments();
 * [1, 2, 3].forEach((x) => m.add(x));
 * m.mean; // 2
 * m.variance; // 1
 * ```
 */
export class RunningMoments {
  /** Values added. */
  n = 0;
  /** Running mean (`NaN` while empty). */
  mean = NaN;
  #m2 = 0;
  /** Sum of the values. */
  sum = 0;

  /** Adds one value. */
  add(x: number): void {
    this.n++;
    this.sum += x;
    if (this.n === 1) {
      this.mean = x;
      this.#m2 = 0;
      return;
    }
    const delta = x - this.mean;
    this.mean += delta / this.n;
    this.#m2 += delta * (x - this.mean);
  }

  /** Unbiased sample variance (`NaN` below two values). */
  get variance(): number {
    return this.n < 2 ? NaN : this.#m2 / (this.n - 1);
  }
}

/** Default relative accuracy of {@link QuantileSketch}: estimates are within ±1 % of a true sample value. */
export const SKETCH_RELATIVE_ERROR = 0.01;
/** Values whose magnitude is below this are counted as zero by {@link QuantileSketch}. */
export const SKETCH_MIN_MAGNITUDE = 1e-6;

/**
 * A log-bucketed histogram for streaming percentiles (the DDSketch idea). Each non-zero value x goes to
 * bucket ⌈log_γ |x|⌉ with γ = (1 + α)/(1 − α); every value in a bucket is within relative error α of the
 * bucket's representative 2γ^i/(γ + 1), so any percentile it returns is within ±α (relative) of a true
 * value at that rank. Memory is one counter per occupied bucket: for α = 1 % and values spanning 1 µs to
 * 1 day in ms, at most ≈ 1 300 buckets per sign, however many values are added. Count, sum, min and max
 * are exact.
 * @example
 * ```ts
 * const sketch = new QuantileSketch();
 * for (let i = 1; i <= 1000; i++) sketch.add(i);
 * sketch.quantile(0.5); // ≈ 500 (within 1 %)
 * ```
 */
export class QuantileSketch {
  /** Relative accuracy α. */
  readonly relativeError: number;
  readonly #gamma: number;
  readonly #logGamma: number;
  readonly #positive = new Map<number, number>();
  readonly #negative = new Map<number, number>();
  #zero = 0;
  /** Values added. */
  count = 0;
  /** Exact sum of the values. */
  sum = 0;
  /** Exact minimum (`Infinity` while empty). */
  min = Infinity;
  /** Exact maximum (`-Infinity` while empty). */
  max = -Infinity;

  /** @param relativeError α, the relative accuracy of percentile estimates (0 < α < 1) */
  constructor(relativeError = SKETCH_RELATIVE_ERROR) {
    if (!(relativeError > 0 && relativeError < 1)) {
      throw new RangeError(`relative error must be within (0, 1), got ${relativeError}`);
    }
    this.relativeError = relativeError;
    this.#gamma = (1 + relativeError) / (1 - relativeError);
    this.#logGamma = Math.log(this.#gamma);
  }

  /** Adds one finite value (non-finite values are ignored). */
  add(x: number): void {
    if (!Number.isFinite(x)) return;
    this.count++;
    this.sum += x;
    if (x < this.min) this.min = x;
    if (x > this.max) this.max = x;
    const magnitude = Math.abs(x);
    if (magnitude < SKETCH_MIN_MAGNITUDE) {
      this.#zero++;
      return;
    }
    const index = Math.ceil(Math.log(magnitude) / this.#logGamma);
    const store = x > 0 ? this.#positive : this.#negative;
    store.set(index, (store.get(index) ?? 0) + 1);
  }

  /** Mean of the values (exact; `NaN` while empty). */
  get mean(): number {
    return this.count === 0 ? NaN : this.sum / this.count;
  }

  /** Number of buckets in use: the sketch's memory footprint. */
  get bucketCount(): number {
    return this.#positive.size + this.#negative.size + (this.#zero > 0 ? 1 : 0);
  }

  /**
   * The value at quantile q (0 ≤ q ≤ 1), within relative error α; q = 0 and q = 1 give the exact min and
   * max. `NaN` while empty.
   */
  quantile(q: number): number {
    if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile must be within 0..1, got ${q}`);
    if (this.count === 0) return NaN;
    if (q === 0) return this.min;
    if (q === 1) return this.max;
    // The rank of the wanted value (0-based, nearest rank below).
    const rank = Math.floor(q * (this.count - 1));
    let seen = 0;
    const negatives = [...this.#negative.entries()].sort((a, b) => b[0] - a[0]);
    for (const [index, n] of negatives) {
      seen += n;
      if (seen > rank) return this.#clamp(-this.#representative(index));
    }
    seen += this.#zero;
    if (seen > rank) return this.#clamp(0);
    const positives = [...this.#positive.entries()].sort((a, b) => a[0] - b[0]);
    for (const [index, n] of positives) {
      seen += n;
      if (seen > rank) return this.#clamp(this.#representative(index));
    }
    return this.max;
  }

  /** Count, mean, p50, p95, p99 and max of everything added. */
  summary(): Summary {
    return {
      count: this.count,
      mean: this.mean,
      p50: this.quantile(0.5),
      p95: this.quantile(0.95),
      p99: this.quantile(0.99),
      max: this.count === 0 ? NaN : this.max,
    };
  }

  #representative(index: number): number {
    return (2 * this.#gamma ** index) / (this.#gamma + 1);
  }

  // The representative of the extreme buckets may lie just outside the exact range.
  #clamp(x: number): number {
    return Math.min(this.max, Math.max(this.min, x));
  }
}
