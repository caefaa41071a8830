/**
 * Big-log bench for `metrics`: writes a synthetic JSONL log shaped like the demo's (testkit/synthetic_log.ts:
 * both phases, every attack class, broker events, crypto stages, timing results, a few bad lines) to a temp
 * dir, then runs the two-pass aggregation (`aggregateLogs`'s LogSurvey + MetricsFold) in a child process, so
 * that the peak RSS it prints (the child's VmHWM) is the aggregation's alone, and prints lines/s and peak
 * memory.
 *
 *   deno run -A bench/metrics_bigl.ts [--size-mb 1024] [--max-seconds 240] [--keep] [--log FILE]
 *
 * `--log FILE` skips generation and measures an existing log. Runtime is capped: generation stops at the
 * size or at half the time cap, aggregation at the cap (pass 2 then reads the same lines pass 1 read, and
 * the figures cover that part).
 * @module
 */

import { parseArgs } from "node:util";
import { LogSurvey, MetricsFold, publicationFilterCells } from "../metrics/aggregate.ts";
import { readLog } from "../log/jsonl.ts";
import { syntheticLogLines } from "../testkit/synthetic_log.ts";

/** Default size of the synthetic log. */
const DEFAULT_SIZE_MB = 1024;
/** Default cap on the whole run. */
const DEFAULT_MAX_SECONDS = 240;
/** Lines between memory samples during aggregation. */
const RSS_SAMPLE_EVERY_LINES = 50_000;

