/**
 * The exact state pass 2 keeps for the (digest, topic) keys some `attack_sent` names: a sorted index of the
 * keys (fixed by pass 1) and typed columns of counters per key, about 26 bytes a key (docs/METRICS.md).
 * @module
 */

import { bump, DISTINCT_KEYS_MAX } from "./counts.ts";
import { messageKey } from "./message_key.ts";

/** Distinct names (rejection codes, attack classes) kept in typed columns; more go to sparse maps. */
const INTERNED_NAMES_MAX = 4096;
/** "No name yet" in a {@link NameTable} id column. */
const NO_NAME = 0xffff;

/**
 * Set of (digest, topic) keys in 64 bits each: the digest itself when it is the usual 16 hex digits (else a
 * 64-bit hash of it), XOR a 64-bit hash of the topic (0 for no topic). The digest is already a 64-bit
 * prefix of SHA-256, so two different messages share a row with the same probability, ≈ n²/2⁶⁵, as two
 * different payloads share a digest. Pass 1 appends keys (duplicates included); {@link seal} sorts and
 * dedups them into 8 bytes a key, and a key's row is its rank, found by binary search.
 * @example
 * ```ts
 * const keys = new MessageKeySet();
 * keys.add("9f86d081884c7d65", "home/door");
 * keys.add("9f86d081884c7d65", "home/door");
 * keys.seal();
 * keys.size; // 1
 * keys.find("9f86d081884c7d65", "home/door"); // 0
 * keys.find("9f86d081884c7d65", "home/window"); // -1
 * ```
 */
export class MessageKeySet {
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

  /** Notes a key (before {@link MessageKeySet.seal}). */
  add(digest: string, topic: string): void {
    if (this.#sealed) throw new Error("MessageKeySet.add after seal");
    if (this.#length === this.#keys.length) {
      const keys = new BigUint64Array(this.#keys.length * 2);
      keys.set(this.#keys);
      this.#keys = keys;
    }
    this.#keys[this.#length++] = messageKey(digest, topic);
  }

  /** Sorts and dedups the keys: rows are fixed from now on. */
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

/**
 * Names (rejection codes, attack classes) ↔ small integers, for typed columns.
 * @example
 * ```ts
 * const codes = new NameTable();
 * codes.id("REPLAY"); // 0
 * codes.names[0]; // "REPLAY"
 * ```
 */
export class NameTable {
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

/**
 * Name → count per row, for the rare row with several names: the row's first name (a {@link NameTable}
 * id, NO_NAME when none) and its count in typed columns, any other name in a sparse map.
 */
class NameCounts {
  readonly #ids: Uint16Array;
  readonly #counts: CounterColumn;
  readonly #more = new Map<number, Map<string, number>>();

  constructor(rows: number) {
    this.#ids = new Uint16Array(rows).fill(NO_NAME);
    this.#counts = new CounterColumn(rows);
  }

  /** Counts `name` for `row`: in the typed columns while it is the row's only name, else in the map. */
  add(row: number, name: string, names: NameTable): void {
    const id = names.id(name);
    if (id !== undefined && this.#ids[row] === id) {
      this.#counts.increment(row);
    } else if (id !== undefined && this.#ids[row] === NO_NAME && !this.#more.has(row)) {
      this.#ids[row] = id;
      this.#counts.increment(row);
    } else {
      let map = this.#more.get(row);
      if (!map) this.#more.set(row, map = new Map());
      bump(map, name, 1, DISTINCT_KEYS_MAX);
    }
  }

  /** A row's names and counts in first-seen order (the column's name came first). */
  list(row: number, names: NameTable): [string, number][] {
    const id = this.#ids[row];
    const out: [string, number][] = id !== NO_NAME ? [[names.names[id], this.#counts.get(row)]] : [];
    for (const pair of this.#more.get(row) ?? []) out.push(pair);
    return out;
  }
}

/** One attack key's counters, as {@link AttackDigests} hands them out for the final join. */
export interface DigestEntry {
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
 * @example
 * ```ts
 * const table = new AttackDigests();
 * table.index.add("9f86d081884c7d65", "home/door"); // pass 1
 * table.allocate();
 * const row = table.index.find("9f86d081884c7d65", "home/door");
 * table.actions.increment(row); // pass 2
 * table.entry(row, new NameTable(), new NameTable()).actions; // 1
 * ```
 */
export class AttackDigests {
  readonly index = new MessageKeySet();
  published = new CounterColumn(0);
  actions = new CounterColumn(0);
  duplicates = new CounterColumn(0);
  /** Actions already counted as legit (their latency went to the legit sketch). */
  matched = new CounterColumn(0);
  /** First pending latency, NaN when none; the rest are in `pendingMore`. */
  pendingFirst = new Float64Array(0);
  readonly pendingMore = new Map<number, number[]>();
  /** Rejection codes per row, first-seen order. */
  rejections = new NameCounts(0);
  /** Attack classes that sent the row's key, first-seen order. */
  attacks = new NameCounts(0);

  /** Fixes the rows and sizes the columns, once pass 1 is over. */
  allocate(): void {
    this.index.seal();
    const rows = this.index.size;
    this.published = new CounterColumn(rows);
    this.actions = new CounterColumn(rows);
    this.duplicates = new CounterColumn(rows);
    this.matched = new CounterColumn(rows);
    this.pendingFirst = new Float64Array(rows).fill(NaN);
    this.rejections = new NameCounts(rows);
    this.attacks = new NameCounts(rows);
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
    this.rejections.add(row, code, names);
  }

  addAttack(row: number, attackClass: string, names: NameTable): void {
    this.attacks.add(row, attackClass, names);
  }

  entry(row: number, codeNames: NameTable, classNames: NameTable): DigestEntry {
    const pending: number[] = [];
    if (this.hasPending(row)) pending.push(this.pendingFirst[row], ...(this.pendingMore.get(row) ?? []));
    return {
      published: this.published.get(row),
      actions: this.actions.get(row),
      duplicates: this.duplicates.get(row),
      pending,
      rejections: this.rejections.list(row, codeNames),
      attacks: this.attacks.list(row, classNames),
    };
  }
}
