/**
 * The streaming fold from log records (docs/LOG.md) to the numbers of docs/METRICS.md. Records are fed
 * one at a time and never kept: distributions go into {@link QuantileSketch}es, and the one join the
 * metrics need — "was this digest acted on more often than the sensor published it?" — keeps a few
 * counters per digest seen in `published`, `action`, `rejected` or `attack_sent`, nothing per line.
 * @module
 */

import { type LogRecord, readLog } from "../log/jsonl.ts";
import { QuantileSketch, type Summary } from "./stats.ts";

/** The two phases of the demo, in report order. */
export const PHASES = ["insecure", "secure"] as const;
/** A phase name; logs may carry others, which are kept under their own name. */
export type Phase = string;

/** `by_code` entry for an attack message the actuator never logged (dropped by the broker, or lost). */
export const CODE_NOT_SEEN = "NOT_SEEN";
/** `by_code` entry for an eavesdropped message the attacker could not read. */
export const CODE_NOT_READABLE = "NOT_READABLE";

/** At most this many bad lines are kept as examples (all are counted). */
export const BAD_LINE_EXAMPLES_MAX = 5;
/** At most this many distinct values are kept for open-ended keys (events, runs, stage groups, classes). */
export const DISTINCT_KEYS_MAX = 200;
/** At most this many `t` values are kept per timing function. */
export const TIMING_RUNS_KEPT_MAX = 20;

/** A latency distribution: the {@link Summary} plus the quartiles and tails a box plot needs. */
export interface Distribution extends Summary {
  min: number;
  p05: number;
  p25: number;
  p75: number;
}

/** Outcome counts of one attack class in one phase. */
export interface AttackOutcome {
  /** Messages the attacker sent or tried to send (`attack_sent` + `attack_refused`; `captured` for eavesdrop). */
  attempts: number;
  /** Attempts that succeeded: acted on beyond the legit publications (eavesdrop: `readable`). */
  accepted: number;
  /** attempts − accepted. */
  blocked: number;
  /** accepted / attempts (`null` without attempts). */
  success_rate: number | null;
  /** Why blocked attempts failed: actuator reason codes, broker refusal codes, NOT_SEEN, NOT_READABLE. */
  by_code: Record<string, number>;
}

/** Fate of the legit sensor's messages in one phase. */
export interface LegitDelivery {
  /** `published` records. */
  sent: number;
  /** Publications the actuator acted on (at most one action per publication counts). */
  accepted: number;
  /** Publications never acted on but rejected by the actuator. */
  falsely_rejected: number;
  /** Publications the actuator never logged at all. */
  not_seen: number;
  /** QoS 1 redeliveries the actuator recognised (`duplicate`). */
  duplicates: number;
  /** accepted / sent (`null` when nothing was sent). */
  delivery_rate: number | null;
  /** Falsely rejected publications by reason code. */
  rejected_by_code: Record<string, number>;
}

/** Mean and tail of one crypto stage. */
export interface StageCost {
  mean: number;
  p50: number;
  p95: number;
}

/** Per-stage cost for one (side, suite, epoch length) group. */
export interface CryptoCostGroup {
  suite: string;
  /** Messages per session key; `null` when unknown (insecure phase, or an action not joined to its publication). */
  epoch_length: number | null;
  /** Records folded. */
  count: number;
  /** Stage name (e.g. `sign_ms`) → cost in ms. */
  stages: Record<string, StageCost>;
}

/** The last `timing_result` per function, with the t values of every run seen. */
export interface TimingSummary {
  t: number;
  n: number;
  leak: boolean;
  threshold: number;
  percentiles_ns: Record<string, Record<string, number>>;
  runs: number;
  t_values: number[];
}

/** The last `recovery_result` per function. */
export interface RecoverySummary {
  secret_bytes: number;
  bytes_recovered: number;
  budget: number;
  queries: number;
}

