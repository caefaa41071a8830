/**
 * The timing side-channel figures (docs/METRICS.md, `timing`, `recovery`): the last `timing_result` and
 * `recovery_result` per compare function, with the t of every timing run seen.
 * @module
 */

import type { LogRecord } from "../log/jsonl.ts";
import { DISTINCT_KEYS_MAX } from "./counts.ts";
import { isRecord, num, str } from "./record_fields.ts";
import type { RecoverySummary, TimingSummary } from "./types.ts";

/** At most this many `t` values are kept per timing function. */
export const TIMING_RUNS_KEPT_MAX = 20;

/**
 * The timing results per function, at most {@link DISTINCT_KEYS_MAX} functions.
 * @example
 * ```ts
 * const results = new TimingResults();
 * results.addTiming({ ts: 1, role: "timing", run: "r", event: "timing_result", function: "f", t: 7.5 });
 * results.timing().f.runs; // 1
 * ```
 */
export class TimingResults {
  readonly #timing = new Map<string, TimingSummary>();
  readonly #recovery = new Map<string, RecoverySummary>();

  /** Keeps a `timing_result` as its function's latest; ignored without a string `function` and number `t`. */
  addTiming(record: LogRecord): void {
    const fn = str(record.function);
    const t = num(record.t);
    if (fn === undefined || t === undefined) return;
    const previous = this.#timing.get(fn);
    if (!previous && this.#timing.size >= DISTINCT_KEYS_MAX) return;
    const tValues = [...(previous?.t_values ?? []), t].slice(-TIMING_RUNS_KEPT_MAX);
    this.#timing.set(fn, {
      t,
      n: num(record.n) ?? 0,
      leak: record.leak === true,
      threshold: num(record.threshold) ?? NaN,
      percentiles_ns: isRecord(record.percentiles_ns) ? numericTable(record.percentiles_ns) : {},
      runs: (previous?.runs ?? 0) + 1,
      t_values: tValues,
    });
  }

  /** Keeps a `recovery_result` as the function's latest; ignored without a string `function`. */
  addRecovery(record: LogRecord): void {
    const fn = str(record.function);
    if (fn === undefined || (!this.#recovery.has(fn) && this.#recovery.size >= DISTINCT_KEYS_MAX)) return;
    this.#recovery.set(fn, {
      // The log writer's secret-name guard (log/jsonl.ts) turns this length into "[redacted]":
      // unknown, not 0.
      target_bytes: num(record.target_bytes) ?? null,
      bytes_recovered: num(record.bytes_recovered) ?? 0,
      budget: num(record.budget) ?? 0,
      queries: num(record.queries) ?? 0,
    });
  }

  /** The latest timing result per function, functions in first-seen order. */
  timing(): Record<string, TimingSummary> {
    return Object.fromEntries(this.#timing);
  }

  /** The latest recovery result per function, functions in first-seen order. */
  recovery(): Record<string, RecoverySummary> {
    return Object.fromEntries(this.#recovery);
  }
}

/** The numbers of a two-level table (`percentiles_ns`: class → percentile → ns); the rest is dropped. */
function numericTable(value: Record<string, unknown>): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const [outer, inner] of Object.entries(value)) {
    if (!isRecord(inner)) continue;
    out[outer] = {};
    for (const [key, v] of Object.entries(inner)) if (typeof v === "number") out[outer][key] = v;
  }
  return out;
}