function peakRssBytes(): number | undefined {
  try {
    const status = Deno.readTextFileSync("/proc/self/status");
    const match = status.match(/^VmHWM:\s+(\d+)\s+kB/m);
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** What the aggregating child reports to the parent (one JSON line on stdout). */
interface AggregationFigures {
  lines: number;
  capped: boolean;
  survey_s: number;
  fold_s: number;
  finish_s: number;
  /** VmHWM of the child: the peak RSS of aggregation, runtime included. */
  peak_rss_bytes: number | null;
  rss_at_start_bytes: number;
  peak_sampled_heap_used_bytes: number;
  survey_bytes: number;
  check: Record<string, unknown>;
}

/** The child: both passes over `path`, as aggregateLogs runs them, with memory sampled along the way. */
async function aggregateChild(path: string, maxMs: number): Promise<void> {
  const started = performance.now();
  const rssAtStart = Deno.memoryUsage().rss;
  let peakHeapUsed = 0;
  const sample = () => (peakHeapUsed = Math.max(peakHeapUsed, Deno.memoryUsage().heapUsed));
  const survey = new LogSurvey(publicationFilterCells((await Deno.stat(path)).size));
  let lines = 0;
  let capped = false;
  for await (const item of readLog(path)) {
    if (item.ok) survey.add(item.record);
    if (++lines % RSS_SAMPLE_EVERY_LINES === 0) {
      sample();
      // Pass 1 gets half the budget; pass 2 then reads exactly the lines pass 1 read.
      if (performance.now() - started > maxMs / 2) {
        capped = true;
        break;
      }
    }
  }
  const surveyDone = performance.now();
  const fold = new MetricsFold(survey);
  let read = 0;
  for await (const item of readLog(path)) {
    if (read++ === lines) break;
    if (item.ok) fold.add(item.record);
    else fold.addBadLine(path, item.line, item.error);
    if (read % RSS_SAMPLE_EVERY_LINES === 0) sample();
  }
  const foldDone = performance.now();
  const metrics = fold.finish();
  sample();
  const figures: AggregationFigures = {
    lines,
    capped,
    survey_s: (surveyDone - started) / 1000,
    fold_s: (foldDone - surveyDone) / 1000,
    finish_s: (performance.now() - foldDone) / 1000,
    peak_rss_bytes: peakRssBytes() ?? null,
    rss_at_start_bytes: rssAtStart,
    peak_sampled_heap_used_bytes: peakHeapUsed,
    survey_bytes: survey.bytes,
    check: {
      records: metrics.records,
      bad_lines: metrics.bad_lines,
      legit_secure: metrics.legit.secure,
      legit_insecure_accepted: metrics.legit.insecure?.accepted,
      insecure_replay:
        `${metrics.attacks.insecure?.replay?.accepted}/${metrics.attacks.insecure?.replay?.attempts}`,
      secure_blocked: Object.values(metrics.attacks.secure ?? {}).reduce((n, c) => n + c.blocked, 0),
      unattributed: metrics.unattributed,
    },
  };
  console.log(JSON.stringify(figures));
}

async function generate(path: string, sizeBytes: number, maxMs: number): Promise<number> {
  const started = performance.now();
  const encoder = new TextEncoder();
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  let written = 0;
  let generatedLines = 0;
  let chunk: string[] = [];
  let chunkChars = 0;
  for (const text of syntheticLogLines({ cycles: Number.MAX_SAFE_INTEGER, seed: 7, badLines: true })) {
    chunk.push(text);
    chunkChars += text.length + 1;
    generatedLines++;
    if (chunkChars >= 4 * 1024 * 1024) {
      const bytes = encoder.encode(chunk.join("\n") + "\n");
      for (let off = 0; off < bytes.length;) off += await file.write(bytes.subarray(off));
      written += bytes.length;
      chunk = [];
      chunkChars = 0;
      if (written >= sizeBytes || performance.now() - started > maxMs / 2) break;
    }
  }
  file.close();
  console.log(
    `generated ${(written / 1048576).toFixed(0)} MiB, ${generatedLines} lines in ${
      ((performance.now() - started) / 1000).toFixed(1)
    } s (${path})`,
  );
  return written;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      "size-mb": { type: "string" },
      "max-seconds": { type: "string" },
      keep: { type: "boolean" },
      log: { type: "string" },
      "aggregate-child": { type: "string" },
    },
  });
  const maxMs = Number(values["max-seconds"] ?? DEFAULT_MAX_SECONDS) * 1000;
  if (values["aggregate-child"] !== undefined) return await aggregateChild(values["aggregate-child"], maxMs);

  const sizeBytes = Number(values["size-mb"] ?? DEFAULT_SIZE_MB) * 1024 * 1024;
  const dir = values.log === undefined ? await Deno.makeTempDir({ prefix: "secmqtt-bigl-" }) : undefined;
  const path = values.log ?? `${dir}/big.jsonl`;
  const bytes = dir === undefined ? (await Deno.stat(path)).size : await generate(path, sizeBytes, maxMs);

  const child = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL(import.meta.url).pathname,
      "--aggregate-child",
      path,
      "--max-seconds",
      `${maxMs / 1000}`,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!child.success) throw new Error(`aggregation child failed with exit code ${child.code}`);
  const figures: AggregationFigures = JSON.parse(
    new TextDecoder().decode(child.stdout).trim().split("\n").at(-1)!,
  );
  const seconds = figures.survey_s + figures.fold_s + figures.finish_s;
  const mib = (b: number | null) => (b === null ? "?" : `${(b / 1048576).toFixed(0)} MiB`);
  const readBytes = figures.capped ? NaN : bytes;
  console.log(
    `metrics aggregation of ${path} (${mib(bytes)}, ${figures.lines} lines${
      figures.capped ? ", time cap hit: figures cover the lines read" : ""
    })`,
  );
  console.log(
    `  time:       pass 1 (survey) ${figures.survey_s.toFixed(1)} s + pass 2 (fold) ${
      figures.fold_s.toFixed(1)
    } s` +
      ` + finish ${figures.finish_s.toFixed(2)} s = ${seconds.toFixed(1)} s`,
  );
  console.log(
    `  throughput: ${Math.round(figures.lines / seconds)} lines/s, ${
      Number.isNaN(readBytes) ? "?" : (readBytes / 1048576 / seconds).toFixed(1)
    } MiB/s (each input line counted once; both passes read it)`,
  );
  console.log(
    `  memory:     peak RSS (VmHWM of the aggregating process) ${mib(figures.peak_rss_bytes)}; ` +
      `RSS at start ${mib(figures.rss_at_start_bytes)}, peak sampled V8 heap used ${
        mib(figures.peak_sampled_heap_used_bytes)
      }, filter + attack digests ${mib(figures.survey_bytes)}`,
  );
  console.log(`  check:      ${JSON.stringify(figures.check)}`);
  if (dir === undefined) return;
  if (values.keep) console.log(`kept ${path}`);
  else await Deno.remove(dir, { recursive: true });
}

if (import.meta.main) await main();