/** Everything the fold computes: the body of metrics.json (docs/METRICS.md), without the input paths. */
export interface AggregateMetrics {
  lines: number;
  records: number;
  bad_lines: number;
  bad_line_examples: { input: string; line: number; error: string }[];
  runs: string[];
  events: Record<string, number>;
  latency_ms: Record<Phase, Distribution>;
  attack_latency_ms: Record<Phase, Distribution>;
  overhead: {
    mean_ratio: number | null;
    p50_ratio: number | null;
    p95_ratio: number | null;
    p99_ratio: number | null;
  };
  attacks: Record<Phase, Record<string, AttackOutcome>>;
  legit: Record<Phase, LegitDelivery>;
  unattributed: Record<Phase, { actions: number; rejected: Record<string, number> }>;
  crypto: { sensor: CryptoCostGroup[]; actuator: CryptoCostGroup[] };
  timing: Record<string, TimingSummary>;
  recovery: Record<string, RecoverySummary>;
  broker: { auth_failed: Record<string, number>; acl_denied: number; client_connected: number };
}

/** One digest's counters, as {@link DigestTable} hands them out for the final join. */
interface DigestEntry {
  published: number;
  actions: number;
  /** Latencies of actions not matched to a publication. */
  pending: number[] | undefined;
  /** Rejection codes in first-seen order. */
  rejections: Map<string, number> | undefined;
  /** Attack class → `attack_sent` count. */
  attacks: Map<string, number> | undefined;
}

/** Initial rows of a {@link DigestTable}; it doubles as needed. */
const DIGEST_TABLE_INITIAL_ROWS = 1024;

/**
 * Per-digest counters of one phase, stored column-wise: one Map entry (digest → row) plus 16 bytes of
 * typed-array columns per digest, and sparse maps for the rare extras (pending latencies, rejection
 * codes, attack classes). About 70 bytes per digest instead of an object each.
 */
class DigestTable {
  readonly rows = new Map<string, number>();
  published = new Uint32Array(DIGEST_TABLE_INITIAL_ROWS);
  actions = new Uint32Array(DIGEST_TABLE_INITIAL_ROWS);
  /** Actions already counted as legit (their latency went to the legit sketch). */
  matched = new Uint32Array(DIGEST_TABLE_INITIAL_ROWS);
  /** Epoch length of the publication, -1 while unknown. */
  epoch = new Int32Array(DIGEST_TABLE_INITIAL_ROWS).fill(-1);
  readonly pending = new Map<number, number[]>();
  readonly rejections = new Map<number, Map<string, number>>();
  readonly attacks = new Map<number, Map<string, number>>();

  /** The row of `digest`, added if new. */
  row(digest: string): number {
    let row = this.rows.get(digest);
    if (row === undefined) {
      row = this.rows.size;
      if (row === this.published.length) this.#grow();
      this.rows.set(digest, row);
    }
    return row;
  }

  entry(row: number): DigestEntry {
    return {
      published: this.published[row],
      actions: this.actions[row],
      pending: this.pending.get(row),
      rejections: this.rejections.get(row),
      attacks: this.attacks.get(row),
    };
  }

  #grow(): void {
    const size = this.published.length * 2;
    const grow = <T extends Uint32Array | Int32Array>(old: T, make: (n: number) => T): T => {
      const next = make(size);
      next.set(old);
      return next;
    };
    this.published = grow(this.published, (n) => new Uint32Array(n));
    this.actions = grow(this.actions, (n) => new Uint32Array(n));
    this.matched = grow(this.matched, (n) => new Uint32Array(n));
    this.epoch = grow(this.epoch, (n) => new Int32Array(n).fill(-1));
  }
}

interface StageGroup {
  suite: string;
  epoch: number | null;
  count: number;
  stages: Map<string, QuantileSketch>;
}

interface AttackCounter {
  attempts: number;
  accepted: number;
  codes: Map<string, number>;
}

