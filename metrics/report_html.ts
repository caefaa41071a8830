/**
 * report.html: one self-contained page (inline CSS and SVG charts, no script, no external resource) built
 * from the metrics.json document.
 * @module
 */

import {
  blockedByChartSpec,
  cryptoChartSpec,
  latencyCdfChartSpec,
  renderSvg,
  suiteLabel,
  timingChartSpec,
} from "./charts.ts";
import { attackTotals, headline } from "./headline.ts";
import { OKABE_ITO } from "./palette.ts";
import { type BenchTable, METRICS_SCHEMA, type MetricsDocument, type TimingEntry } from "./report.ts";
import {
  attackGlossaryTable,
  attackTable,
  benchAsTable,
  codeGlossaryTable,
  cryptoTable,
  latencyTable,
  legitTable,
  percent,
  ratio,
  settingsTable,
  type Table,
  timingTable,
} from "./report_tables.ts";
import type { TimingSummary } from "./types.ts";

function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function htmlTable(table: Table): string {
  const cells = (tag: "th" | "td", row: string[]) =>
    row.map((c, i) => `<${tag}${table.numeric?.includes(i) ? ' class="num"' : ""}>${escapeHtml(c)}</${tag}>`)
      .join("");
  const body = table.rows.map((row) => `<tr>${cells("td", row)}</tr>`).join("\n");
  // The wrapper scrolls a table wider than the page instead of letting it spill over the card.
  return `<div class="table-wrap"><table><thead><tr>${
    cells("th", table.columns)
  }</tr></thead><tbody>\n${body}\n</tbody></table></div>`;
}

const CSS = `
:root { color-scheme: light; --ink: #1d2330; --muted: #5b6475; --line: #e3e6ec; --accent: #2b5fd9; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
  background: #f6f7f9; }
header { background: #1d2330; color: #fff; padding: 20px max(24px, calc((100% - 932px) / 2)); }
header h1 { margin: 0 0 4px; font-size: 24px; }
header p { margin: 0; color: #c9cfdb; font-size: 13px; max-width: 932px; }
header p.headline { color: #fff; font-size: 16px; line-height: 1.45; margin: 6px 0 8px; }
main { max-width: 980px; margin: 0 auto; padding: 16px 24px 48px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 16px 20px; margin: 16px 0; }
h2 { font-size: 18px; margin: 0 0 8px; }
p.note { color: var(--muted); font-size: 13px; margin: 4px 0 12px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: 12px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; }
.card .value { font-size: 20px; font-weight: 600; }
.card .value small { font-size: 14px; font-weight: 500; }
.card .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.good { color: ${OKABE_ITO.blue}; } .bad { color: ${OKABE_ITO.vermillion}; }
.card .tone { font-size: 12px; font-weight: 600; }
.table-wrap { overflow-x: auto; }
td { overflow-wrap: break-word; }
table { border-collapse: collapse; width: 100%; font-size: 13px; margin: 8px 0; }
th, td { padding: 6px 8px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { background: #f0f2f5; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
th.num { white-space: nowrap; }
figure { margin: 8px 0; overflow-x: auto; }
figure svg { max-width: 100%; height: auto; }
code { font-size: 12px; background: #f0f2f5; padding: 1px 4px; border-radius: 3px; }
`;

/**
 * A headline figure; its tone is said in words as well as in colour ("all refused", "attacks worked"). A
 * parenthesised tail of the value ("(100%)") is set smaller, so "30000/30000 (100%)" fits a narrow card.
 */
function card(label: string, value: string, tone?: { kind: "good" | "bad"; words: string }): string {
  const toneClass = tone ? ` ${tone.kind}` : "";
  const words = tone ? `<div class="tone${toneClass}">${escapeHtml(tone.words)}</div>` : "";
  const [, main, tail] = value.match(/^(.*?)( \(.*\))?$/) ?? [value, value, undefined];
  const shown = escapeHtml(main) + (tail ? `<small>${escapeHtml(tail)}</small>` : "");
  return `<div class="card"><div class="label">${
    escapeHtml(label)
  }</div><div class="value${toneClass}">${shown}</div>${words}</div>`;
}

