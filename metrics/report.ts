/**
 * The three outputs of `secmqtt metrics`, built from the fold's numbers: metrics.json (docs/METRICS.md),
 * summary.md (the headline tables) and report.html (one self-contained page with inline SVG charts).
 * Everything here is a function of its inputs; metrics/write.ts writes the files.
 * @module
 */

import {
  type AggregateMetrics,
  type AttackOutcome,
  type Distribution,
  type LegitDelivery,
  PHASES,
  type TimingSummary,
} from "./aggregate.ts";
import {
  attackChartSpec,
  componentStages,
  cryptoChartSpec,
  latencyChartSpec,
  renderSvg,
  stageLabel,
  suiteLabel,
  timingChartSpec,
  TOTAL_STAGES,
} from "./charts.ts";

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

/** The body of metrics.json. */
export interface MetricsDocument extends Omit<AggregateMetrics, "timing"> {
  schema: string;
  generated_at: string;
  inputs: string[];
  timing: Record<string, TimingEntry>;
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
};

/**
 * The metrics.json document: the fold's numbers plus schema, inputs and generation time, with the
 * required phases and timing functions present even when a log had none of them.
 * @example
 * ```ts
 * const doc = metricsDocument(await aggregateLogs(paths), paths, new Date());
 * doc.latency_ms.secure.p95;
 * ```
 */
