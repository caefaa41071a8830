/**
 * The report's charts: Vega-Lite specs built from metrics (pure), rendered to static SVG on the server so
 * report.html needs no script, font or network at view time.
 * @module
 */

import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import { SUITE_DSA, SUITE_ED25519 } from "../crypto/envelope.ts";
import type { AggregateMetrics, CryptoCostGroup, Distribution } from "./types.ts";

/** Width of a chart's plotting area in CSS pixels. */
export const CHART_WIDTH_PX = 720;
/** Font stack for chart text: system fonts only, nothing to download. */
export const CHART_FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";

/**
 * The component stages of sealing (sensor) and opening (actuator), in the order they run
 * (docs/LOG.md `published.stages`, `action.stages`). The crypto chart stacks these.
 */
export const COMPONENT_STAGES = [
  "sign_ms",
  "wrap_ms",
  "encrypt_ms",
  "parse_ms",
  "verify_ms",
  "replay_ms",
  "unwrap_ms",
  "decrypt_ms",
  "commit_ms",
] as const;
/** Stages that time the whole seal or open: the sum of the components plus glue, never stacked on them. */
export const TOTAL_STAGES = ["seal_ms", "total_ms"] as const;

const SUITE_LABELS: Record<string, string> = { [SUITE_DSA]: "DSA", [SUITE_ED25519]: "Ed25519" };

/**
 * A short name for a suite, after its signature scheme (the only part the suites differ in); an unknown
 * suite keeps its full name.
 * @example
 * ```ts
 * suiteLabel("rsa-oaep-2048+aes-256-gcm+dsa-2048"); // "DSA"
 * ```
 */
export function suiteLabel(suite: string): string {
  return SUITE_LABELS[suite] ?? suite;
}

/**
 * The stages of a group to stack, in running order (stages the list does not know come last, by name),
 * with their mean in ms; whole-message totals ({@link TOTAL_STAGES}) are left out.
 * @example
 * ```ts
 * componentStages(metrics.crypto.sensor[0]); // [["sign_ms", 0.63], ["wrap_ms", 0.51], ["encrypt_ms", 0.21]]
 * ```
 */
export function componentStages(group: CryptoCostGroup): [string, number][] {
  return Object.entries(group.stages)
    .filter(([name, cost]) =>
      !(TOTAL_STAGES as readonly string[]).includes(name) && Number.isFinite(cost.mean)
    )
    .sort(([a], [b]) => byRunningOrder(a, b))
    .map(([name, cost]) => [name, cost.mean]);
}

/**
 * A stage's name without its unit suffix, for labels.
 * @example
 * ```ts
 * stageLabel("verify_ms"); // "verify"
 * ```
 */
export function stageLabel(name: string): string {
  return name.replace(/_ms$/, "");
}

/** Compares stage names by {@link COMPONENT_STAGES} order; names it does not list come last, by name. */
function byRunningOrder(a: string, b: string): number {
  const rank = (name: string) => {
    const i = (COMPONENT_STAGES as readonly string[]).indexOf(name);
    return i < 0 ? COMPONENT_STAGES.length : i;
  };
  return rank(a) - rank(b) || a.localeCompare(b);
}

const OUTCOME_COLORS = { domain: ["accepted", "blocked"], range: ["#d62728", "#2ca02c"] };
const CLASS_COLORS = { domain: ["prefix", "random"], range: ["#1f77b4", "#ff7f0e"] };

const BASE_CONFIG = {
  font: CHART_FONT,
  view: { stroke: "#ddd" },
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: "#eee", labelLimit: 320 },
  legend: { labelFontSize: 11, titleFontSize: 12 },
  header: { labelFontSize: 12, titleFontSize: 12 },
};