/**
 * Folds log records into metrics: call {@link MetricsFold.add} per record (and
 * {@link MetricsFold.addBadLine} per unreadable line), then {@link MetricsFold.finish} once.
 * Memory: fixed-size sketches plus a few counters per distinct digest.
 * @example
 * ```ts
 * const fold = new MetricsFold();
 * fold.add({ ts: 1, role: "sensor", run: "r", event: "published", phase: "insecure", digest: "aa" });
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
  readonly #digests = new Map<Phase, DigestTable>();
  readonly #latency = new Map<Phase, QuantileSketch>();
  readonly #attackLatency = new Map<Phase, QuantileSketch>();
  readonly #attacks = new Map<Phase, Map<string, AttackCounter>>();
  readonly #duplicates = new Map<Phase, number>();
  readonly #sensorStages = new Map<string, StageGroup>();
  readonly #actuatorStages = new Map<string, StageGroup>();
  readonly #timing = new Map<string, TimingSummary>();
  readonly #recovery = new Map<string, RecoverySummary>();
  readonly #authFailed = new Map<string, number>();
  #aclDenied = 0;
  #connected = 0;
  #finished = false;

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
    const phase = typeof record.phase === "string" ? record.phase : "unknown";
    switch (record.event) {
      case "published":
        return this.#published(phase, record);
      case "action":
        return this.#action(phase, record);
      case "rejected":
        return this.#rejected(phase, record);
      case "duplicate":
        this.#duplicates.set(phase, (this.#duplicates.get(phase) ?? 0) + 1);
        return;
      case "attack_sent":
        return this.#attackSent(phase, record);
      case "attack_refused":
        return this.#attackRefused(phase, record);
      case "captured":
        return this.#captured(phase, record);
      case "timing_result":
        return this.#timingResult(record);
      case "recovery_result":
        return this.#recoveryResult(record);
      case "auth_failed":
        bump(this.#authFailed, str(record.code) ?? "UNKNOWN", 1, DISTINCT_KEYS_MAX);
        return;
      case "acl_denied":
        this.#aclDenied++;
        return;
      case "client_connected":
        this.#connected++;
        return;
    }
  }

  #table(phase: Phase): DigestTable {
    let table = this.#digests.get(phase);
    if (!table) this.#digests.set(phase, table = new DigestTable());
    return table;
  }

  #published(phase: Phase, record: LogRecord): void {
    const digest = str(record.digest);
    const epoch = num(record.epoch_length);
    if (digest !== undefined) {
      const table = this.#table(phase);
      const row = table.row(digest);
      table.published[row]++;
      if (epoch !== undefined) table.epoch[row] = epoch;
      // An action read before its publication (logs given out of order) becomes legit now.
      const pending = table.pending.get(row);
      while (pending?.length && table.matched[row] < table.published[row]) {
        table.matched[row]++;
        sketchFor(this.#latency, phase).add(pending.shift()!);
      }
      if (pending?.length === 0) table.pending.delete(row);
    }
    const suite = str(record.suite);
    if (suite !== undefined && isRecord(record.stages)) {
      foldStages(this.#sensorStages, suite, epoch ?? null, record.stages);
    }
  }

  #action(phase: Phase, record: LogRecord): void {
    const digest = str(record.digest);
    const latency = num(record.latency_ms);
    let epoch = num(record.epoch_length);
    if (digest !== undefined) {
      const table = this.#table(phase);
      const row = table.row(digest);
      table.actions[row]++;
      if (epoch === undefined && table.epoch[row] >= 0) epoch = table.epoch[row];
      if (table.matched[row] < table.published[row]) {
        table.matched[row]++;
        if (latency !== undefined) sketchFor(this.#latency, phase).add(latency);
      } else if (latency !== undefined) {
        const pending = table.pending.get(row);
        if (pending) pending.push(latency);
        else table.pending.set(row, [latency]);
      }
    }
    const suite = str(record.suite);
    if (suite !== undefined && isRecord(record.stages)) {
      foldStages(this.#actuatorStages, suite, epoch ?? null, record.stages);
    }
  }

  #rejected(phase: Phase, record: LogRecord): void {
    const digest = str(record.digest);
    if (digest === undefined) return;
    const table = this.#table(phase);
    const row = table.row(digest);
    let codes = table.rejections.get(row);
    if (!codes) table.rejections.set(row, codes = new Map());
    bump(codes, str(record.code) ?? "UNKNOWN", 1, DISTINCT_KEYS_MAX);
  }

  #attackSent(phase: Phase, record: LogRecord): void {
    const attackClass = str(record.class) ?? "unknown";
    const counter = this.#attackCounter(phase, attackClass);
    if (!counter) return;
    counter.attempts++;
    const digest = str(record.digest);
    if (digest === undefined) {
      bump(counter.codes, CODE_NOT_SEEN, 1, DISTINCT_KEYS_MAX);
      return;
    }
    const table = this.#table(phase);
    const row = table.row(digest);
    let classes = table.attacks.get(row);
    if (!classes) table.attacks.set(row, classes = new Map());
    bump(classes, attackClass, 1, DISTINCT_KEYS_MAX);
  }

  #attackRefused(phase: Phase, record: LogRecord): void {
    const counter = this.#attackCounter(phase, str(record.class) ?? "unknown");
    if (!counter) return;
    counter.attempts++;
    bump(counter.codes, str(record.code) ?? "REFUSED", 1, DISTINCT_KEYS_MAX);
  }

  #captured(phase: Phase, record: LogRecord): void {
    const counter = this.#attackCounter(phase, "eavesdrop");
    if (!counter) return;
    counter.attempts++;
    if (record.readable === true) counter.accepted++;
    else bump(counter.codes, CODE_NOT_READABLE, 1, DISTINCT_KEYS_MAX);
  }

  #attackCounter(phase: Phase, attackClass: string): AttackCounter | undefined {
    let byClass = this.#attacks.get(phase);
    if (!byClass) {
      if (this.#attacks.size >= DISTINCT_KEYS_MAX) return undefined;
      this.#attacks.set(phase, byClass = new Map());
    }
    let counter = byClass.get(attackClass);
    if (!counter) {
      if (byClass.size >= DISTINCT_KEYS_MAX) return undefined;
      byClass.set(attackClass, counter = { attempts: 0, accepted: 0, codes: new Map() });
    }
    return counter;
  }

  #timingResult(record: LogRecord): void {
    const fn = str(record.function);
    const t = num(record.t);
    if (fn === undefined || t === undefined) return;
    const previous = this.#timing.get(fn);
    if (!previous && this.#timing.size >= DISTINCT_KEYS_MAX) return;
    const tValues = [...(previous?.t_values ?? []), t].slice(-TIMING_RUNS_KEPT_MAX);
    this.#timing.set(fn, {
      t,
      n: num(record.n) ?? 0,
      leak: record.leak === true,
      threshold: num(record.threshold) ?? NaN,
      percentiles_ns: isRecord(record.percentiles_ns) ? numericTable(record.percentiles_ns) : {},
      runs: (previous?.runs ?? 0) + 1,
      t_values: tValues,
    });
  }

  #recoveryResult(record: LogRecord): void {
    const fn = str(record.function);
    if (fn === undefined || (!this.#recovery.has(fn) && this.#recovery.size >= DISTINCT_KEYS_MAX)) return;
    this.#recovery.set(fn, {
      secret_bytes: num(record.secret_bytes) ?? 0,
      bytes_recovered: num(record.bytes_recovered) ?? 0,
      budget: num(record.budget) ?? 0,
      queries: num(record.queries) ?? 0,
    });
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
    const legit: AggregateMetrics["legit"] = {};
    const unattributed: AggregateMetrics["unattributed"] = {};
    const phases = new Set<Phase>([
      ...this.#digests.keys(),
      ...this.#attacks.keys(),
      ...this.#duplicates.keys(),
    ]);
    for (const phase of phases) {
      const delivery = newDelivery(this.#duplicates.get(phase) ?? 0);
      const loose = { actions: 0, rejected: new Map<string, number>() };
      const table = this.#digests.get(phase);
      for (let row = 0; row < (table?.rows.size ?? 0); row++) {
        this.#resolveDigest(phase, table!.entry(row), delivery, loose);
      }
      if (delivery.sent > 0 || delivery.duplicates > 0 || this.#digests.has(phase)) {
        delivery.delivery_rate = delivery.sent > 0 ? delivery.accepted / delivery.sent : null;
        legit[phase] = delivery;
      }
      if (loose.actions > 0 || loose.rejected.size > 0) {
        unattributed[phase] = { actions: loose.actions, rejected: Object.fromEntries(loose.rejected) };
      }
    }
    const attacks: AggregateMetrics["attacks"] = {};
    for (const [phase, byClass] of this.#attacks) {
      attacks[phase] = {};
      for (const [attackClass, c] of byClass) {
        const blocked = c.attempts - c.accepted;
        attacks[phase][attackClass] = {
          attempts: c.attempts,
          accepted: c.accepted,
          blocked,
          success_rate: c.attempts > 0 ? c.accepted / c.attempts : null,
          by_code: Object.fromEntries([...c.codes].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))),
        };
      }
    }
    const latency = distributions(this.#latency);
    const overheadOf = (key: keyof Distribution) => {
      const a = latency.insecure?.[key];
      const b = latency.secure?.[key];
      return a !== undefined && b !== undefined && a > 0 && Number.isFinite(b) ? b / a : null;
    };
    return {
      lines: this.#lines,
      records: this.#records,
      bad_lines: this.#badLines,
      bad_line_examples: this.#badExamples,
      runs: [...this.#runs],
      events: Object.fromEntries(this.#events),
      latency_ms: latency,
      attack_latency_ms: distributions(this.#attackLatency),
      overhead: {
        mean_ratio: overheadOf("mean"),
        p50_ratio: overheadOf("p50"),
        p95_ratio: overheadOf("p95"),
        p99_ratio: overheadOf("p99"),
      },
      attacks,
      legit,
      unattributed,
      crypto: { sensor: stageGroups(this.#sensorStages), actuator: stageGroups(this.#actuatorStages) },
      timing: Object.fromEntries(this.#timing),
      recovery: Object.fromEntries(this.#recovery),
      broker: {
        auth_failed: Object.fromEntries(this.#authFailed),
        acl_denied: this.#aclDenied,
        client_connected: this.#connected,
      },
    };
  }

  /**
   * Splits one digest's actions and rejections between the legit publications and the attack copies.
   * Legit publications have the first claim on actions (one each); actions beyond the publication count
   * are attack successes (docs/LOG.md's rule). Rejections go first to legit publications left unacted
   * (their copy arrived first), the rest to the attack copies.
   */
  #resolveDigest(
    phase: Phase,
    entry: DigestEntry,
    delivery: LegitDelivery,
    loose: { actions: number; rejected: Map<string, number> },
  ): void {
    const legitActed = Math.min(entry.actions, entry.published);
    const excessActions = entry.actions - legitActed;
    const codes = [...(entry.rejections ?? [])];
    const rejectionCount = codes.reduce((sum, [, n]) => sum + n, 0);
    const legitRejected = Math.min(entry.published - legitActed, rejectionCount);
    delivery.sent += entry.published;
    delivery.accepted += legitActed;
    delivery.falsely_rejected += legitRejected;
    delivery.not_seen += entry.published - legitActed - legitRejected;
    const rejectionQueue = takeCodes(
      codes,
      legitRejected,
      (code, n) => bumpRecord(delivery.rejected_by_code, code, n),
    );

    const pending = entry.pending ?? [];
    if (!entry.attacks) {
      loose.actions += excessActions;
      for (const [code, n] of rejectionQueue) bump(loose.rejected, code, n, DISTINCT_KEYS_MAX);
      return;
    }
    for (const latency of pending) sketchFor(this.#attackLatency, phase).add(latency);
    let unclaimedActions = excessActions;
    let queue = rejectionQueue;
    for (const [attackClass, sent] of entry.attacks) {
      const counter = this.#attackCounter(phase, attackClass);
      if (!counter) continue;
      const accepted = Math.min(sent, unclaimedActions);
      unclaimedActions -= accepted;
      counter.accepted += accepted;
      let blocked = sent - accepted;
      const taken = Math.min(blocked, queue.reduce((sum, [, n]) => sum + n, 0));
      queue = takeCodes(queue, taken, (code, n) => bump(counter.codes, code, n, DISTINCT_KEYS_MAX));
      blocked -= taken;
      if (blocked > 0) bump(counter.codes, CODE_NOT_SEEN, blocked, DISTINCT_KEYS_MAX);
    }
    // More actions than publications plus attack copies: the excess has no known sender.
    loose.actions += unclaimedActions;
  }
}

