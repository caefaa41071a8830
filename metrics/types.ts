/**
 * The shape of the fold's output, the body of metrics.json (docs/METRICS.md), and the names it uses: phases
 * and the `by_code` entries the fold adds itself. No logic beyond the empty value of a delivery count.
 * @module
 */

import type { Summary } from "./stats.ts";

/** The two phases of the demo, in report order. */
export const PHASES = ["insecure", "secure"] as const;
/** A phase name; logs may carry others, which are kept under their own name. */
export type Phase = string;

/** `by_code` entry for an attack message the actuator never logged (dropped by the broker, or lost). */
export const CODE_NOT_SEEN = "NOT_SEEN";
/**
 * `by_code` entry for an attack copy the actuator logged as `duplicate`: byte-identical to an accepted message
 * it still remembered, so taken for a QoS 1 redelivery and not acted on again (docs/PROTOCOL.md §8.2 rule 4).
 */
export const CODE_DUPLICATE = "DUPLICATE";
/** `by_code` entry for an eavesdropped message the attacker could not read. */
export const CODE_NOT_READABLE = "NOT_READABLE";

/** A latency distribution: the {@link Summary} plus the quartiles and tails a box plot needs. */
export interface Distribution extends Summary {
  min: number;
  p05: number;
  p25: number;
  p75: number;
  /**
   * Points of the cumulative distribution, `[share, ms]` at the shares of {@link CDF_SHARES} (0 = min,
   * 1 = max), for the report's CDF chart; empty without values.
   */
  cdf: [number, number][];
}

/**
 * The shares at which a {@link Distribution} keeps a CDF point: dense in the tail, where the p99 and the
 * maximum a reader asks about live.
 */
export const CDF_SHARES = [
  0,
  0.01,
  0.05,
  0.1,
  0.2,
  0.3,
  0.4,
  0.5,
  0.6,
  0.7,
  0.8,
  0.9,
  0.95,
  0.98,
  0.99,
  0.995,
  0.999,
  1,
] as const;

/** The settings of the run(s), as far as the logs carry them (metrics.json `settings`, docs/METRICS.md). */
export interface RunSettings {
  /** Earliest and latest record time (ms since the Unix epoch); `null` without records. */
  first_ts: number | null;
  last_ts: number | null;
  /** Envelope suites seen in `published`/`action` records, in order of first appearance. */
  suites: string[];
  /** Session-key epoch lengths (messages per key) seen in `published` records, ascending. */
  epoch_lengths: number[];
  /** Per phase: the attacker's classes and attempts per class, from its `role_started`. */
  attackers: Record<Phase, { classes: string[]; attempts: number | null }>;
  /** Per phase: the sensor's message count and interval, from its `role_started` (`null` when unbounded). */
  sensors: Record<Phase, { count: number | null; interval_ms: number | null }>;
  /**
   * The broker: `embedded` when the logs have the embedded broker's `broker_listening`, else `not logged`
   * (an external broker such as Mosquitto logs nothing here); `listeners` counts its starts.
   */
  broker: { kind: "embedded" | "not logged"; listeners: number; secure_listeners: number };
}

/** Outcome counts of one attack class in one phase. */
export interface AttackOutcome {
  /** Messages the attacker sent or tried to send (`attack_sent` + `attack_refused`; `captured` for eavesdrop). */
  attempts: number;
  /** Attempts that succeeded: acted on beyond the legit publications (eavesdrop: `readable`). */
  accepted: number;
  /** attempts − accepted. */
  blocked: number;
  /** accepted / attempts (`null` without attempts). */
  success_rate: number | null;
  /** Why blocked attempts failed: actuator reason codes, broker refusal codes, NOT_SEEN, NOT_READABLE. */
  by_code: Record<string, number>;
  /** Phase II: the threat model the class ran under (`device-account`, `broad-rights`), when logged. */
  model?: string;
}

/** Fate of the legit sensor's messages in one phase. */
export interface LegitDelivery {
  /** `published` records. */
  sent: number;
  /** Publications the actuator acted on (at most one action per publication counts). */
  accepted: number;
  /** Publications never acted on but rejected by the actuator. */
  falsely_rejected: number;
  /** Publications the actuator never logged at all. */
  not_seen: number;
  /** QoS 1 redeliveries the actuator recognised (`duplicate`). */
  duplicates: number;
  /** accepted / sent (`null` when nothing was sent). */
  delivery_rate: number | null;
  /** Falsely rejected publications by reason code. */
  rejected_by_code: Record<string, number>;
}

/** Mean and tail of one crypto stage. */
export interface StageCost {
  mean: number;
  p50: number;
  p95: number;
}

/** Per-stage cost for one (side, suite, epoch length) group. */
export interface CryptoCostGroup {
  suite: string;
  /** Messages per session key; `null` when unknown (insecure phase, or an action not joined to its publication). */
  epoch_length: number | null;
  /** Records folded. */
  count: number;
  /** Stage name (e.g. `sign_ms`) → cost in ms. */
  stages: Record<string, StageCost>;
}

/** The last `timing_result` per function, with the t values of every run seen. */
export interface TimingSummary {
  t: number;
  n: number;
  leak: boolean;
  threshold: number;
  percentiles_ns: Record<string, Record<string, number>>;
  runs: number;
  t_values: number[];
}

/** The last `recovery_result` per function. */
export interface RecoverySummary {
  /** Length of the attacked secret; `null` when the log does not carry it as a number. */
  target_bytes: number | null;
  bytes_recovered: number;
  budget: number;
  queries: number;
}

/** Everything the fold computes: the body of metrics.json (docs/METRICS.md), without the input paths. */
export interface AggregateMetrics {
  lines: number;
  records: number;
  bad_lines: number;
  bad_line_examples: { input: string; line: number; error: string }[];
  runs: string[];
  events: Record<string, number>;
  latency_ms: Record<Phase, Distribution>;
  attack_latency_ms: Record<Phase, Distribution>;
  overhead: {
    mean_ratio: number | null;
    p50_ratio: number | null;
    p95_ratio: number | null;
    p99_ratio: number | null;
  };
  attacks: Record<Phase, Record<string, AttackOutcome>>;
  legit: Record<Phase, LegitDelivery>;
  unattributed: Record<Phase, { actions: number; rejected: Record<string, number> }>;
  crypto: { sensor: CryptoCostGroup[]; actuator: CryptoCostGroup[] };
  timing: Record<string, TimingSummary>;
  recovery: Record<string, RecoverySummary>;
  broker: { auth_failed: Record<string, number>; acl_denied: number; client_connected: number };
  settings: RunSettings;
  /** `alert` events: one per publisher and episode of rejections past the threshold (docs/LOG.md). */
  alerts?: number;
  /** Messages refused unjudged and counted in `shed` summaries instead of a `rejected` line each. */
  shed?: number;
}

/**
 * A {@link LegitDelivery} with nothing sent yet: the starting point of a phase's count, and what
 * metrics.json shows for a required phase the logs do not have.
 * @example
 * ```ts
 * emptyDelivery().delivery_rate; // null
 * ```
 */
export function emptyDelivery(duplicates = 0): LegitDelivery {
  return {
    sent: 0,
    accepted: 0,
    falsely_rejected: 0,
    not_seen: 0,
    duplicates,
    delivery_rate: null,
    rejected_by_code: {},
  };
}
