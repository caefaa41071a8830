/**
 * Pass 1 of the metrics fold (docs/METRICS.md): which (digest, topic) keys some attacker sent, and a filter
 * of every publication. Pass 2 (`MetricsFold`, fold.ts) needs both before it reads its first record.
 * @module
 */

import type { LogRecord } from "../log/jsonl.ts";
import { AttackDigests } from "./attack_keys.ts";
import { PUBLICATION_FILTER_DEFAULT_CELLS, PublicationFilter } from "./publication_filter.ts";
import { num, phaseOf, str, topicOf } from "./record_fields.ts";
import type { Phase } from "./types.ts";

/**
 * Pass 1 over the logs: the (digest, topic) keys some `attack_sent` names (exactly, per phase) and a
 * {@link PublicationFilter} of every `published` record. Feed it every record, in any order, then hand it
 * to a `MetricsFold` (fold.ts) for pass 2 over the same records. Memory: the filter's fixed size plus ~26
 * bytes per attack key.
 * @example
 * ```ts
 * const survey = new LogSurvey(publicationFilterCells(fileBytes));
 * for (const record of records) survey.add(record);
 * const fold = new MetricsFold(survey);
 * for (const record of records) fold.add(record);
 * fold.finish();
 * ```
 */
export class LogSurvey {
  readonly publications: PublicationFilter;
  readonly attacked = new Map<Phase, AttackDigests>();
  #sealed = false;

  constructor(filterCells = PUBLICATION_FILTER_DEFAULT_CELLS) {
    this.publications = new PublicationFilter(filterCells);
  }

  /** Bytes held by the filter and the attack keys' index and columns. */
  get bytes(): number {
    let bytes = this.publications.bytes;
    for (const table of this.attacked.values()) bytes += table.bytes;
    return bytes;
  }

  /** Notes one record. Only `published` and `attack_sent` records with a string `digest` matter. */
  add(record: LogRecord): void {
    if (this.#sealed) throw new Error("LogSurvey.add after a MetricsFold took the survey");
    const digest = str(record.digest);
    if (digest === undefined) return;
    const phase = phaseOf(record);
    if (record.event === "published") {
      this.publications.add(phase, digest, topicOf(record), num(record.epoch_length));
    } else if (record.event === "attack_sent") {
      let table = this.attacked.get(phase);
      if (!table) this.attacked.set(phase, table = new AttackDigests());
      table.index.add(digest, topicOf(record));
    }
  }

  /** Ends pass 1: sizes the attack keys' columns. Pass 2 (`MessageJoin`, join.ts) calls it. */
  seal(): void {
    if (this.#sealed) throw new Error("LogSurvey already taken by a MetricsFold");
    this.#sealed = true;
    for (const table of this.attacked.values()) table.allocate();
  }
}
