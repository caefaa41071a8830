/**
 * The verdict and the summary table of a fuzz run.
 * @module
 */

import { q } from "./json_members.ts";
import type { FuzzReport } from "./tally.ts";

/**
 * True if the run broke a rule: anything accepted, thrown, hung, a signature bypass, stats that do not
 * add up, or fewer cases run than asked.
 * @example
 * ```ts
 * if (fuzzFailed(report)) Deno.exitCode = 1;
 * ```
 */
export function fuzzFailed(report: FuzzReport): boolean {
  return report.failures.length > 0 || report.unhandled > 0 || report.casesRun !== report.options.cases;
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(" | ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("-|-"), ...rows.map(line)];
}

/**
 * The summary table printed by the CLI.
 * @example
 * ```ts
 * console.log(formatReport(report));
 * ```
 */
export function formatReport(report: FuzzReport): string {
  const lines: string[] = [];
  const { options } = report;
  const seconds = report.elapsedMs / 1000;
  lines.push(
    `secmqtt fuzz: target ${options.target}, seed ${options.seed}, ${report.casesRun} of ${options.cases} cases ` +
      `in ${seconds.toFixed(1)} s (${Math.round(report.casesRun / seconds)} cases/s)`,
  );
  const targets = [["open", report.open], ["actuator", report.actuator]] as const;
  const header = [
    "target",
    "cases",
    "rejected",
    "accepted",
    "exceptions",
    "hangs",
    "sig bypass",
    "unexpected code",
    "slowest ms",
    "retimed",
    "authentic ok",
  ];
  const rows = targets.filter(([, t]) => t).map(([name, t]) => [
    name,
    ...[t!.cases, t!.rejected, t!.accepted, t!.exceptions, t!.hangs, t!.signatureBypasses, t!.unexpectedCodes]
      .map(String),
    t!.slowestMs.toFixed(1),
    String(t!.retimed),
    String(t!.authenticOk),
  ]);
  lines.push("");
  lines.push(...table(header, rows));
  const present = targets.filter(([, t]) => t !== undefined);
  const codes = [...new Set(present.flatMap(([, t]) => Object.keys(t!.byCode)))].sort();
  lines.push("");
  lines.push(
    ...table(
      ["code", ...present.map(([name]) => name)],
      codes.map((code) => [code, ...present.map(([, t]) => String(t!.byCode[code] ?? 0))]),
    ),
  );
  if (report.actuator) {
    const s = report.actuator.stats;
    lines.push("");
    lines.push(
      `actuator stats: received ${s.received} (incl. seeds), acted ${s.acted} (the seeds only), ` +
        `rejected ${s.rejected}, duplicates ${s.duplicates}; bursts ${report.actuator.bursts}, ` +
        `restarts ${report.actuator.restarts}`,
    );
  }
  lines.push("");
  lines.push(
    "mutations: " + Object.entries(report.byMutation).sort().map(([k, v]) => `${k} ${v}`).join(", "),
  );
  if (report.failures.length > 0) {
    lines.push("");
    lines.push(`FAILURES (${report.failures.length}${report.failures.length >= 1_000 ? "+" : ""}):`);
    for (const f of report.failures.slice(0, 20)) {
      const where = f.case
        ? ` case ${f.case.index} ${f.case.mutation} (${f.case.detail}) topic ${q(f.case.topic)}`
        : "";
      lines.push(`  ${f.target} ${f.kind}:${where}: ${f.message}`);
    }
  }
  lines.push("");
  lines.push(fuzzFailed(report) ? "FAIL" : "PASS: 0 accepted, 0 exceptions, 0 hangs");
  return lines.join("\n");
}
