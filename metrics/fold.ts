/**
 * Pass 2 of the metrics fold (docs/METRICS.md): every log record, in read order, into the numbers of
 * metrics.json. It dispatches each record to the concern it feeds — the message join, attack outcomes,
 * crypto stages, timing results — and counts lines, events and broker records itself.
 * @module
 */

import type { LogRecord } from "../log/jsonl.ts";
import { AttackTally } from "./attack_outcomes.ts";
import { bump, DISTINCT_KEYS_MAX } from "./counts.ts";
import { StageCosts } from "./crypto_stages.ts";
import { MessageJoin } from "./join.ts";
import { overheadRatios } from "./latency.ts";
import { isRecord, num, phaseOf, str, topicOf } from "./record_fields.ts";
import type { LogSurvey } from "./survey.ts";
import { SettingsFold } from "./settings.ts";
import { TimingResults } from "./timing_results.ts";
import { type AggregateMetrics, CODE_NOT_SEEN, type Phase } from "./types.ts";

/** At most this many bad lines are kept as examples (all are counted). */
export const BAD_LINE_EXAMPLES_MAX = 5;

/**
 * Pass 2: folds log records into metrics, given the {@link LogSurvey} of the same records. Call
 * {@link MetricsFold.add} per record (and {@link MetricsFold.addBadLine} per unreadable line), then
 * {@link MetricsFold.finish} once. Memory: fixed-size sketches and filter, plus counters per attack key;
 * nothing per legit message.
 * @example
 * ```ts
 * const record = { ts: 1, role: "sensor", run: "r", event: "published", phase: "insecure", digest: "aa" };
 * const survey = new LogSurvey();
 * survey.add(record);
 * const fold = new MetricsFold(survey);
 * fold.add(record);
 * fold.finish().legit.insecure.sent; // 1
 * ```
 */
export class MetricsFold {
  #lines = 0;
  #records = 0;
  #badLines = 0;
  readonly #badExamples: AggregateMetrics["bad_line_examples"] = [];
  readonly #runs = new Set<string>();
  readonly #events = new Map<string, number>();
  readonly #join: MessageJoin;
  readonly #attacks = new AttackTally();
  readonly #sensorStages = new StageCosts();
  readonly #actuatorStages = new StageCosts();
  readonly #timing = new TimingResults();
  readonly #settings = new SettingsFold();
  readonly #authFailed = new Map<string, number>();
  #aclDenied = 0;
  #alerts = 0;
  #shed = 0;
  #connected = 0;
  #finished = false;

  constructor(survey: LogSurvey) {
    this.#join = new MessageJoin(survey);
  }

