/**
 * The report's charts: Vega-Lite specs built from metrics (pure), rendered to static SVG on the server so
 * report.html needs no script, font or network at view time.
 * @module
 */

import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import { SUITE_DSA, SUITE_ED25519 } from "../crypto/envelope.ts";
import { DEFENCE_STAGES, type DefenceStage, defenceStage } from "./glossary.ts";
import { CATEGORY_COLORS, inkOn, NEUTRAL_GREY, OKABE_ITO, PHASE_COLORS } from "./palette.ts";
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

const CLASS_COLORS = { domain: ["prefix", "random"], range: [OKABE_ITO.blue, OKABE_ITO.orange] };

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
 * const svg = await renderSvg(latencyCdfChartSpec(metrics.latency_ms)!);
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

/** Shares of a latency CDF that the chart marks, each with its own marker shape: the median and the tail. */
const CDF_MARKS: readonly { share: number; label: string; shape: string }[] = [
  { share: 0.5, label: "p50", shape: "circle" },
  { share: 0.99, label: "p99", shape: "square" },
  { share: 1, label: "max", shape: "triangle-up" },
];

/**
 * Cumulative distribution of action latency, one line per phase on one log-scale axis, so a median of
 * 2 ms and a tail of 300 ms are both readable. The median, p99 and maximum are marked (one marker shape
 * each) and their values are in the legend, where they cannot collide with the other phase's curve.
 * Phases differ by colour and by dash. `undefined` when no phase has latencies.
 * @example
 * ```ts
 * const spec = latencyCdfChartSpec(metrics.latency_ms);
 * ```
 */
export function latencyCdfChartSpec(latency: Record<string, Distribution>): TopLevelSpec | undefined {
  const line: { phase: string; share: number; ms: number }[] = [];
  const marks: { phase: string; share: number; ms: number; marker: string }[] = [];
  for (const [phase, d] of Object.entries(latency)) {
    // A log axis cannot show 0 ms; such points (if any) are left out rather than bent onto the axis.
    const points = (d.cdf ?? []).filter(([, value]) => value > 0);
    if (d.count === 0 || points.length === 0) continue;
    const figures: string[] = [];
    const phaseMarks: { share: number; ms: number; marker: string }[] = [];
    for (const m of CDF_MARKS) {
      const point = points.find(([share]) => share === m.share);
      if (!point) continue;
      figures.push(`${m.label} ${msLabel(point[1])}`);
      phaseMarks.push({ share: m.share, ms: point[1], marker: m.label });
    }
    const name = `${phase} (n=${d.count}): ${figures.join(", ")}`;
    for (const [share, value] of points) line.push({ phase: name, share, ms: value });
    for (const m of phaseMarks) marks.push({ phase: name, ...m });
  }
  if (line.length === 0) return undefined;
  const phases = [...new Set(line.map((r) => r.phase))];
  const color = {
    field: "phase",
    type: "nominal" as const,
    title: "phase",
    scale: { domain: phases, range: phases.map((p) => phaseColor(p)) },
    // Stroke symbols, so the legend shows each phase's dash as well as its colour; below the plot, where
    // its long labels (the tail figures) cover no data.
    legend: PHASE_LEGEND,
  };
  const x = {
    field: "ms",
    type: "quantitative" as const,
    title: "latency (ms, log scale)",
    scale: { type: "log" as const },
  };
  const y = {
    field: "share",
    type: "quantitative" as const,
    title: "share of door actions at or below",
    axis: { format: "%" },
    scale: { domain: [0, 1] },
  };
  const shapes = CDF_MARKS.map((m) => m.label);
  return {
    config: BASE_CONFIG,
    width: CHART_WIDTH_PX,
    height: 280,
    // One colour encoding for all layers, so the chart has one phase legend (with the line layer's dashes).
    encoding: { x, y, color },
    layer: [
      {
        data: { values: line },
        mark: { type: "line", strokeWidth: 2 },
        encoding: {
          strokeDash: {
            field: "phase",
            type: "nominal",
            title: "phase",
            scale: { domain: phases, range: DASHES },
            legend: PHASE_LEGEND,
          },
        },
      },
      {
        data: { values: marks },
        mark: { type: "point", filled: true, size: 60, opacity: 1 },
        encoding: {
          shape: {
            field: "marker",
            type: "nominal",
            title: "marked",
            scale: { domain: shapes, range: CDF_MARKS.map((m) => m.shape) },
            legend: { orient: "right" },
          },
        },
      },
    ],
  };
}

