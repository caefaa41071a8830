/**
 * Writes the three outputs of `secmqtt metrics` (metrics.json, summary.md, report.html) for a set of logs:
 * the one file of metrics/ that writes to disk. Used by the `metrics` command and by the demo.
 * @module
 */

import { join } from "node:path";
import { aggregateLogs } from "./aggregate.ts";
import {
  type BenchTable,
  type MetricsDocument,
  metricsDocument,
  metricsJson,
  summaryMarkdown,
} from "./report.ts";
import { reportHtml } from "./report_html.ts";

/** Where {@link writeReport} wrote its files. */
export interface ReportPaths {
  json: string;
  summary: string;
  html: string;
}

/**
 * Aggregates `logs` and writes metrics.json, summary.md and report.html into `outDir` (created if missing).
 * A missing log is an error; bad lines inside a log are counted, not fatal.
 * @example
 * ```ts
 * const { metrics, paths } = await writeReport({ logs: ["out/phase1.jsonl", "out/phase2.jsonl"], outDir: "out" });
 * metrics.attacks.secure; // per-class outcomes; the page is at paths.html
 * ```
 */
export async function writeReport(
  options: { logs: string[]; outDir: string; benchTable?: BenchTable; now?: () => Date },
): Promise<{ metrics: MetricsDocument; summary: string; paths: ReportPaths }> {
  const aggregate = await aggregateLogs(options.logs);
  const metrics = metricsDocument(aggregate, options.logs, options.now?.() ?? new Date());
  await Deno.mkdir(options.outDir, { recursive: true });
  const paths: ReportPaths = {
    json: join(options.outDir, "metrics.json"),
    summary: join(options.outDir, "summary.md"),
    html: join(options.outDir, "report.html"),
  };
  const summary = summaryMarkdown(metrics, options.benchTable);
  await Deno.writeTextFile(paths.json, metricsJson(metrics));
  await Deno.writeTextFile(paths.summary, summary);
  await Deno.writeTextFile(paths.html, await reportHtml(metrics, options.benchTable));
  return { metrics, summary, paths };
}
