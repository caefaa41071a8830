/**
 * `secmqtt metrics`: JSONL logs → metrics.json, summary.md and report.html (docs/METRICS.md).
 * @module
 */

import { join } from "node:path";
import { type CliIO, type Command, parseFlags, UsageError } from "./common.ts";
import { aggregateLogs } from "../metrics/aggregate.ts";
import {
  type BenchTable,
  type MetricsDocument,
  metricsDocument,
  metricsJson,
  reportHtml,
  summaryMarkdown,
} from "../metrics/report.ts";

export type { BenchTable, MetricsDocument };

const HELP = `secmqtt metrics — turn JSONL logs into metrics.json, summary.md and report.html

Usage:
  secmqtt metrics --log FILE [--log FILE …] --out DIR [--bench FILE]

Reads the logs in the order given (streamed: memory does not grow with the log size), joins attack
messages to the actuator's reactions by payload digest, and writes three files to DIR:
  metrics.json   every number (schema: docs/METRICS.md)
  summary.md     the headline tables
  report.html    one self-contained page with charts (no network needed to view it)
Lines that are not log records are counted and skipped, never fatal.

Options:
  --log FILE     a JSONL log written with --log by any role (repeat for several)
  --out DIR      directory for the three files (created if missing)
  --bench FILE   JSON table to add to the report: {"title": …, "columns": […], "rows": [[…], …]}
                 or an array of flat objects (one row each)
  -h, --help     show this help`;

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
 * console.log(paths.html, metrics.attacks.secure);
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

/**
 * Parses a bench table: `{ title?, columns, rows }` or an array of flat objects.
 * @example
 * ```ts
 * parseBenchTable('[{"suite":"rsa","msgs_per_s":950}]'); // { columns: ["suite", "msgs_per_s"], rows: [["rsa", 950]] }
 * ```
 */
export function parseBenchTable(text: string): BenchTable {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError("--bench expects a JSON file, got text that is not JSON");
  }
  const cell = (v: unknown) =>
    v === null || typeof v === "string" || typeof v === "number" || typeof v === "boolean"
      ? v
      : JSON.stringify(v);
  if (Array.isArray(value) && value.every((r) => typeof r === "object" && r !== null && !Array.isArray(r))) {
    const columns = [...new Set(value.flatMap((r) => Object.keys(r)))];
    return {
      columns,
      rows: value.map((r) => columns.map((c) => cell((r as Record<string, unknown>)[c] ?? null))),
    };
  }
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    const t = value as Record<string, unknown>;
    if (
      Array.isArray(t.columns) && t.columns.every((c) => typeof c === "string") && Array.isArray(t.rows) &&
      t.rows.every(Array.isArray)
    ) {
      return {
        title: typeof t.title === "string" ? t.title : undefined,
        columns: t.columns as string[],
        rows: (t.rows as unknown[][]).map((row) => row.map(cell)),
      };
    }
  }
  throw new UsageError('--bench expects {"columns": [...], "rows": [[...]]} or an array of objects');
}

/** `secmqtt metrics`. */
export const metricsCommand: Command = {
  name: "metrics",
  summary: "turn JSONL logs into metrics.json, summary.md and a self-contained report.html",
  help: HELP,
  async run(argv: string[], io: CliIO): Promise<number> {
    const flags = parseFlags(argv, {
      log: { type: "string", multiple: true },
      out: { type: "string" },
      bench: { type: "string" },
    });
    if (flags.help) {
      io.out(HELP);
      return 0;
    }
    const logs = (flags.values.log as string[] | undefined) ?? [];
    const outDir = flags.values.out as string | undefined;
    if (logs.length === 0) throw new UsageError("metrics needs at least one --log FILE");
    if (!outDir) throw new UsageError("metrics needs --out DIR");
    for (const path of logs) {
      try {
        if (!(await Deno.stat(path)).isFile) throw new Error();
      } catch {
        throw new UsageError(`cannot read --log ${path}`);
      }
    }
    let benchTable: BenchTable | undefined;
    const benchPath = flags.values.bench as string | undefined;
    if (benchPath !== undefined) {
      let text: string;
      try {
        text = await Deno.readTextFile(benchPath);
      } catch {
        throw new UsageError(`cannot read --bench ${benchPath}`);
      }
      benchTable = parseBenchTable(text);
    }
    const { metrics, summary, paths } = await writeReport({ logs, outDir, benchTable });
    io.out(`wrote ${paths.json}`);
    io.out(`wrote ${paths.summary}`);
    io.out(`wrote ${paths.html}`);
    if (metrics.bad_lines > 0) {
      io.err(`skipped ${metrics.bad_lines} bad line(s); see bad_line_examples in metrics.json`);
    }
    io.out("");
    for (const line of summary.trimEnd().split("\n")) io.out(line);
    return 0;
  },
};