/**
 * Streams JSONL logs through a {@link MetricsFold}, in the order given. Unreadable lines are counted as
 * bad lines; a missing file throws.
 * @example
 * ```ts
 * const metrics = await aggregateLogs(["out/phase1.jsonl", "out/phase2.jsonl"]);
 * ```
 */
export async function aggregateLogs(paths: string[]): Promise<AggregateMetrics> {
  const fold = new MetricsFold();
  for (const path of paths) {
    for await (const item of readLog(path)) {
      if (item.ok) fold.add(item.record);
      else fold.addBadLine(path, item.line, item.error);
    }
  }
  return fold.finish();
}

function newDelivery(duplicates: number): LegitDelivery {
  return {
    sent: 0,
    accepted: 0,
    falsely_rejected: 0,
    not_seen: 0,
    duplicates,
    delivery_rate: null,
    rejected_by_code: {},
  };
}

/** Hands the first `count` rejections (in first-seen order) to `use`; returns what is left. */
function takeCodes(
  codes: [string, number][],
  count: number,
  use: (code: string, n: number) => void,
): [string, number][] {
  const rest: [string, number][] = [];
  let left = count;
  for (const [code, n] of codes) {
    const taken = Math.min(left, n);
    if (taken > 0) use(code, taken);
    left -= taken;
    if (n > taken) rest.push([code, n - taken]);
  }
  return rest;
}

