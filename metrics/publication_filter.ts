/**
 * The fixed-size counting filter of `published` records that pass 1 fills and pass 2 claims from, for every
 * (phase, digest, topic) key no attacker sent (docs/METRICS.md, "The filter and its error"), and how big
 * to make it.
 * @module
 */

import { hashKey } from "./message_key.ts";
import type { Phase } from "./types.ts";

/** Cells of the publication filter of a `LogSurvey` made without a size (tests, small logs). */
export const PUBLICATION_FILTER_DEFAULT_CELLS = 1 << 16;
/** Smallest publication filter {@link publicationFilterCells} picks: 64 KiB. */
export const PUBLICATION_FILTER_MIN_CELLS = 1 << 16;
/** Largest publication filter {@link publicationFilterCells} picks: one byte per cell, 16 MiB. */
export const PUBLICATION_FILTER_MAX_CELLS = 1 << 24;
/**
 * `aggregateLogs` gives the filter one cell per this many input bytes. A `published` line is at
 * least ~100 bytes, so below the cap there are ≥ 12 cells per publication (false-positive rate ≤ 0.7 %).
 */
export const INPUT_BYTES_PER_FILTER_CELL = 8;
/** Cells each key touches in the publication filter. */
const PUBLICATION_FILTER_HASHES = 4;
/** A filter cell's count saturates here and is then never decremented (it could be undercounting). */
const CELL_COUNT_SATURATED = 15;
/** Epoch code of a cell that two publications with different epoch lengths share. */
const CELL_EPOCH_MIXED = 15;
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
 * @example
 * ```ts
 * const filter = new PublicationFilter(PUBLICATION_FILTER_MIN_CELLS);
 * filter.add("secure", "9f86d081884c7d65", "home/door", 8);
 * filter.claim("secure", "9f86d081884c7d65", "home/door"); // true
 * filter.claim("secure", "9f86d081884c7d65", "home/door"); // false: its one publication is claimed
 * ```
 */
export class PublicationFilter {
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

  /** Puts in one publication of the key, with its epoch length when it has one. */
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

  /** Takes back one publication {@link PublicationFilter.add} put in: pass 2 counts attack keys exactly. */
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