/**
 * Renders a Vega-Lite spec to an SVG string suitable for inlining in HTML: the `xmlns` attributes are
 * dropped (HTML5 inline SVG does not need them), so the page contains no URL at all.
 * @example
 * ```ts
 * const svg = await renderSvg(latencyChartSpec(metrics.latency_ms)!);
 * ```
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const compiled = compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  try {
    const svg = await view.toSVG();
    return svg.replace(/\s+xmlns(:xlink)?="[^"]*"/g, "");
  } finally {
    view.finalize();
  }
}

/**
 * Box plot of action latency per phase from the sketch's percentiles: whiskers p5–p95, box p25–p75,
 * white tick at the median, dot at the mean. Log scale when the phases differ by more than 20×.
 * `undefined` when no phase has latencies.
 * @example
 * ```ts
 * const spec = latencyChartSpec({ insecure: dist1, secure: dist2 });
 * ```
 */
export function latencyChartSpec(latency: Record<string, Distribution>): TopLevelSpec | undefined {
  const rows = Object.entries(latency)
    .filter(([, d]) => d.count > 0)
    .map(([phase, d]) => ({
      phase: `${phase} (n=${d.count})`,
      ...boxFigures(d),
      mean: d.mean,
    }));
  if (rows.length === 0) return undefined;
  const lows = rows.map((r) => r.p05).filter((x) => x > 0);
  const highs = rows.map((r) => r.p95);
  const useLog = lows.length === rows.length && Math.max(...highs) / Math.min(...lows) > 20;
  const x = (field: string) => ({
    field,
    type: "quantitative" as const,
    title: `latency (ms${useLog ? ", log scale" : ""})`,
    scale: useLog ? { type: "log" as const } : { zero: true },
  });
  return {
    config: BASE_CONFIG,
    width: CHART_WIDTH_PX,
    height: { step: 44 },
    data: { values: rows },
    encoding: { y: { field: "phase", type: "nominal", title: null, sort: null } },
    layer: [
      ...boxPlotLayers(x, 22, { whisker: "#555", box: "#4c78a8" }),
      { mark: { type: "point", filled: true, color: "#e45756", size: 40 }, encoding: { x: x("mean") } },
    ],
  };
}

/**
 * Stacked bars of attack outcomes (accepted vs blocked attempts) per class, one panel per phase.
 * `undefined` without attacks.
 * @example
 * ```ts
 * const spec = attackChartSpec(metrics.attacks);
 * ```
 */
export function attackChartSpec(attacks: AggregateMetrics["attacks"]): TopLevelSpec | undefined {
  const rows: { phase: string; class: string; outcome: string; count: number }[] = [];
  for (const [phase, byClass] of Object.entries(attacks)) {
    for (const [attackClass, o] of Object.entries(byClass)) {
      if (o.attempts === 0) continue;
      rows.push({ phase, class: attackClass, outcome: "accepted", count: o.accepted });
      rows.push({ phase, class: attackClass, outcome: "blocked", count: o.blocked });
    }
  }
  if (rows.length === 0) return undefined;
  return {
    config: BASE_CONFIG,
    data: { values: rows },
    facet: { row: { field: "phase", type: "nominal", title: null, sort: ["insecure", "secure"] } },
    resolve: { scale: { y: "independent" } },
    spec: {
      width: CHART_WIDTH_PX - 120,
      height: { step: 18 },
      mark: { type: "bar" },
      encoding: {
        // Data order: the classes in the order the attacker ran them, as in the table below the chart.
        y: { field: "class", type: "nominal", title: null, sort: null },
        x: {
          field: "count",
          type: "quantitative",
          stack: "normalize",
          title: "share of attempts",
          axis: { format: "%" },
        },
        color: { field: "outcome", type: "nominal", scale: OUTCOME_COLORS, title: "outcome" },
        order: { field: "outcome", sort: "ascending" },
      },
    },
  };
}

/**
 * Stacked bars of mean crypto cost per component stage, in running order, one bar per side
 * (sensor/actuator), suite and epoch length. Whole-message totals (`seal_ms`, `total_ms`) are not stacked:
 * they would count every stage twice. `undefined` without stage data.
 * @example
 * ```ts
 * const spec = cryptoChartSpec(metrics.crypto);
 * ```
 */
