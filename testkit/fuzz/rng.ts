/**
 * The fuzzer's deterministic randomness: the same seed draws the same mutations.
 * @module
 */

/**
 * sfc32 (Chris Doty-Humphrey's Small Fast Counter): a tiny deterministic generator, so a run is
 * reproducible from its seed. Not for keys.
 * @example
 * ```ts
 * const rng = new FuzzRng(1);
 * rng.range(1, 6); // the same number on every run with seed 1
 * ```
 */
export class FuzzRng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  /** @param seed any safe integer */
  constructor(seed: number) {
    this.#a = 0x9e3779b9;
    this.#b = Math.floor(seed / 2 ** 32) >>> 0;
    this.#c = 0xb7e15162;
    this.#d = seed >>> 0;
    for (let i = 0; i < 16; i++) this.next();
  }

  /** A uniform 32-bit unsigned integer. */
  next(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor((this.next() / 2 ** 32) * n);
  }

  /** A uniform integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() / 2 ** 32 < p;
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** n random bytes. */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.next() & 0xff;
    return out;
  }
}