export function metricsDocument(
  metrics: AggregateMetrics,
  inputs: string[],
  generatedAt: Date,
): MetricsDocument {
  const latency = { ...metrics.latency_ms };
  const attacks = { ...metrics.attacks };
  const legit = { ...metrics.legit };
  for (const phase of PHASES) {
    latency[phase] ??= { ...EMPTY_DISTRIBUTION };
    attacks[phase] ??= {};
    legit[phase] ??= {
      sent: 0,
      accepted: 0,
      falsely_rejected: 0,
      not_seen: 0,
      duplicates: 0,
      delivery_rate: null,
      rejected_by_code: {},
    };
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

/** A table as header row plus body rows of cell text. */
interface Table {
  columns: string[];
  rows: string[][];
  /** Columns (by index) whose cells are numbers, right-aligned. */
  numeric?: number[];
}

/** Every attack class seen in either phase, in a stable order: Phase I classes first. */
function attackClasses(doc: MetricsDocument): string[] {
  const seen = new Set<string>();
  for (const phase of PHASES) for (const c of Object.keys(doc.attacks[phase] ?? {})) seen.add(c);
  for (const byClass of Object.values(doc.attacks)) for (const c of Object.keys(byClass)) seen.add(c);
  return [...seen];
}

function latencyTable(doc: MetricsDocument): Table {
  const rows = Object.entries(doc.latency_ms).map(([phase, d]) => [
    phase,
    String(d.count),
    ms(d.mean),
    ms(d.p50),
    ms(d.p95),
    ms(d.p99),
    ms(d.max),
  ]);
  const o = doc.overhead;
  rows.push([
    "overhead (secure / insecure)",
    "",
    ratio(o.mean_ratio),
    ratio(o.p50_ratio),
    ratio(o.p95_ratio),
    ratio(o.p99_ratio),
    "",
  ]);
  return {
    columns: ["phase", "actions", "mean ms", "p50 ms", "p95 ms", "p99 ms", "max ms"],
    rows,
    numeric: [1, 2, 3, 4, 5, 6],
  };
}

function attackTable(doc: MetricsDocument): Table {
  const cell = (o: AttackOutcome | undefined) =>
    o ? `${o.accepted}/${o.attempts} (${percent(o.success_rate)})` : "—";
  const codes = (o: AttackOutcome | undefined) =>
    o ? Object.entries(o.by_code).map(([code, n]) => `${code} ${n}`).join(", ") || "—" : "—";
  const rows = attackClasses(doc).map((c) => {
    const before = doc.attacks.insecure?.[c];
    const after = doc.attacks.secure?.[c];
    return [c, cell(before), cell(after), codes(after)];
  });
  return {
    columns: [
      "attack class",
      "insecure: accepted/attempts",
      "secure: accepted/attempts",
      "secure: blocked by",
    ],
    rows,
  };
}

function legitTable(doc: MetricsDocument): Table {
  const rows = Object.entries(doc.legit).map(([phase, l]: [string, LegitDelivery]) => [
    phase,
    String(l.sent),
    String(l.accepted),
    String(l.falsely_rejected),
    String(l.not_seen),
    percent(l.delivery_rate),
  ]);
  return {
    columns: ["phase", "sent", "acted on", "falsely rejected", "not seen", "delivery"],
    rows,
    numeric: [1, 2, 3, 4, 5],
  };
}

function timingTable(doc: MetricsDocument): Table {
  const rows = Object.entries(doc.timing).map(([fn, r]) => [
    fn,
    r.t === null ? "—" : r.t.toFixed(2),
    String(r.n),
    r.threshold === null ? "—" : String(r.threshold),
    r.leak === null ? "not measured" : r.leak ? "LEAK" : "no leak",
    recovered(doc.recovery[fn]),
  ]);
  return {
    columns: ["function", "Welch t", "n per class", "threshold", "verdict", "secret recovered"],
    rows,
    numeric: [1, 2, 3],
  };
}

/** "16/16 bytes"; just "16 bytes" when the log did not say how long the secret was. */
function recovered(r: MetricsDocument["recovery"][string] | undefined): string {
  if (!r) return "—";
  return r.target_bytes === null
    ? `${r.bytes_recovered} bytes`
    : `${r.bytes_recovered}/${r.target_bytes} bytes`;
}

function cryptoTable(doc: MetricsDocument): Table {
  const rows: string[][] = [];
  for (const [side, groups] of Object.entries(doc.crypto)) {
    for (const g of groups) {
      const stages = componentStages(g).map(([name, mean]) => `${stageLabel(name)} ${ms(mean)}`).join(", ");
      const total = TOTAL_STAGES.map((name) => g.stages[name]).find((c) => c !== undefined);
      rows.push([
        side,
        suiteLabel(g.suite),
        g.epoch_length === null ? "—" : String(g.epoch_length),
        String(g.count),
        stages,
        total ? ms(total.mean) : "—",
      ]);
    }
  }
  return {
    columns: ["side", "suite", "epoch", "messages", "mean ms per stage", "total ms"],
    rows,
    numeric: [3, 5],
  };
}

function benchAsTable(bench: BenchTable): Table {
  return {
    columns: bench.columns,
    rows: bench.rows.map((row) => row.map((c) => (c === null ? "—" : String(c)))),
  };
}

function markdownTable(table: Table): string {
  const escape = (s: string) => s.replace(/\|/g, "\\|");
  const align = table.columns.map((_, i) => (table.numeric?.includes(i) ? "---:" : "---"));
  return [
    `| ${table.columns.map(escape).join(" | ")} |`,
    `| ${align.join(" | ")} |`,
    ...table.rows.map((row) => `| ${row.map(escape).join(" | ")} |`),
  ].join("\n");
}

/**
 * summary.md: the headline tables — latency and overhead, attack success before/after per class, legit
 * delivery, timing verdicts — plus the inputs and bad-line count.
 * @example
 * ```ts
 * await Deno.writeTextFile("out/summary.md", summaryMarkdown(doc));
 * ```
 */
export function summaryMarkdown(doc: MetricsDocument, bench?: BenchTable): string {
  const parts = [
    "# secmqtt metrics",
    "",
    `Inputs: ${doc.inputs.map((p) => `\`${p}\``).join(", ") || "none"} — ${doc.records} records, ` +
    `${doc.bad_lines} bad line${doc.bad_lines === 1 ? "" : "s"}.`,
    "",
    "## Latency of door actions (ms)",
    "",
    markdownTable(latencyTable(doc)),
    "",
    "## Attacks: accepted / attempts, before (insecure) and after (secure)",
    "",
    markdownTable(attackTable(doc)),
    "",
    "## Legit delivery",
    "",
    markdownTable(legitTable(doc)),
    "",
    "## Timing (dudect: Welch's t on cropped measurements)",
    "",
    markdownTable(timingTable(doc)),
  ];
  if (bench) {
    parts.push("", `## ${bench.title ?? "End-to-end bench"}`, "", markdownTable(benchAsTable(bench)));
  }
  return parts.join("\n") + "\n";
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function htmlTable(table: Table): string {
  const head = table.columns.map((c, i) =>
    `<th${table.numeric?.includes(i) ? ' class="num"' : ""}>${escapeHtml(c)}</th>`
  )
    .join("");
  const body = table.rows
    .map((row) =>
      `<tr>${
        row.map((c, i) => `<td${table.numeric?.includes(i) ? ' class="num"' : ""}>${escapeHtml(c)}</td>`)
          .join("")
      }</tr>`
    )
    .join("\n");
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

const CSS = `
:root { color-scheme: light; --ink: #1d2330; --muted: #5b6475; --line: #e3e6ec; --accent: #2b5fd9; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
  background: #f6f7f9; }
header { background: #1d2330; color: #fff; padding: 24px 32px; }
header h1 { margin: 0 0 4px; font-size: 24px; }
header p { margin: 0; color: #c9cfdb; font-size: 13px; }
main { max-width: 980px; margin: 0 auto; padding: 16px 24px 48px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 16px 20px; margin: 16px 0; }
h2 { font-size: 18px; margin: 0 0 8px; }
p.note { color: var(--muted); font-size: 13px; margin: 4px 0 12px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(200px, 1fr)); gap: 12px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; }
.card .value { font-size: 22px; font-weight: 600; }
.card .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.good { color: #1a7f37; } .bad { color: #c62828; }
table { border-collapse: collapse; width: 100%; font-size: 13px; margin: 8px 0; }
th, td { padding: 6px 8px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { background: #f0f2f5; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
th.num { white-space: nowrap; }
figure { margin: 8px 0; overflow-x: auto; }
figure svg { max-width: 100%; height: auto; }
code { font-size: 12px; background: #f0f2f5; padding: 1px 4px; border-radius: 3px; }
`;

function card(label: string, value: string, tone?: "good" | "bad"): string {
  return `<div class="card"><div class="label">${escapeHtml(label)}</div><div class="value${
    tone ? ` ${tone}` : ""
  }">${escapeHtml(value)}</div></div>`;
}

function headlineCards(doc: MetricsDocument): string {
  const totals = (phase: string) => {
    let attempts = 0;
    let accepted = 0;
    for (const o of Object.values(doc.attacks[phase] ?? {})) {
      attempts += o.attempts;
      accepted += o.accepted;
    }
    return { attempts, accepted, rate: attempts > 0 ? accepted / attempts : null };
  };
  const before = totals("insecure");
  const after = totals("secure");
  const leaky = doc.timing.vulnerableEqual;
  const constant = doc.timing.constantTimeEqual;
  return `<div class="cards">
${
    card(
      "attacks accepted, insecure",
      `${before.accepted}/${before.attempts} (${percent(before.rate)})`,
      before.accepted > 0 ? "bad" : undefined,
    )
  }
${
    card(
      "attacks accepted, secure",
      `${after.accepted}/${after.attempts} (${percent(after.rate)})`,
      after.attempts > 0 ? (after.accepted === 0 ? "good" : "bad") : undefined,
    )
  }
${card("latency overhead (p50)", ratio(doc.overhead.p50_ratio))}
${card("legit delivery, secure", percent(doc.legit.secure?.delivery_rate ?? null))}
${
    card(
      "timing t: vulnerable / constant",
      `${leaky?.t === null || leaky === undefined ? "—" : leaky.t.toFixed(1)} / ${
        constant?.t === null || constant === undefined ? "—" : constant.t.toFixed(1)
      }`,
    )
  }
</div>`;
}

/**
 * report.html: one self-contained page (inline CSS and SVG, no script, no external resource) with the
 * headline figures, charts and tables.
 * @example
 * ```ts
 * await Deno.writeTextFile("out/report.html", await reportHtml(doc));
 * ```
 */
export async function reportHtml(doc: MetricsDocument, bench?: BenchTable): Promise<string> {
  const chart = async (spec: Parameters<typeof renderSvg>[0] | undefined, empty: string) =>
    spec ? `<figure>${await renderSvg(spec)}</figure>` : `<p class="note">${escapeHtml(empty)}</p>`;
  const measuredTiming: Record<string, TimingSummary> = {};
  for (const [fn, r] of Object.entries(doc.timing)) if (r.t !== null) measuredTiming[fn] = r as TimingSummary;
  const sections = [
    `<section><h2>Latency of door actions</h2>
<p class="note">Time from the sensor's send timestamp to the actuator acting, for legit messages. Box: p25–p75,
whiskers: p5–p95, white tick: median, red dot: mean.</p>
${await chart(latencyChartSpec(doc.latency_ms), "No action latencies in the logs.")}
${htmlTable(latencyTable(doc))}</section>`,
    `<section><h2>Attacks: accepted vs blocked</h2>
<p class="note">An attack message counts as accepted when the actuator acted on its digest more often than the
sensor published it (a replay succeeds only when acted on twice); eavesdropping succeeds when the captured
message was readable.</p>
${await chart(attackChartSpec(doc.attacks), "No attacks in the logs.")}
${htmlTable(attackTable(doc))}</section>`,
    `<section><h2>Legit delivery</h2>
<p class="note">Messages the real sensor published, and what the actuator did with them.</p>
${htmlTable(legitTable(doc))}</section>`,
    `<section><h2>Crypto cost per stage</h2>
<p class="note">Mean time per message of each stage, sensor (sign, wrap, encrypt) and actuator (parse, verify,
replay check, unwrap, decrypt, commit), per suite and session-key epoch length (messages per session key).
"total" is the whole seal or open as timed on its own (stages plus encoding), so it is not stacked.
${escapeHtml(suiteNames(doc))}</p>
${await chart(cryptoChartSpec(doc.crypto), "No per-stage timings in the logs (secure phase not run?).")}
${htmlTable(cryptoTable(doc))}</section>`,
    `<section><h2>Timing side channel</h2>
<p class="note">Time per call for two classes of wrong guesses: <code>prefix</code> (matches all but the last
byte) and <code>random</code> (differs at the first byte). Welch's t on measurements cropped above the 90th
percentile; |t| above the threshold is a leak. "Secret recovered": bytes of a random secret found one by one
from the compare's timing alone (<code>timing --recover</code>).</p>
${await chart(
      timingChartSpec(measuredTiming),
      "No timing results in the logs (run `secmqtt timing --log FILE`).",
    )}
${htmlTable(timingTable(doc))}</section>`,
  ];
  if (bench) {
    sections.push(`<section><h2>${escapeHtml(bench.title ?? "End-to-end bench")}</h2>
${htmlTable(benchAsTable(bench))}</section>`);
  }
  sections.push(`<section><h2>Inputs</h2>
<p class="note">${doc.records} records from ${doc.inputs.length} log file(s); ${doc.bad_lines} bad line(s)
skipped. Runs: ${escapeHtml(doc.runs.join(", ") || "—")}.</p>
<ul>${doc.inputs.map((p) => `<li><code>${escapeHtml(p)}</code></li>`).join("")}</ul></section>`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>secmqtt report</title>
<style>${CSS}</style>
</head>
<body>
<header><h1>secmqtt report</h1><p>Generated ${
    escapeHtml(doc.generated_at)
  } · schema ${METRICS_SCHEMA}</p></header>
<main>
${headlineCards(doc)}
${sections.join("\n")}
</main>
</body>
</html>
`;
}

/** "DSA = rsa-oaep-2048+aes-256-gcm+dsa-2048." for every suite that has a short label, or "". */
function suiteNames(doc: MetricsDocument): string {
  const suites = new Set([...doc.crypto.sensor, ...doc.crypto.actuator].map((g) => g.suite));
  const named = [...suites].filter((suite) => suiteLabel(suite) !== suite);
  return named.length === 0 ? "" : named.map((suite) => `${suiteLabel(suite)} = ${suite}`).join("; ") + ".";
}

function ms(x: number): string {
  if (!Number.isFinite(x)) return "—";
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(3);
}

function ratio(x: number | null): string {
  return x === null ? "—" : `${x.toFixed(2)}×`;
}

function percent(x: number | null): string {
  return x === null ? "—" : `${(x * 100).toFixed(x === 0 || x === 1 ? 0 : 1)}%`;
}