/** The CDF's phase legend (colour and dash share it). */
const PHASE_LEGEND = {
  orient: "bottom" as const,
  direction: "vertical" as const,
  symbolType: "stroke",
  symbolStrokeWidth: 2,
  symbolSize: 400,
  labelLimit: CHART_WIDTH_PX,
};

/** Line dashes per phase: solid, then dashed, so phases differ without colour. */
const DASHES = [[1, 0], [6, 3], [2, 2], [8, 3, 2, 3]];

/** A phase's colour from "insecure (n=20)"-style names; other phases get the next palette colour. */
function phaseColor(name: string): string {
  const phase = name.replace(/ \(n=\d+\).*$/, "");
  return PHASE_COLORS[phase as keyof typeof PHASE_COLORS] ?? CATEGORY_COLORS[2];
}

/** A latency for a chart label: 3 significant digits. */
function msLabel(value: number): string {
  return `${value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2)} ms`;
}

/** The segment of a blocked-by bar for attempts that worked. */
export const ACCEPTED_SEGMENT = "attack worked";
/** Approximate width of one character of a bar label (10.5 px system font), to decide what fits. */
const LABEL_CHAR_PX = 6.4;

/**
 * What stopped each attack class: one bar per class and phase, split into the reason codes that refused
 * its attempts (coloured by defence stage, metrics/glossary.ts; each segment labelled with its code and
 * count where it fits), with the attempts that worked as a vermillion "ACCEPTED" segment first. Bars are
 * in attempts, on one scale for every panel. `undefined` without attacks.
 * @example
 * ```ts
 * const spec = blockedByChartSpec(metrics.attacks);
 * ```
 */
