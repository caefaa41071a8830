/**
 * `secmqtt metrics`: JSONL logs → metrics.json, summary.md and report.html (docs/METRICS.md).
 * @module
 */

import { defineCommand } from "./command.ts";
import { flag, UsageError } from "./flags.ts";
import type { BenchTable } from "../metrics/report.ts";
import { NoRecordsError } from "../metrics/errors.ts";
import { ProgressLines } from "../metrics/progress.ts";
import { writeReport } from "../metrics/write.ts";

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

/** The `metrics` subcommand's flags. */
export const METRICS_FLAGS = {
  log: flag.list({
    placeholder: "FILE",
    required: true,
    help: "a JSONL log written with --log by any role (repeat for several)",
  }),
  out: flag.string({
    placeholder: "DIR",
    required: true,
    help: "directory for the three files (created if missing)",
  }),
  bench: flag.string({
    placeholder: "FILE",
    help: 'JSON table to add to the report: {"title": …, "columns": […], "rows": [[…], …]} or an array of ' +
      "flat objects (one row each)",
  }),
};

/** `secmqtt metrics`. */
export const metricsCommand = defineCommand({
  name: "metrics",
  summary: "turn JSONL logs into metrics.json, summary.md and a self-contained report.html",
  description:
    `Reads the logs in the order given (streamed: memory does not grow with the log size), joins attack
messages to the actuator's reactions by payload digest and topic, and writes three files to DIR:
  metrics.json   every number (schema: docs/METRICS.md)
  summary.md     the headline tables
  report.html    one self-contained page with charts (no network needed to view it)

Lines that are not log records are counted and skipped, never fatal.`,
  flags: METRICS_FLAGS,
  async run(flags, io) {
    const logs = flags.log;
    const outDir = flags.out;
    for (const path of logs) {
      let info: Deno.FileInfo;
      try {
        info = await Deno.stat(path);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new UsageError(
          `--log ${path}: cannot read it: ${reason} (give a JSON Lines file a role wrote)`,
        );
      }
      if (!info.isFile) {
        throw new UsageError(`--log ${path}: not a regular file (give a JSON Lines file a role wrote)`);
      }
    }
    let benchTable: BenchTable | undefined;
    const benchPath = flags.bench;
    if (benchPath !== undefined) {
      let text: string;
      try {
        text = await Deno.readTextFile(benchPath);
      } catch {
        throw new UsageError(`cannot read --bench ${benchPath}`);
      }
      benchTable = parseBenchTable(text);
    }
    const progress = new ProgressLines({
      now: () => Date.now(),
      write: io.err,
      live: Deno.stderr.isTerminal(),
    });
    const written = await writeReport({ logs, outDir, benchTable, onProgress: (p) => progress.update(p) })
      .catch((error) => error instanceof NoRecordsError ? error : Promise.reject(error));
    if (written instanceof NoRecordsError) {
      io.err(`secmqtt metrics: ${written.message}`); // the one final line: no progress summary of nothing
      return written.exitCode;
    }
    const records = written.metrics.records;
    progress.finish(`${records} record${records === 1 ? "" : "s"}`);
    const { metrics, summary, paths } = written;
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
});
