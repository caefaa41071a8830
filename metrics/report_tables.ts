/**
 * The report's tables, as header plus rows of cell text, and the number formats they use: the same tables
 * go into summary.md (as Markdown) and report.html (as HTML).
 * @module
 */

import { componentStages, stageLabel, suiteLabel, TOTAL_STAGES } from "./charts.ts";
import { defenceStage, describeAttackClass, describeReasonCode } from "./glossary.ts";
import type { BenchTable, MetricsDocument } from "./report.ts";
import { type AttackOutcome, type LegitDelivery, PHASES } from "./types.ts";

/** A table as header row plus body rows of cell text. */
export interface Table {
  columns: string[];
  rows: string[][];
  /** Columns (by index) whose cells are numbers, right-aligned. */
  numeric?: number[];
}

/**
 * Every attack class seen in any phase, in a stable order: Phase I classes first.
 * @example
 * ```ts
 * attackClasses(doc); // ["eavesdrop", "inject", "replay", "tamper", "cross-topic-replay", …]
 * ```
 */
export function attackClasses(doc: MetricsDocument): string[] {
  const seen = new Set<string>();
  for (const phase of PHASES) for (const c of Object.keys(doc.attacks[phase] ?? {})) seen.add(c);
  for (const byClass of Object.values(doc.attacks)) for (const c of Object.keys(byClass)) seen.add(c);
  return [...seen];
}

/**
 * Every reason code that blocked an attack or rejected a legit message, in order of first appearance.
 * @example
 * ```ts
 * reasonCodes(doc); // ["NOT_READABLE", "REPLAY", "DUPLICATE", "BAD_SIGNATURE", …]
 * ```
 */
export function reasonCodes(doc: MetricsDocument): string[] {
  const seen = new Set<string>();
  for (const byClass of Object.values(doc.attacks)) {
    for (const o of Object.values(byClass)) for (const code of Object.keys(o.by_code)) seen.add(code);
  }
  for (const l of Object.values(doc.legit)) {
    for (const code of Object.keys(l.rejected_by_code)) seen.add(code);
  }
  return [...seen];
}

/**
 * The run's settings as the logs carry them, one row per setting, plus the versions that made the report.
 * @example
 * ```ts
 * settingsTable(doc).rows[0][0]; // "runs"
 * ```
 */
export function settingsTable(doc: MetricsDocument): Table {
  const s = doc.settings;
  const rows: string[][] = [];
  rows.push(["runs", doc.runs.join(", ") || "—"]);
  if (s.first_ts !== null && s.last_ts !== null) {
    const seconds = (s.last_ts - s.first_ts) / 1000;
    rows.push([
      "when",
      `${new Date(s.first_ts).toISOString()} to ${new Date(s.last_ts).toISOString()} (${
        seconds.toFixed(1)
      } s)`,
    ]);
  }
  rows.push(["logs", doc.inputs.join(", ") || "—"]);
  rows.push([
    "envelope suites",
    s.suites.map((suite) => suiteLabel(suite) === suite ? suite : `${suiteLabel(suite)} (${suite})`)
      .join(", ") || "— (no secure messages)",
  ]);
  rows.push([
    "session-key epoch",
    s.epoch_lengths.length === 0
      ? "—"
      : `${s.epoch_lengths.join(", ")} message${s.epoch_lengths.join() === "1" ? "" : "s"} per session key`,
  ]);
  for (const [phase, a] of Object.entries(s.attackers)) {
    const eavesdrop = a.classes.includes("eavesdrop") ? " (eavesdrop: every message captured)" : "";
    rows.push([
      `attacker, ${phase}`,
      `${a.classes.length} class${a.classes.length === 1 ? "" : "es"} × ${
        a.attempts ?? "?"
      } attempts${eavesdrop}`,
    ]);
  }
  for (const [phase, sensor] of Object.entries(s.sensors)) {
    const count = sensor.count === null ? "unbounded" : `${sensor.count} messages`;
    const every = sensor.interval_ms === null ? "" : `, one every ${sensor.interval_ms} ms`;
    rows.push([`legit sensor, ${phase}`, count + every]);
  }
  rows.push([
    "broker",
    s.broker.kind === "embedded"
      ? `embedded (secmqtt broker), started ${s.broker.listeners}×, ${s.broker.secure_listeners}× with ` +
        "passwords and ACL"
      : "not in the logs (an external broker such as Mosquitto logs nothing here)",
  ]);
  const by = s.generated_by;
  rows.push([
    "report made by",
    `${
      by ? `secmqtt ${by.secmqtt} on Deno ${by.deno}` : "secmqtt (version not recorded)"
    }, ${doc.generated_at}`,
  ]);
  return { columns: ["setting", "value"], rows };
}