export function cryptoChartSpec(crypto: AggregateMetrics["crypto"]): TopLevelSpec | undefined {
  const rows: { group: string; stage: string; step: number; ms: number }[] = [];
  const stageNames = new Set<string>();
  for (const [side, groups] of Object.entries(crypto)) {
    for (const g of groups) {
      const group = `${side} · ${suiteLabel(g.suite)} · epoch ${g.epoch_length ?? "?"}`;
      componentStages(g).forEach(([name, ms], step) => {
        stageNames.add(name);
        rows.push({ group, stage: stageLabel(name), step, ms });
      });
    }
  }
  if (rows.length === 0) return undefined;
  const stages = [...stageNames].sort(byRunningOrder).map(stageLabel);
  return {
    config: BASE_CONFIG,
    width: CHART_WIDTH_PX - 160,
    height: { step: 28 },
    data: { values: rows },
    mark: { type: "bar" },
    encoding: {
      y: { field: "group", type: "nominal", title: null, sort: null },
      x: { field: "ms", type: "quantitative", title: "mean time per message (ms)" },
      color: {
        field: "stage",
        type: "nominal",
        title: "stage",
        // Legend in running order: the sensor's stages, then the actuator's.
        scale: { domain: stages, scheme: "tableau10" },
      },
      order: { field: "step", type: "quantitative" },
    },
  };
}

/**
 * Box plots of measured time per call for each timing class, one panel per function (each with its
 * own scale): whiskers p5–p95, box p25–p75, tick at the median. `undefined` without timing results.
 * @example
 * ```ts
 * const spec = timingChartSpec(metrics.timing);
 * ```
 */
export function timingChartSpec(timing: AggregateMetrics["timing"]): TopLevelSpec | undefined {
  const rows: Record<string, string | number>[] = [];
  for (const [fn, result] of Object.entries(timing)) {
    for (const [timingClass, p] of Object.entries(result.percentiles_ns)) {
      if (![p.p05, p.p25, p.p50, p.p75, p.p95].every(Number.isFinite)) continue;
      rows.push({
        function: `${fn}  (t = ${result.t.toFixed(1)}, ${result.leak ? "leak" : "no leak"})`,
        class: timingClass,
        ...boxFigures(p),
      });
    }
  }
  if (rows.length === 0) return undefined;
  const x = (field: string) => ({
    field,
    type: "quantitative" as const,
    title: "time per call (ns)",
    scale: { zero: false },
  });
  return {
    config: BASE_CONFIG,
    data: { values: rows },
    facet: {
      row: {
        field: "function",
        type: "nominal",
        title: null,
        // Above each panel, not beside it: the label is long and the panels are short.
        header: { labelOrient: "top", labelAngle: 0, labelAnchor: "start", labelFontWeight: "bold" },
      },
    },
    resolve: { scale: { x: "independent" } },
    spec: {
      width: CHART_WIDTH_PX - 140,
      height: { step: 30 },
      encoding: {
        y: { field: "class", type: "nominal", title: null },
        color: { field: "class", type: "nominal", scale: CLASS_COLORS, title: "input class" },
      },
      layer: boxPlotLayers(x, 16),
    },
  };
}

/** The five figures a box plot draws, as chart data fields. */
type BoxFigures = Record<"p05" | "p25" | "p50" | "p75" | "p95", number>;

/** The box plot figures of a latency distribution or of a timing class's `percentiles_ns`. */
function boxFigures(p: Distribution | Record<string, number>): BoxFigures {
  return { p05: p.p05, p25: p.p25, p50: p.p50, p75: p.p75, p95: p.p95 };
}

/**
 * The layers of a box plot over {@link BoxFigures} fields: whisker p5–p95, box p25–p75 and a white tick at
 * the median, `size` px thick. Without `colors` the box and whisker take the encoding's color.
 */
function boxPlotLayers<X>(x: (field: string) => X, size: number, colors?: { whisker: string; box: string }) {
  return [
    {
      mark: { type: "rule" as const, ...(colors && { color: colors.whisker }) },
      encoding: { x: x("p05"), x2: { field: "p95" } },
    },
    {
      mark: { type: "bar" as const, size, ...(colors && { color: colors.box }) },
      encoding: { x: x("p25"), x2: { field: "p75" } },
    },
    { mark: { type: "tick" as const, color: "white", size, thickness: 2 }, encoding: { x: x("p50") } },
  ];
}
