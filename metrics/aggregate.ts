/**
 * The streaming fold from log records (docs/LOG.md) to the numbers of docs/METRICS.md, in two passes over
 * the logs. Records are never kept: distributions go into {@link QuantileSketch}es. The one join the
 * metrics need — "was this message acted on more often than the sensor published it?" — is keyed by
 * (digest, topic): the same bytes on another topic are another message (a cross-topic replay). It is exact
 * for the keys some `attack_sent` names (pass 1, {@link LogSurvey}, finds them; pass 2, {@link MetricsFold},
 * counts them), and goes through a fixed-size counting filter of publications for every other key.
 * Memory: the filter (≤ 16 MiB) plus ~26 bytes per attack key; nothing per legit message or per line.
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
/**
 * `by_code` entry for an attack copy the actuator logged as `duplicate`: byte-identical to an accepted message
 * it still remembered, so taken for a QoS 1 redelivery and not acted on again (docs/PROTOCOL.md §8.2 rule 4).
 */
export const CODE_DUPLICATE = "DUPLICATE";
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
  /** Length of the attacked secret; `null` when the log does not carry it as a number. */
  target_bytes: number | null;
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

/** Cells of the publication filter of a {@link LogSurvey} made without a size (tests, small logs). */
export const PUBLICATION_FILTER_DEFAULT_CELLS = 1 << 16;
/** Smallest publication filter {@link publicationFilterCells} picks: 64 KiB. */
export const PUBLICATION_FILTER_MIN_CELLS = 1 << 16;
/** Largest publication filter {@link publicationFilterCells} picks: one byte per cell, 16 MiB. */
export const PUBLICATION_FILTER_MAX_CELLS = 1 << 24;
/**
 * {@link aggregateLogs} gives the filter one cell per this many input bytes. A `published` line is at
 * least ~100 bytes, so below the cap there are ≥ 12 cells per publication (false-positive rate ≤ 0.7 %).
 */
export const INPUT_BYTES_PER_FILTER_CELL = 8;
/** Cells each key touches in the publication filter. */
const PUBLICATION_FILTER_HASHES = 4;
/** A filter cell's count saturates here and is then never decremented (it could be undercounting). */
const CELL_COUNT_SATURATED = 15;
/** Epoch code of a cell that two publications with different epoch lengths share. */
const CELL_EPOCH_MIXED = 15;
/** Distinct names (rejection codes, attack classes) kept in typed columns; more go to sparse maps. */
const INTERNED_NAMES_MAX = 4096;
/** "No name yet" in a {@link NameTable} id column. */
const NO_NAME = 0xffff;

/**
 * Publication filter cells for inputs of `inputBytes` bytes in total: a power of two between
 * {@link PUBLICATION_FILTER_MIN_CELLS} and {@link PUBLICATION_FILTER_MAX_CELLS}.
 * @example
 * ```ts
 * publicationFilterCells(1 << 30); // 16777216 (the cap: 16 MiB)
 * ```
 */
export function publicationFilterCells(inputBytes: number): number {
  let cells = PUBLICATION_FILTER_MIN_CELLS;
  while (cells < PUBLICATION_FILTER_MAX_CELLS && cells * INPUT_BYTES_PER_FILTER_CELL < inputBytes) cells *= 2;
  return cells;
}

/**
 * A counting Bloom filter of `published` records keyed by (phase, digest, topic), one byte per cell: the low
 * nibble counts publications not yet claimed, the high nibble remembers their epoch length (0 none,
 * 1–14 an index into the epoch values seen, 15 mixed). It stands in for per-key counters of the
 * keys no attacker sent: a claim succeeds when all of the key's cells are non-zero, and consumes one
 * publication. Errors are one-sided: a key that was published and not yet claimed is always found; a key
 * that was not can be found by mistake with the false-positive rate (1 − e^(−k·n/m))^k, and the epoch
 * lookup returns the right value or nothing.
 */
class PublicationFilter {
  readonly #cells: Uint8Array;
  readonly #mask: number;
  readonly #slots = new Uint32Array(PUBLICATION_FILTER_HASHES);
  readonly #hash = new Uint32Array(2);
  readonly #epochCodes = new Map<number, number>();
  readonly #epochValues: number[] = [];

