/**
 * The text outputs of `secmqtt metrics`, built from the fold's numbers: metrics.json (docs/METRICS.md) and
 * summary.md (the headline tables); report_html.ts builds report.html from the same document. Everything
 * here is a function of its inputs; metrics/write.ts writes the files.
 * @module
 */

import {
  type AggregateMetrics,
  type Distribution,
  emptyDelivery,
  PHASES,
  type TimingSummary,
} from "./types.ts";
import { headline } from "./headline.ts";
import {
  attackGlossaryTable,
  attackTable,
  benchAsTable,
  codeGlossaryTable,
  latencyTable,
  legitTable,
  markdownTable,
  settingsTable,
  type Table,
  timingTable,
} from "./report_tables.ts";

/** Identifies the metrics.json layout; bumped on incompatible changes. */
export const METRICS_SCHEMA = "secmqtt-metrics/1";
/** The functions `timing` tests, always present in metrics.json. */
export const TIMING_FUNCTIONS = ["vulnerableEqual", "constantTimeEqual"] as const;
/** Non-integer numbers in metrics.json keep this many significant digits. */
export const JSON_SIGNIFICANT_DIGITS = 6;

/** An extra table for the report, e.g. the end-to-end bench figures. */
export interface BenchTable {
  title?: string;
  columns: string[];
  rows: (string | number | boolean | null)[][];
}

/** A timing entry as written: always present for both functions, `null` when not measured. */
export type TimingEntry = TimingSummary | { t: null; n: 0; leak: null; threshold: null; runs: 0 };

/** Which programs made a report: the secmqtt and Deno versions of the `metrics` run. */
export interface GeneratedBy {
  secmqtt: string;
  deno: string;
}

/** The body of metrics.json. */
export interface MetricsDocument extends Omit<AggregateMetrics, "timing" | "settings"> {
  schema: string;
  generated_at: string;
  inputs: string[];
  timing: Record<string, TimingEntry>;
  /** The run's settings from the logs, plus the versions that made this report. */
  settings: AggregateMetrics["settings"] & { generated_by: GeneratedBy | null };
}

const EMPTY_DISTRIBUTION: Distribution = {
  count: 0,
  mean: NaN,
  p50: NaN,
  p95: NaN,
  p99: NaN,
  max: NaN,
  min: NaN,
  p05: NaN,
  p25: NaN,
  p75: NaN,
  cdf: [],
};

/**
 * The metrics.json document: the fold's numbers plus schema, inputs, generation time and versions, with the
 * required phases and timing functions present even when a log had none of them.
 * @example
 * ```ts
 * const doc = metricsDocument(await aggregateLogs(paths), paths, new Date(), { secmqtt: "0.1.0", deno: "2.5.0" });
 * doc.latency_ms.secure.p95;
 * ```
 */
export function metricsDocument(
  metrics: AggregateMetrics,
  inputs: string[],
  generatedAt: Date,
  generatedBy: GeneratedBy | null = null,
): MetricsDocument {
  const latency = { ...metrics.latency_ms };
  const attacks = { ...metrics.attacks };
  const legit = { ...metrics.legit };
  for (const phase of PHASES) {
    latency[phase] ??= { ...EMPTY_DISTRIBUTION };
    attacks[phase] ??= {};
    legit[phase] ??= emptyDelivery();
  }
  const timing: Record<string, TimingEntry> = { ...metrics.timing };
  for (const fn of TIMING_FUNCTIONS) timing[fn] ??= { t: null, n: 0, leak: null, threshold: null, runs: 0 };
  return {
    schema: METRICS_SCHEMA,
    generated_at: generatedAt.toISOString(),
    inputs,
    ...metrics,
    latency_ms: latency,
    attacks,
    legit,
    timing,
    settings: { ...metrics.settings, generated_by: generatedBy },
  };
}

/**
 * metrics.json text: two-space indented, non-integers rounded to {@link JSON_SIGNIFICANT_DIGITS}
 * significant digits, NaN and infinities as `null`.
 * @example
 * ```ts
 * await Deno.writeTextFile("out/metrics.json", metricsJson(doc));
 * ```
 */
export function metricsJson(doc: MetricsDocument): string {
  return JSON.stringify(
    doc,
    (_key, value) =>
      typeof value === "number" && !Number.isInteger(value) && Number.isFinite(value)
        ? Number(value.toPrecision(JSON_SIGNIFICANT_DIGITS))
        : value,
    2,
  ) + "\n";
}

/**
 * summary.md: what the run shows in two sentences, the run's settings, the headline tables — latency and
 * overhead, attack success before/after per class, legit delivery, timing verdicts — and the glossary of
 * the attack classes and reason codes that occur.
 * @example
 * ```ts
 * await Deno.writeTextFile("out/summary.md", summaryMarkdown(doc));
 * ```
 */
export function summaryMarkdown(doc: MetricsDocument, bench?: BenchTable): string {
  const section = (title: string, table: Table) => ["", `## ${title}`, "", markdownTable(table)];
  const parts = [
    "# secmqtt metrics",
    "",
    headline(doc),
    "",
    `Inputs: ${doc.inputs.map((p) => `\`${p}\``).join(", ") || "none"} — ${doc.records} records, ` +
    `${doc.bad_lines} bad line${doc.bad_lines === 1 ? "" : "s"}.`,
    ...section("Run settings", settingsTable(doc)),
    ...section("Latency of door actions (ms)", latencyTable(doc)),
    ...section("Attacks: accepted / attempts, before (insecure) and after (secure)", attackTable(doc)),
    ...section("Legit delivery", legitTable(doc)),
    ...section("Timing (dudect: Welch's t on cropped measurements)", timingTable(doc)),
    "",
    `Alerts (one per flooding publisher and episode): ${doc.alerts ?? 0}. ` +
    `Messages shed unjudged (a full queue or a throttled publisher, counted in \`shed\` summaries): ${
      doc.shed ?? 0
    }.`,
  ];
  if (bench) parts.push(...section(bench.title ?? "End-to-end bench", benchAsTable(bench)));
  parts.push(
    ...section("Attack classes: what the attacker does", attackGlossaryTable(doc)),
    ...section("Reason codes: what refused the attempt", codeGlossaryTable(doc)),
  );
  return parts.join("\n") + "\n";
}