function foldStages(
  groups: Map<string, StageGroup>,
  suite: string,
  epoch: number | null,
  stages: object,
): void {
  const key = `${suite}\u0000${epoch}`;
  let group = groups.get(key);
  if (!group) {
    if (groups.size >= DISTINCT_KEYS_MAX) return;
    groups.set(key, group = { suite, epoch, count: 0, stages: new Map() });
  }
  group.count++;
  for (const [name, value] of Object.entries(stages)) {
    if (typeof value !== "number" || !Number.isFinite(value)) continue;
    let sketch = group.stages.get(name);
    if (!sketch) {
      if (group.stages.size >= DISTINCT_KEYS_MAX) continue;
      group.stages.set(name, sketch = new QuantileSketch());
    }
    sketch.add(value);
  }
}

function stageGroups(groups: Map<string, StageGroup>): CryptoCostGroup[] {
  return [...groups.values()]
    .sort((a, b) => a.suite.localeCompare(b.suite) || (a.epoch ?? -1) - (b.epoch ?? -1))
    .map((g) => ({
      suite: g.suite,
      epoch_length: g.epoch,
      count: g.count,
      stages: Object.fromEntries(
        [...g.stages].map((
          [name, s],
        ) => [name, { mean: s.mean, p50: s.quantile(0.5), p95: s.quantile(0.95) }]),
      ),
    }));
}