/**
 * What each attack class that occurs does (from metrics/glossary.ts).
 * @example
 * ```ts
 * attackGlossaryTable(doc).columns; // ["attack class", "what the attacker does"]
 * ```
 */
export function attackGlossaryTable(doc: MetricsDocument): Table {
  return {
    columns: ["attack class", "what the attacker does"],
    rows: attackClasses(doc).map((c) => [c, describeAttackClass(c)]),
  };
}

/**
 * What each reason code that occurs means, and the defence stage it belongs to (from metrics/glossary.ts).
 * @example
 * ```ts
 * codeGlossaryTable(doc).columns; // ["reason code", "stage", "what refused the attempt"]
 * ```
 */
export function codeGlossaryTable(doc: MetricsDocument): Table {
  return {
    columns: ["reason code", "stage", "what refused the attempt"],
    rows: reasonCodes(doc).map((code) => [code, defenceStage(code), describeReasonCode(code)]),
  };
}

/**
 * Latency per phase (count, mean, p50, p95, p99, max in ms) and the secure ÷ insecure overhead row.
 * @example
 * ```ts
 * latencyTable(doc).rows[0][0]; // "insecure"
 * ```
 */
export function latencyTable(doc: MetricsDocument): Table {
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

/**
 * Accepted/attempts per attack class before and after, with the secure phase's blocking codes.
 * @example
 * ```ts
 * attackTable(doc).columns[0]; // "attack class"
 * ```
 */
export function attackTable(doc: MetricsDocument): Table {
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

/**
 * Legit delivery per phase: sent, acted on, falsely rejected, not seen, delivery rate.
 * @example
 * ```ts
 * legitTable(doc).rows.length; // one row per phase
 * ```
 */
export function legitTable(doc: MetricsDocument): Table {
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

/**
 * Welch's t, verdict and recovered secret bytes per timing function.
 * @example
 * ```ts
 * timingTable(doc).rows[0][0]; // "vulnerableEqual"
 * ```
 */
export function timingTable(doc: MetricsDocument): Table {
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

/**
 * Mean cost per stage per side, suite and epoch length, with the whole seal/open time as "total ms".
 * @example
 * ```ts
 * cryptoTable(doc).columns.at(-1); // "total ms"
 * ```
 */
export function cryptoTable(doc: MetricsDocument): Table {
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

/**
 * A bench table as cell text (`null` as "—").
 * @example
 * ```ts
 * benchAsTable({ columns: ["a"], rows: [[null]] }).rows; // [["—"]]
 * ```
 */
export function benchAsTable(bench: BenchTable): Table {
  return {
    columns: bench.columns,
    rows: bench.rows.map((row) => row.map((c) => (c === null ? "—" : String(c)))),
  };
}

/**
 * A table as GitHub Markdown, numeric columns right-aligned.
 * @example
 * ```ts
 * markdownTable({ columns: ["a"], rows: [["1"]] }); // "| a |\n| --- |\n| 1 |"
 * ```
 */
export function markdownTable(table: Table): string {
  const escape = (s: string) => s.replace(/\|/g, "\\|");
  const align = table.columns.map((_, i) => (table.numeric?.includes(i) ? "---:" : "---"));
  return [
    `| ${table.columns.map(escape).join(" | ")} |`,
    `| ${align.join(" | ")} |`,
    ...table.rows.map((row) => `| ${row.map(escape).join(" | ")} |`),
  ].join("\n");
}

/**
 * Milliseconds with 3 significant-ish digits; "—" when not finite.
 * @example
 * ```ts
 * ms(12.345); // "12.3"
 * ```
 */
export function ms(x: number): string {
  if (!Number.isFinite(x)) return "—";
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(3);
}

/**
 * A ratio as "3.60×"; "—" when unknown.
 * @example
 * ```ts
 * ratio(3.6); // "3.60×"
 * ```
 */
export function ratio(x: number | null): string {
  return x === null ? "—" : `${x.toFixed(2)}×`;
}

/**
 * A rate as a percentage, whole at 0 and 100 %; "—" when unknown.
 * @example
 * ```ts
 * percent(0.5); // "50.0%"
 * ```
 */
export function percent(x: number | null): string {
  return x === null ? "—" : `${(x * 100).toFixed(x === 0 || x === 1 ? 0 : 1)}%`;
}