  /** Counts one line that was not a record (never fatal). */
  addBadLine(input: string, line: number, error: string): void {
    this.#lines++;
    this.#badLines++;
    if (this.#badExamples.length < BAD_LINE_EXAMPLES_MAX) this.#badExamples.push({ input, line, error });
  }

  /** Folds one record. Records with missing or mistyped fields are counted but otherwise skipped. */
  add(record: LogRecord): void {
    if (this.#finished) throw new Error("MetricsFold.add after finish");
    this.#lines++;
    this.#records++;
    if (this.#runs.size < DISTINCT_KEYS_MAX) this.#runs.add(record.run);
    bump(this.#events, record.event, 1, DISTINCT_KEYS_MAX);
    this.#settings.add(record);
    const phase = phaseOf(record);
    switch (record.event) {
      case "published":
        return this.#published(phase, record);
      case "action":
        return this.#action(phase, record);
      case "rejected":
        return this.#rejected(phase, record);
      case "duplicate":
        return this.#join.duplicate(phase, str(record.digest), topicOf(record));
      case "attack_sent":
        return this.#attackSent(phase, record);
      case "attack_refused":
        this.#attacks.noteModel(phase, str(record.class) ?? "unknown", str(record.model));
        return this.#attacks.refused(phase, str(record.class) ?? "unknown", str(record.code) ?? "REFUSED");
      case "attack_succeeded":
        return this.#attacks.succeeded(phase, str(record.class) ?? "unknown");
      case "captured":
        return this.#attacks.captured(phase, record.readable === true);
      case "timing_result":
        return this.#timing.addTiming(record);
      case "recovery_result":
        return this.#timing.addRecovery(record);
      case "auth_failed":
        bump(this.#authFailed, str(record.code) ?? "UNKNOWN", 1, DISTINCT_KEYS_MAX);
        return;
      case "acl_denied":
        this.#aclDenied++;
        return;
      case "alert":
        this.#alerts++;
        return;
      case "shed": {
        const count = typeof record.count === "number" && record.count > 0 ? record.count : 0;
        this.#shed += count;
        this.#join.shed(phase, str(record.code) ?? "OVERLOADED", count);
        return;
      }
      case "client_connected":
        this.#connected++;
        return;
    }
  }

  /**
   * Resolves the digest join and returns the metrics. The fold cannot be used afterwards.
   * @example
   * ```ts
   * const metrics = fold.finish();
   * metrics.attacks.insecure?.replay?.accepted;
   * ```
   */
  finish(): AggregateMetrics {
    this.#finished = true;
    // The join hands attack successes to the tally, so it goes first.
    const { legit, unattributed } = this.#join.finish(this.#attacks);
    const attacks = this.#attacks.outcomes();
    const latency = this.#join.latency.distributions();
    return {
      lines: this.#lines,
      records: this.#records,
      bad_lines: this.#badLines,
      bad_line_examples: this.#badExamples,
      runs: [...this.#runs],
      events: Object.fromEntries(this.#events),
      latency_ms: latency,
      attack_latency_ms: this.#join.attackLatency.distributions(),
      overhead: overheadRatios(latency),
      attacks,
      legit,
      unattributed,
      crypto: { sensor: this.#sensorStages.groups(), actuator: this.#actuatorStages.groups() },
      timing: this.#timing.timing(),
      recovery: this.#timing.recovery(),
      broker: {
        auth_failed: Object.fromEntries(this.#authFailed),
        acl_denied: this.#aclDenied,
        client_connected: this.#connected,
      },
      settings: this.#settings.finish(),
      alerts: this.#alerts,
      shed: this.#shed,
    };
  }

  #published(phase: Phase, record: LogRecord): void {
    const digest = str(record.digest);
    if (digest !== undefined) this.#join.published(phase, digest, topicOf(record));
    const suite = str(record.suite);
    if (suite !== undefined && isRecord(record.stages)) {
      this.#sensorStages.add(suite, num(record.epoch_length) ?? null, record.stages);
    }
  }

  #action(phase: Phase, record: LogRecord): void {
    const digest = str(record.digest);
    let epoch = num(record.epoch_length);
    if (digest !== undefined) {
      epoch = this.#join.action(phase, digest, topicOf(record), num(record.latency_ms), epoch);
    }
    const suite = str(record.suite);
    if (suite !== undefined && isRecord(record.stages)) {
      this.#actuatorStages.add(suite, epoch ?? null, record.stages);
    }
  }

  #rejected(phase: Phase, record: LogRecord): void {
    const digest = str(record.digest);
    if (digest === undefined) return;
    this.#join.rejected(phase, digest, topicOf(record), str(record.code) ?? "UNKNOWN");
  }

  #attackSent(phase: Phase, record: LogRecord): void {
    const attackClass = str(record.class) ?? "unknown";
    this.#attacks.noteModel(phase, attackClass, str(record.model));
    const counter = this.#attacks.counter(phase, attackClass);
    if (!counter) return;
    counter.attempts++;
    const digest = str(record.digest);
    if (digest === undefined) bump(counter.codes, CODE_NOT_SEEN, 1, DISTINCT_KEYS_MAX);
    else this.#join.attackSent(phase, digest, topicOf(record), attackClass);
  }
}