function headlineCards(doc: MetricsDocument): string {
  const before = attackTotals(doc, "insecure");
  const after = attackTotals(doc, "secure");
  const worked = (t: { accepted: number }) =>
    t.accepted > 0
      ? { kind: "bad" as const, words: "attacks worked" }
      : { kind: "good" as const, words: "all refused" };
  return `<div class="cards">
${
    card(
      "attacks accepted, Phase I (insecure)",
      `${before.accepted}/${before.attempts} (${percent(before.rate)})`,
      before.attempts > 0 ? worked(before) : undefined,
    )
  }
${
    card(
      "attacks accepted, Phase II (secure)",
      `${after.accepted}/${after.attempts} (${percent(after.rate)})`,
      after.attempts > 0 ? worked(after) : undefined,
    )
  }
${card("legit delivery, Phase II", percent(doc.legit.secure?.delivery_rate ?? null))}
${card("latency overhead (median)", ratio(doc.overhead.p50_ratio))}
${
    card(
      "timing |t|: vulnerable / constant-time",
      `${tFigure(doc.timing.vulnerableEqual)} / ${tFigure(doc.timing.constantTimeEqual)}`,
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
    `<section><h2>Run settings</h2>
<p class="note">As the logs record them (<code>role_started</code>, <code>broker_listening</code>,
<code>published</code>), so every figure below can be traced to the run that made it.</p>
${htmlTable(settingsTable(doc))}</section>`,
    `<section><h2>Attacks: what stopped each class</h2>
<p class="note">One bar per attack class, split by what happened to its attempts. Each segment is the check
that refused those attempts: its reason code and count are written on it where they fit (every code is in the
table below), its colour is the defence stage (meanings below). An "ACCEPTED"
segment is attempts that worked. An attack message counts as accepted when the actuator acted on its digest
more often than the sensor published it (a replay succeeds only when acted on twice); eavesdropping succeeds
when the captured message was readable.</p>
${await chart(blockedByChartSpec(doc.attacks), "No attacks in the logs.")}
${htmlTable(attackTable(doc))}</section>`,
    `<section><h2>What the attacks and reason codes mean</h2>
${htmlTable(attackGlossaryTable(doc))}
${htmlTable(codeGlossaryTable(doc))}</section>`,
    `<section><h2>Latency of door actions</h2>
<p class="note">Time from the sensor's send timestamp to the actuator acting, for legit messages: for each
latency on the x axis (log scale, ms), the share of door actions that took at most that long. A curve further
right is slower; its top end is the slowest action. Median, p99 and maximum are marked, their values are in the
legend, and all of them are in the table.</p>
${await chart(latencyCdfChartSpec(doc.latency_ms), "No action latencies in the logs.")}
${htmlTable(latencyTable(doc))}</section>`,
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
byte) and <code>random</code> (differs at the first byte), both functions on one time axis. Box: p25–p75,
whiskers: p5–p95, white tick: median. Welch's t on measurements cropped above the 90th percentile; |t| above
the threshold is a leak. "Secret recovered": bytes of a random secret found one by one from the compare's
timing alone (<code>timing --recover</code>).</p>
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
<header><h1>secmqtt report</h1><p class="headline">${escapeHtml(headline(doc))}</p><p>Generated ${
    escapeHtml(doc.generated_at)
  } · schema ${METRICS_SCHEMA} · run settings and the meaning of every class and code are below</p></header>
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

/** A timing entry's |t| to one decimal (the card compares sizes), "—" when the function was not measured. */
function tFigure(entry: TimingEntry | undefined): string {
  return entry === undefined || entry.t === null ? "—" : Math.abs(entry.t).toFixed(1);
}
