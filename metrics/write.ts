/**
 * Writes the three outputs of `secmqtt metrics` (metrics.json, summary.md, report.html) for a set of logs:
 * the one file of metrics/ that writes to disk. Used by the `metrics` command and by the demo.
 * @module
 */

import { join } from "node:path";
import { VERSION } from "../core/version.ts";
import { aggregateLogs } from "./aggregate.ts";
import { NoRecordsError } from "./errors.ts";
import type { ProgressListener } from "./progress.ts";
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
 * A missing log is an error; bad lines inside a log are counted, not fatal; logs without a single record
 * throw {@link NoRecordsError} and nothing is written. `onProgress` hears the fold's progress.
 * @example
 * ```ts
 * const { metrics, paths } = await writeReport({ logs: ["out/phase1.jsonl", "out/phase2.jsonl"], outDir: "out" });
 * metrics.attacks.secure; // per-class outcomes; the page is at paths.html
 * ```
 */
export async function writeReport(
  options: {
    logs: string[];
    outDir: string;
    benchTable?: BenchTable;
    now?: () => Date;
    onProgress?: ProgressListener;
  },
): Promise<{ metrics: MetricsDocument; summary: string; paths: ReportPaths }> {
  const aggregate = await aggregateLogs(options.logs, options.onProgress);
  if (aggregate.records === 0) throw new NoRecordsError(options.logs, aggregate.lines);
  const metrics = metricsDocument(aggregate, options.logs, options.now?.() ?? new Date(), {
    secmqtt: VERSION,
    deno: Deno.version.deno,
  });
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