  constructor(cells: number) {
    if (!Number.isInteger(Math.log2(cells)) || cells < PUBLICATION_FILTER_HASHES) {
      throw new Error(`publication filter cells must be a power of two ≥ 4, got ${cells}`);
    }
    this.#cells = new Uint8Array(cells);
    this.#mask = cells - 1;
  }

  /** Bytes held. */
  get bytes(): number {
    return this.#cells.byteLength;
  }

  add(phase: Phase, digest: string, topic: string, epoch: number | undefined): void {
    this.#locate(phase, digest, topic);
    const code = epoch === undefined ? 0 : this.#epochCode(epoch);
    for (const slot of this.#slots) {
      const cell = this.#cells[slot];
      let count = cell & 0xf;
      let epochCode = cell >> 4;
      if (count < CELL_COUNT_SATURATED) count++;
      if (code !== 0) epochCode = epochCode === 0 || epochCode === code ? code : CELL_EPOCH_MIXED;
      this.#cells[slot] = (epochCode << 4) | count;
    }
  }

  /** Takes back one publication that {@link add} put in (pass 2 moves attack keys to exact counters). */
  remove(phase: Phase, digest: string, topic: string): void {
    this.#locate(phase, digest, topic);
    this.#decrement();
  }

  /** Consumes one unclaimed publication of the key; false when there is none. */
  claim(phase: Phase, digest: string, topic: string): boolean {
    this.#locate(phase, digest, topic);
    for (const slot of this.#slots) if ((this.#cells[slot] & 0xf) === 0) return false;
    this.#decrement();
    return true;
  }

  /** The epoch length the key was published with, when its cells still tell it unambiguously. */
  epochOf(phase: Phase, digest: string, topic: string): number | undefined {
    this.#locate(phase, digest, topic);
    let code = 0;
    for (const slot of this.#slots) {
      const cellCode = this.#cells[slot] >> 4;
      // Every cell of a key published with an epoch holds its code or MIXED, so 0 or a second code means
      // "not published with an epoch".
      if (cellCode === 0 || (cellCode !== CELL_EPOCH_MIXED && code !== 0 && cellCode !== code)) {
        return undefined;
      }
      if (cellCode !== CELL_EPOCH_MIXED) code = cellCode;
    }
    return code === 0 ? undefined : this.#epochValues[code - 1];
  }

  #decrement(): void {
    for (const slot of this.#slots) {
      const count = this.#cells[slot] & 0xf;
      if (count > 0 && count < CELL_COUNT_SATURATED) this.#cells[slot]--;
    }
  }

  #epochCode(epoch: number): number {
    let code = this.#epochCodes.get(epoch);
    if (code === undefined) {
      // Codes 1–14; a fifteenth distinct epoch length is stored as "mixed", i.e. unknown.
      if (this.#epochValues.length >= CELL_EPOCH_MIXED - 1) return CELL_EPOCH_MIXED;
      this.#epochValues.push(epoch);
      this.#epochCodes.set(epoch, code = this.#epochValues.length);
    }
    return code;
  }

  /** Double hashing (Kirsch–Mitzenmacher): slot i = h1 + i·h2, h2 odd so the k slots differ. */
  #locate(phase: Phase, digest: string, topic: string): void {
    hashKey(phase, digest, topic, this.#hash);
    const h2 = this.#hash[1] | 1;
    for (let i = 0; i < PUBLICATION_FILTER_HASHES; i++) {
      this.#slots[i] = (this.#hash[0] + Math.imul(i, h2)) & this.#mask;
    }
  }
}

/**
 * Set of (digest, topic) keys in 64 bits each: the digest itself when it is the usual 16 hex digits (else a
 * 64-bit hash of it), XOR a 64-bit hash of the topic (0 for no topic). The digest is already a 64-bit
 * prefix of SHA-256, so two different messages share a row with the same probability, ≈ n²/2⁶⁵, as two
 * different payloads share a digest. Pass 1 appends keys (duplicates included); {@link seal} sorts and
 * dedups them into 8 bytes a key, and a key's row is its rank, found by binary search.
 */
class MessageKeySet {
  #keys = new BigUint64Array(1024);
  #length = 0;
  #sealed = false;

  /** Distinct keys (exact once sealed). */
  get size(): number {
    return this.#length;
  }

  /** Bytes held. */
  get bytes(): number {
    return this.#keys.byteLength;
  }

