/**
 * The streaming fold from log records (docs/LOG.md) to the numbers of docs/METRICS.md, in two passes over
 * the logs. Records are never kept: distributions go into sketches (metrics/stats.ts). The one join the
 * metrics need — "was this message acted on more often than the sensor published it?" — is keyed by
 * (digest, topic): the same bytes on another topic are another message (a cross-topic replay). It is exact
 * for the keys some `attack_sent` names (pass 1, {@link LogSurvey}, finds them; pass 2, {@link MetricsFold},
 * counts them), and goes through a fixed-size counting filter of publications for every other key.
 * Memory: the filter (≤ 16 MiB) plus ~26 bytes per attack key; nothing per legit message or per line.
 *
 * This module is the driver; the parts live beside it: survey.ts (pass 1), fold.ts (pass 2), join.ts and
 * key_resolution.ts (the join), publication_filter.ts and attack_keys.ts (its state), types.ts (the output).
 * @module
 */

import { readLog } from "../log/jsonl.ts";
import { MetricsFold } from "./fold.ts";
import type { ProgressListener } from "./progress.ts";
import { publicationFilterCells } from "./publication_filter.ts";
import { LogSurvey } from "./survey.ts";
import type { AggregateMetrics } from "./types.ts";

export { BAD_LINE_EXAMPLES_MAX, MetricsFold } from "./fold.ts";
export { DISTINCT_KEYS_MAX } from "./counts.ts";
export {
  INPUT_BYTES_PER_FILTER_CELL,
  PUBLICATION_FILTER_DEFAULT_CELLS,
  PUBLICATION_FILTER_MAX_CELLS,
  PUBLICATION_FILTER_MIN_CELLS,
  publicationFilterCells,
} from "./publication_filter.ts";
export { LogSurvey } from "./survey.ts";
export { TIMING_RUNS_KEPT_MAX } from "./timing_results.ts";
export * from "./types.ts";

/**
 * Aggregates JSONL logs in two streamed passes, in the order given: a {@link LogSurvey} over all of them,
 * then a {@link MetricsFold} over all of them. Unreadable lines are counted as bad lines; a missing file
 * throws. Memory does not grow with the number of legit messages (docs/METRICS.md). `onProgress` hears
 * the bytes read per pass as chunks come off the disk.
 * @example
 * ```ts
 * const metrics = await aggregateLogs(["out/phase1.jsonl", "out/phase2.jsonl"]);
 * ```
 */
export async function aggregateLogs(
  paths: string[],
  onProgress?: ProgressListener,
): Promise<AggregateMetrics> {
  let bytesTotal = 0;
  for (const path of paths) bytesTotal += (await Deno.stat(path)).size;
  const counter = (pass: 1 | 2) => {
    if (!onProgress) return undefined;
    let bytesRead = 0;
    return (bytes: number) => {
      bytesRead += bytes;
      onProgress({ pass, bytesRead, bytesTotal });
    };
  };
  const survey = new LogSurvey(publicationFilterCells(bytesTotal));
  const pass1 = counter(1);
  for (const path of paths) {
    for await (const item of readLog(path, pass1)) if (item.ok) survey.add(item.record);
  }
  const fold = new MetricsFold(survey);
  const pass2 = counter(2);
  for (const path of paths) {
    for await (const item of readLog(path, pass2)) {
      if (item.ok) fold.add(item.record);
      else fold.addBadLine(path, item.line, item.error);
    }
  }
  return fold.finish();
}
