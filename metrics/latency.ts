/**
 * Latency distributions per phase (docs/METRICS.md, "Latency"): one log-bucketed sketch per phase, summed
 * up as the box-plot figures of metrics.json, and the secure ÷ insecure overhead ratios.
 * @module
 */

import { QuantileSketch } from "./stats.ts";
import { type AggregateMetrics, CDF_SHARES, type Distribution, type Phase } from "./types.ts";

/**
 * One {@link QuantileSketch} per phase, made when the phase's first value comes.
 * @example
 * ```ts
 * const latency = new PhaseSketches();
 * latency.add("secure", 12.5);
 * latency.distributions().secure.count; // 1
 * ```
 */
export class PhaseSketches {
  readonly #sketches = new Map<Phase, QuantileSketch>();

  /** Adds one value (ms) to the phase's sketch. */
  add(phase: Phase, value: number): void {
    let sketch = this.#sketches.get(phase);
    if (!sketch) this.#sketches.set(phase, sketch = new QuantileSketch());
    sketch.add(value);
  }

  /** The distribution of every phase with a value, in the order the phases came. */
  distributions(): Record<Phase, Distribution> {
    const out: Record<Phase, Distribution> = {};
    for (const [phase, sketch] of this.#sketches) out[phase] = distribution(sketch);
    return out;
  }
}

/**
 * A sketch's {@link Distribution}: its summary plus min, the quartiles and tails a box plot needs, and
 * the CDF points of {@link CDF_SHARES}.
 * @example
 * ```ts
 * const sketch = new QuantileSketch();
 * sketch.add(2);
 * distribution(sketch).p25; // ≈ 2 (within the sketch's 1 %)
 * ```
 */
export function distribution(sketch: QuantileSketch): Distribution {
  return {
    ...sketch.summary(),
    min: sketch.min,
    p05: sketch.quantile(0.05),
    p25: sketch.quantile(0.25),
    p75: sketch.quantile(0.75),
    // The ends are exact (quantile 0 and 1 are the sketch's min and max); the rest are within its 1 %.
    cdf: sketch.count === 0 ? [] : CDF_SHARES.map((share) => [share, sketch.quantile(share)]),
  };
}

/**
 * Secure ÷ insecure of the mean and tail latencies; `null` where a phase is missing, the insecure figure
 * is not positive or the secure one is not finite.
 * @example
 * ```ts
 * overheadRatios(metrics.latency_ms).p50_ratio; // e.g. 34.5
 * ```
 */
export function overheadRatios(latency: Record<Phase, Distribution>): AggregateMetrics["overhead"] {
  const ratio = (key: "mean" | "p50" | "p95" | "p99") => {
    const insecure = latency.insecure?.[key];
    const secure = latency.secure?.[key];
    return insecure !== undefined && secure !== undefined && insecure > 0 && Number.isFinite(secure)
      ? secure / insecure
      : null;
  };
  return {
    mean_ratio: ratio("mean"),
    p50_ratio: ratio("p50"),
    p95_ratio: ratio("p95"),
    p99_ratio: ratio("p99"),
  };
}