function distributions(sketches: Map<Phase, QuantileSketch>): Record<Phase, Distribution> {
  const out: Record<Phase, Distribution> = {};
  for (const [phase, s] of sketches) {
    out[phase] = {
      ...s.summary(),
      min: s.min,
      p05: s.quantile(0.05),
      p25: s.quantile(0.25),
      p75: s.quantile(0.75),
    };
  }
  return out;
}

function sketchFor(sketches: Map<Phase, QuantileSketch>, phase: Phase): QuantileSketch {
  let sketch = sketches.get(phase);
  if (!sketch) sketches.set(phase, sketch = new QuantileSketch());
  return sketch;
}

function bump(map: Map<string, number>, key: string, by: number, maxKeys: number): void {
  const current = map.get(key);
  if (current === undefined && map.size >= maxKeys) return;
  map.set(key, (current ?? 0) + by);
}

function bumpRecord(record: Record<string, number>, key: string, by: number): void {
  record[key] = (record[key] ?? 0) + by;
}

function numericTable(value: Record<string, unknown>): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const [outer, inner] of Object.entries(value)) {
    if (!isRecord(inner)) continue;
    out[outer] = {};
    for (const [key, v] of Object.entries(inner)) if (typeof v === "number") out[outer][key] = v;
  }
  return out;
}

function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function num(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