  add(digest: string, topic: string): void {
    if (this.#sealed) throw new Error("MessageKeySet.add after seal");
    if (this.#length === this.#keys.length) {
      const keys = new BigUint64Array(this.#keys.length * 2);
      keys.set(this.#keys);
      this.#keys = keys;
    }
    this.#keys[this.#length++] = messageKey(digest, topic);
  }

  seal(): void {
    this.#sealed = true;
    const sorted = this.#keys.subarray(0, this.#length).sort();
    let distinct = 0;
    for (let i = 0; i < sorted.length; i++) {
      if (i === 0 || sorted[i] !== sorted[i - 1]) sorted[distinct++] = sorted[i];
    }
    this.#keys = sorted.slice(0, distinct);
    this.#length = distinct;
  }

  /** Row (rank) of (`digest`, `topic`), or -1. */
  find(digest: string, topic: string): number {
    const key = messageKey(digest, topic);
    let low = 0;
    let high = this.#length - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const probe = this.#keys[middle];
      if (probe === key) return middle;
      if (probe < key) low = middle + 1;
      else high = middle - 1;
    }
    return -1;
  }
}

/** Bytes of typed columns per attack key: six u8 counters, one f64 latency, two u16 name ids. */
const ATTACK_KEY_COLUMN_BYTES = 18;

/**
 * Non-negative counters, one byte a row: almost every count here is 0, 1 or 2, so values from 255 up
 * live in a sparse map instead.
 */
class CounterColumn {
  readonly #low: Uint8Array;
  readonly #high = new Map<number, number>();

  constructor(rows: number) {
    this.#low = new Uint8Array(rows);
  }

  get(row: number): number {
    return this.#low[row] === 0xff ? this.#high.get(row)! : this.#low[row];
  }

  increment(row: number): void {
    if (this.#low[row] < 0xfe) this.#low[row]++;
    else if (this.#low[row] === 0xfe) {
      this.#low[row] = 0xff;
      this.#high.set(row, 0xff);
    } else this.#high.set(row, this.#high.get(row)! + 1);
  }
}

/** Names (rejection codes, attack classes) ↔ small integers, for typed columns. */
class NameTable {
  readonly #ids = new Map<string, number>();
  readonly names: string[] = [];

  /** The id of `name`, or undefined once {@link INTERNED_NAMES_MAX} names are taken. */
  id(name: string): number | undefined {
    let id = this.#ids.get(name);
    if (id === undefined && this.names.length < INTERNED_NAMES_MAX) {
      this.#ids.set(name, id = this.names.length);
      this.names.push(name);
    }
    return id;
  }
}

/** One attack key's counters, as {@link AttackDigests} hands them out for the final join. */
interface DigestEntry {
  published: number;
  actions: number;
  /** `duplicate` records: redeliveries (or verbatim copies) of a message already acted on. */
  duplicates: number;
  /** Latencies of actions not matched to a publication, in read order. */
  pending: number[];
  /** Rejection codes in first-seen order. */
  rejections: [string, number][];
  /** Attack class → `attack_sent` count, in first-seen order; empty when no counted class sent it. */
  attacks: [string, number][];
}

/**
 * Exact per-key counters of one phase for the (digest, topic) keys some `attack_sent` names — the only
 * ones the success rule needs a joint count for. The rows are fixed by pass 1 ({@link LogSurvey}); pass 2
 * fills typed columns ({@link ATTACK_KEY_COLUMN_BYTES} bytes a row) and sparse maps for the rare extras:
 * a second pending latency, rejection code or attack class on the same key.
 */
class AttackDigests {
  readonly index = new MessageKeySet();
  published = new CounterColumn(0);
  actions = new CounterColumn(0);
  duplicates = new CounterColumn(0);
  /** Actions already counted as legit (their latency went to the legit sketch). */
  matched = new CounterColumn(0);
  /** First pending latency, NaN when none; the rest are in `pendingMore`. */
  pendingFirst = new Float64Array(0);
  readonly pendingMore = new Map<number, number[]>();
  /** First rejection code (a {@link NameTable} id), NO_NAME when none; other codes are in `rejectionsMore`. */
  rejectionCode = new Uint16Array(0);
  rejectionCount = new CounterColumn(0);
  readonly rejectionsMore = new Map<number, Map<string, number>>();
  /** First attack class (a {@link NameTable} id), NO_NAME when none; other classes are in `attacksMore`. */
  attackClass = new Uint16Array(0);
  attackCount = new CounterColumn(0);
  readonly attacksMore = new Map<number, Map<string, number>>();

  /** Fixes the rows and sizes the columns, once pass 1 is over. */
  allocate(): void {
    this.index.seal();
    const rows = this.index.size;
    this.published = new CounterColumn(rows);
    this.actions = new CounterColumn(rows);
    this.duplicates = new CounterColumn(rows);
    this.matched = new CounterColumn(rows);
    this.pendingFirst = new Float64Array(rows).fill(NaN);
    this.rejectionCode = new Uint16Array(rows).fill(NO_NAME);
    this.rejectionCount = new CounterColumn(rows);
    this.attackClass = new Uint16Array(rows).fill(NO_NAME);
    this.attackCount = new CounterColumn(rows);
  }

  /** Bytes held by the index and the columns (the sparse maps not counted). */
  get bytes(): number {
    return this.index.bytes + this.pendingFirst.length * ATTACK_KEY_COLUMN_BYTES;
  }

  pushPending(row: number, latency: number): void {
    const more = this.pendingMore.get(row);
    if (Number.isNaN(this.pendingFirst[row]) && !more) this.pendingFirst[row] = latency;
    else if (more) more.push(latency);
    else this.pendingMore.set(row, [latency]);
  }

  hasPending(row: number): boolean {
    return !Number.isNaN(this.pendingFirst[row]);
  }

  shiftPending(row: number): number {
    const latency = this.pendingFirst[row];
    const more = this.pendingMore.get(row);
    this.pendingFirst[row] = more?.shift() ?? NaN;
    if (more?.length === 0) this.pendingMore.delete(row);
    return latency;
  }

  addRejection(row: number, code: string, names: NameTable): void {
    countName(row, code, names, this.rejectionCode, this.rejectionCount, this.rejectionsMore);
  }

  addAttack(row: number, attackClass: string, names: NameTable): void {
    countName(row, attackClass, names, this.attackClass, this.attackCount, this.attacksMore);
  }

  entry(row: number, codeNames: NameTable, classNames: NameTable): DigestEntry {
    const pending: number[] = [];
    if (this.hasPending(row)) pending.push(this.pendingFirst[row], ...(this.pendingMore.get(row) ?? []));
    return {
      published: this.published.get(row),
      actions: this.actions.get(row),
      duplicates: this.duplicates.get(row),
      pending,
      rejections: namesCounted(row, codeNames, this.rejectionCode, this.rejectionCount, this.rejectionsMore),
      attacks: namesCounted(row, classNames, this.attackClass, this.attackCount, this.attacksMore),
    };
  }
}

/** Counts `name` for `row`: in the typed columns while it is the row's only name, else in `more`. */
function countName(
  row: number,
  name: string,
  names: NameTable,
  ids: Uint16Array,
  counts: CounterColumn,
  more: Map<number, Map<string, number>>,
): void {
  const id = names.id(name);
  if (id !== undefined && ids[row] === id) {
    counts.increment(row);
  } else if (id !== undefined && ids[row] === NO_NAME && !more.has(row)) {
    ids[row] = id;
    counts.increment(row);
  } else {
    let map = more.get(row);
    if (!map) more.set(row, map = new Map());
    bump(map, name, 1, DISTINCT_KEYS_MAX);
  }
}

/** A row's names and counts in first-seen order (the column's name came first). */
function namesCounted(
  row: number,
  names: NameTable,
  ids: Uint16Array,
  counts: CounterColumn,
  more: Map<number, Map<string, number>>,
): [string, number][] {
  const out: [string, number][] = ids[row] !== NO_NAME ? [[names.names[ids[row]], counts.get(row)]] : [];
  for (const pair of more.get(row) ?? []) out.push(pair);
  return out;
}

/** Legit delivery of one phase for the digests no attacker sent, counted as records stream by. */
interface UnattackedTally {
  sent: number;
  accepted: number;
  falselyRejected: number;
  rejectedByCode: Record<string, number>;
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
 * Pass 1 over the logs: the (digest, topic) keys some `attack_sent` names (exactly, per phase) and a
 * {@link PublicationFilter} of every `published` record. Feed it every record, in any order, then hand it
 * to a {@link MetricsFold} for pass 2 over the same records. Memory: the filter's fixed size plus ~26
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

  /** Ends pass 1: sizes the attack keys' columns. Called by {@link MetricsFold}'s constructor. */
  seal(): void {
    if (this.#sealed) throw new Error("LogSurvey already taken by a MetricsFold");
    this.#sealed = true;
    for (const table of this.attacked.values()) table.allocate();
  }
}

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
  readonly #publications: PublicationFilter;
  readonly #attacked: Map<Phase, AttackDigests>;
  readonly #codeNames = new NameTable();
  readonly #classNames = new NameTable();
  /** Phases with a record that carries a digest (published, action, rejected, attack_sent), first-seen order. */
  readonly #digestPhases = new Set<Phase>();
  readonly #unattacked = new Map<Phase, UnattackedTally>();
  readonly #unattributed = new Map<Phase, { actions: number; rejected: Map<string, number> }>();
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

  constructor(survey: LogSurvey) {
    survey.seal();
    this.#publications = survey.publications;
    this.#attacked = survey.attacked;
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
    const phase = phaseOf(record);
    switch (record.event) {
      case "published":
        return this.#published(phase, record);
      case "action":
        return this.#action(phase, record);
      case "rejected":
        return this.#rejected(phase, record);
      case "duplicate":
        return this.#duplicate(phase, record);
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

  /** The exact row of an attack key; undefined for a (digest, topic) no `attack_sent` of this phase names. */
  #attackRow(phase: Phase, digest: string, topic: string): [AttackDigests, number] | undefined {
    this.#digestPhases.add(phase);
    const table = this.#attacked.get(phase);
    if (!table) return undefined;
    const row = table.index.find(digest, topic);
    return row < 0 ? undefined : [table, row];
  }

  #tally(phase: Phase): UnattackedTally {
    let tally = this.#unattacked.get(phase);
    if (!tally) {
      this.#unattacked.set(phase, tally = { sent: 0, accepted: 0, falselyRejected: 0, rejectedByCode: {} });
    }
    return tally;
  }

  #loose(phase: Phase): { actions: number; rejected: Map<string, number> } {
    let loose = this.#unattributed.get(phase);
    if (!loose) this.#unattributed.set(phase, loose = { actions: 0, rejected: new Map() });
    return loose;
  }

  #published(phase: Phase, record: LogRecord): void {
    const digest = str(record.digest);
    const topic = topicOf(record);
    const epoch = num(record.epoch_length);
    const found = digest === undefined ? undefined : this.#attackRow(phase, digest, topic);
    if (found) {
      const [table, row] = found;
      // Pass 1 put every publication in the filter; this key is counted exactly instead.
      this.#publications.remove(phase, digest!, topic);
      table.published.increment(row);
      // An action read before its publication (logs given out of order) becomes legit now.
      while (table.hasPending(row) && table.matched.get(row) < table.published.get(row)) {
        table.matched.increment(row);
        sketchFor(this.#latency, phase).add(table.shiftPending(row));
      }
    } else if (digest !== undefined) {
      this.#tally(phase).sent++;
    }
    const suite = str(record.suite);
    if (suite !== undefined && isRecord(record.stages)) {
      foldStages(this.#sensorStages, suite, epoch ?? null, record.stages);
    }
  }

  #action(phase: Phase, record: LogRecord): void {
    const digest = str(record.digest);
    const topic = topicOf(record);
    const latency = num(record.latency_ms);
    let epoch = num(record.epoch_length);
    const found = digest === undefined ? undefined : this.#attackRow(phase, digest, topic);
    if (found) {
      const [table, row] = found;
      table.actions.increment(row);
      // As before the two passes: the publication's epoch length when the publication was read first.
      if (table.published.get(row) > 0) epoch ??= this.#publications.epochOf(phase, digest!, topic);
      if (table.matched.get(row) < table.published.get(row)) {
        table.matched.increment(row);
        if (latency !== undefined) sketchFor(this.#latency, phase).add(latency);
      } else if (latency !== undefined) {
        table.pushPending(row, latency);
      }
    } else if (digest !== undefined) {
      // No attacker sent these bytes on this topic: a legit action if a publication is left to claim.
      if (this.#publications.claim(phase, digest, topic)) {
        this.#tally(phase).accepted++;
        if (latency !== undefined) sketchFor(this.#latency, phase).add(latency);
        epoch ??= this.#publications.epochOf(phase, digest, topic);
      } else {
        this.#loose(phase).actions++;
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
    const topic = topicOf(record);
    const code = str(record.code) ?? "UNKNOWN";
    const found = this.#attackRow(phase, digest, topic);
    if (found) {
      found[0].addRejection(found[1], code, this.#codeNames);
    } else if (this.#publications.claim(phase, digest, topic)) {
      const tally = this.#tally(phase);
      tally.falselyRejected++;
      bumpRecord(tally.rejectedByCode, code, 1);
    } else {
      // Nobody logged sending these bytes (raw garbage published by hand, a foreign client).
      bump(this.#loose(phase).rejected, code, 1, DISTINCT_KEYS_MAX);
    }
  }

  /**
   * A `duplicate` is not acted on. On an attack key it may be an attack copy the actuator took for a
   * redelivery (a verbatim replay of the message it just accepted), so it is kept for the final join;
   * elsewhere it is a QoS 1 redelivery of a legit message.
   */
  #duplicate(phase: Phase, record: LogRecord): void {
    const digest = str(record.digest);
    const found = digest === undefined ? undefined : this.#attackRow(phase, digest, topicOf(record));
    if (found) found[0].duplicates.increment(found[1]);
    else this.#duplicates.set(phase, (this.#duplicates.get(phase) ?? 0) + 1);
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
    const found = this.#attackRow(phase, digest, topicOf(record));
    if (!found) throw new Error("MetricsFold got an attack_sent its LogSurvey did not see");
    found[0].addAttack(found[1], attackClass, this.#classNames);
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
      // The log writer's secret-name guard (log/jsonl.ts) turns this length into "[redacted]": unknown, not 0.
      target_bytes: num(record.target_bytes) ?? null,
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
      ...this.#digestPhases,
      ...this.#attacks.keys(),
      ...this.#duplicates.keys(),
    ]);
    for (const phase of phases) {
      const delivery = newDelivery(this.#duplicates.get(phase) ?? 0);
      const loose = this.#loose(phase);
      const tally = this.#unattacked.get(phase);
      if (tally) {
        delivery.sent += tally.sent;
        delivery.accepted += tally.accepted;
        delivery.falsely_rejected += tally.falselyRejected;
        delivery.not_seen += tally.sent - tally.accepted - tally.falselyRejected;
        delivery.rejected_by_code = { ...tally.rejectedByCode };
      }
      const table = this.#attacked.get(phase);
      for (let row = 0; row < (table?.index.size ?? 0); row++) {
        this.#resolveDigest(phase, table!.entry(row, this.#codeNames, this.#classNames), delivery, loose);
      }
      if (delivery.sent > 0 || delivery.duplicates > 0 || this.#digestPhases.has(phase)) {
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
   * Splits one attack key's actions and rejections between the legit publications and the attack
   * copies. Legit publications have the first claim on actions (one each); actions beyond the publication
   * count are attack successes (docs/LOG.md's rule). Rejections go first to legit publications left
   * unacted (their copy arrived first), the rest to the attack copies. Attack copies still unaccounted
   * for take the key's `duplicate` records (code DUPLICATE: taken for a redelivery, not acted on); the
   * duplicates left over are legit redeliveries.
   */
  #resolveDigest(
    phase: Phase,
    entry: DigestEntry,
    delivery: LegitDelivery,
    loose: { actions: number; rejected: Map<string, number> },
  ): void {
    const legitActed = Math.min(entry.actions, entry.published);
    const excessActions = entry.actions - legitActed;
    const rejectionCount = entry.rejections.reduce((sum, [, n]) => sum + n, 0);
    const legitRejected = Math.min(entry.published - legitActed, rejectionCount);
    delivery.sent += entry.published;
    delivery.accepted += legitActed;
    delivery.falsely_rejected += legitRejected;
    delivery.not_seen += entry.published - legitActed - legitRejected;
    const rejectionQueue = takeCodes(
      entry.rejections,
      legitRejected,
      (code, n) => bumpRecord(delivery.rejected_by_code, code, n),
    );

    if (entry.attacks.length === 0) {
      // Only attack_sent records beyond DISTINCT_KEYS_MAX classes named it: treat it as nobody's.
      loose.actions += excessActions;
      for (const [code, n] of rejectionQueue) bump(loose.rejected, code, n, DISTINCT_KEYS_MAX);
      delivery.duplicates += entry.duplicates;
      return;
    }
    for (const latency of entry.pending) sketchFor(this.#attackLatency, phase).add(latency);
    let unclaimedActions = excessActions;
    let queue = rejectionQueue;
    let duplicates = entry.duplicates;
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
      const deduplicated = Math.min(blocked, duplicates);
      if (deduplicated > 0) bump(counter.codes, CODE_DUPLICATE, deduplicated, DISTINCT_KEYS_MAX);
      duplicates -= deduplicated;
      blocked -= deduplicated;
      if (blocked > 0) bump(counter.codes, CODE_NOT_SEEN, blocked, DISTINCT_KEYS_MAX);
    }
    delivery.duplicates += duplicates;
    // More reactions than publications plus attack copies: the excess has no known sender.
    loose.actions += unclaimedActions;
    for (const [code, n] of queue) bump(loose.rejected, code, n, DISTINCT_KEYS_MAX);
  }
}

/**
 * Aggregates JSONL logs in two streamed passes, in the order given: a {@link LogSurvey} over all of them,
 * then a {@link MetricsFold} over all of them. Unreadable lines are counted as bad lines; a missing file
 * throws. Memory does not grow with the number of legit messages (docs/METRICS.md).
 * @example
 * ```ts
 * const metrics = await aggregateLogs(["out/phase1.jsonl", "out/phase2.jsonl"]);
 * ```
 */
export async function aggregateLogs(paths: string[]): Promise<AggregateMetrics> {
  let inputBytes = 0;
  for (const path of paths) inputBytes += (await Deno.stat(path)).size;
  const survey = new LogSurvey(publicationFilterCells(inputBytes));
  for (const path of paths) {
    for await (const item of readLog(path)) if (item.ok) survey.add(item.record);
  }
  const fold = new MetricsFold(survey);
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

function phaseOf(record: LogRecord): Phase {
  return typeof record.phase === "string" ? record.phase : "unknown";
}

/**
 * Two 32-bit hashes of the strings (a, b, c) into `out`: FNV-1a with two primes over their UTF-16 code
 * units, 0x10000 (no code unit) after each string so the split is unambiguous, each finished by murmur3's
 * fmix32.
 */
function hashKey(a: string, b: string, c: string, out: Uint32Array): void {
  let h1 = 0x811c9dc5;
  let h2 = 0x3c6ef372;
  for (let p = 0; p < 3; p++) {
    const part = p === 0 ? a : p === 1 ? b : c;
    for (let i = 0; i < part.length; i++) {
      const unit = part.charCodeAt(i);
      h1 = Math.imul(h1 ^ unit, 0x01000193);
      h2 = Math.imul(h2 ^ unit, 0x5bd1e995);
    }
    h1 = Math.imul(h1 ^ STRING_END, 0x01000193);
    h2 = Math.imul(h2 ^ STRING_END, 0x5bd1e995);
  }
  out[0] = fmix32(h1);
  out[1] = fmix32(h2);
}

/** Mixed into {@link hashKey} after each string: above every UTF-16 code unit. */
const STRING_END = 0x10000;

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

const HEX_DIGEST = /^[0-9a-f]{16}$/;
const keyHash = new Uint32Array(2);

/**
 * The 64-bit key of a message: its digest when that is 16 hex digits (else a hash of it), XOR a hash of
 * its topic (nothing for a record without topic, so such records still join one another by digest).
 */
function messageKey(digest: string, topic: string): bigint {
  let key: bigint;
  if (HEX_DIGEST.test(digest)) key = BigInt(`0x${digest}`);
  else {
    hashKey("digest", digest, "", keyHash);
    key = (BigInt(keyHash[0]) << 32n) | BigInt(keyHash[1]);
  }
  if (topic === "") return key;
  hashKey("topic", topic, "", keyHash);
  return key ^ ((BigInt(keyHash[0]) << 32n) | BigInt(keyHash[1]));
}

/** The record's `topic`, or "" when it has none (older logs, hand-written fixtures). */
function topicOf(record: LogRecord): string {
  return typeof record.topic === "string" ? record.topic : "";
}