export function blockedByChartSpec(attacks: AggregateMetrics["attacks"]): TopLevelSpec | undefined {
  const width = CHART_WIDTH_PX - 130;
  const rows: {
    phase: string;
    class: string;
    code: string;
    stage: string;
    count: number;
    start: number;
    end: number;
    mid: number;
    label: string;
    ink: string;
  }[] = [];
  const stageColor = (stage: string) =>
    stage === ACCEPTED_SEGMENT ? OKABE_ITO.vermillion : STAGE_COLORS[stage as DefenceStage] ?? NEUTRAL_GREY;
  for (const [phase, byClass] of Object.entries(attacks)) {
    for (const [attackClass, o] of Object.entries(byClass)) {
      if (o.attempts === 0) continue;
      const segments: [string, string, number][] = [];
      if (o.accepted > 0) segments.push(["ACCEPTED", ACCEPTED_SEGMENT, o.accepted]);
      const codes = Object.entries(o.by_code).sort(([a, n], [b, m]) =>
        DEFENCE_STAGES.indexOf(defenceStage(a)) - DEFENCE_STAGES.indexOf(defenceStage(b)) || m - n
      );
      for (const [code, n] of codes) if (n > 0) segments.push([code, defenceStage(code), n]);
      let start = 0;
      for (const [code, stage, count] of segments) {
        // Shares of the class's attempts: every bar is full width, so each code gets room for its label.
        const px = (count / o.attempts) * width;
        const full = `${code} ${count}`;
        const label = full.length * LABEL_CHAR_PX + 6 <= px
          ? full
          : String(count).length * LABEL_CHAR_PX + 4 <= px
          ? String(count)
          : "";
        rows.push({
          phase,
          class: attackClass,
          code,
          stage,
          count,
          start: start / o.attempts,
          end: (start + count) / o.attempts,
          mid: (start + count / 2) / o.attempts,
          label,
          ink: inkOn(stageColor(stage)),
        });
        start += count;
      }
    }
  }
  if (rows.length === 0) return undefined;
  const stages = [ACCEPTED_SEGMENT, ...DEFENCE_STAGES].filter((s) => rows.some((r) => r.stage === s));
  const phases = [...new Set(rows.map((r) => r.phase))];
  // One panel per phase (Phase I first), stacked, with one legend for both.
  return {
    config: BASE_CONFIG,
    vconcat: phases.map((phase) => ({
      title: { text: phase, anchor: "start" as const, fontSize: 12 },
      data: { values: rows.filter((r) => r.phase === phase) },
      width,
      height: { step: 22 },
      encoding: { y: { field: "class", type: "nominal" as const, title: null, sort: null } },
      layer: [
        {
          mark: { type: "bar" as const, stroke: "white", strokeWidth: 1 },
          encoding: {
            x: {
              field: "start",
              type: "quantitative" as const,
              title: "share of the class's attempts (count written on each segment)",
              scale: { domain: [0, 1] },
              axis: { format: "%" },
            },
            x2: { field: "end" },
            color: {
              field: "stage",
              type: "nominal" as const,
              title: "stopped by (stage)",
              legend: { labelLimit: 260 },
              scale: { domain: stages, range: stages.map(stageColor) },
            },
          },
        },
        {
          mark: { type: "text" as const, fontSize: 10.5, baseline: "middle" as const },
          encoding: {
            x: { field: "mid", type: "quantitative" as const },
            text: { field: "label" },
            color: { field: "ink", type: "nominal" as const, scale: null },
          },
        },
      ],
    })),
    resolve: { scale: { color: "shared" } },
  };
}

/** Colour per defence stage; vermillion is kept for attempts that worked, so no stage uses it. */
const STAGE_COLORS: Readonly<Record<DefenceStage, string>> = {
  "broker (authentication, ACL)": OKABE_ITO.blue,
  "shape checks": OKABE_ITO.orange,
  "identity (trust list)": OKABE_ITO.bluishGreen,
  "freshness (time window)": OKABE_ITO.reddishPurple,
  "signature": OKABE_ITO.skyBlue,
  "replay state": OKABE_ITO.yellow,
  "decryption / confidentiality": OKABE_ITO.black,
  "other": NEUTRAL_GREY,
};

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
        scale: { domain: stages, range: [...CATEGORY_COLORS] },
      },
      order: { field: "step", type: "quantitative" },
    },
  };
}

/**
 * Box plots of measured time per call for each timing class, one panel per function, all on one shared
 * time axis: whiskers p5–p95, box p25–p75, tick at the median. `undefined` without timing results.
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
    title: "time per call (ns, same scale in both panels)",
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
    // One x scale for both panels: the two functions' times are compared on the same axis.
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

/** The box plot figures of a timing class's `percentiles_ns`. */
function boxFigures(p: Record<string, number>): BoxFigures {
  return { p05: p.p05, p25: p.p25, p50: p.p50, p75: p.p75, p95: p.p95 };
}

/**
 * The layers of a box plot over {@link BoxFigures} fields, in the encoding's colour: whisker p5–p95, box
 * p25–p75 and a white tick at the median, `size` px thick.
 */
function boxPlotLayers<X>(x: (field: string) => X, size: number) {
  return [
    { mark: { type: "rule" as const }, encoding: { x: x("p05"), x2: { field: "p95" } } },
    { mark: { type: "bar" as const, size }, encoding: { x: x("p25"), x2: { field: "p75" } } },
    { mark: { type: "tick" as const, color: "white", size, thickness: 2 }, encoding: { x: x("p50") } },
  ];
}
