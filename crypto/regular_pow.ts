/**
 * Fixed-base exponentiation whose sequence of multiplications does not depend on the exponent: the
 * exponent is always processed over the same number of bits, in fixed windows, with no early exit and no
 * window skipped. The DSA signer uses it for g^(k + m·q) so that the running time does not tell how many
 * leading zero bits the secret nonce k has (the Minerva leak).
 *
 * Method: a fixed-base comb (HAC §14.6.3). The exponent's `windows · WINDOW_BITS` bits are cut into
 * `pieces` slices of `windowsPerPiece` windows each; slice j uses the base g^(2^(j·span)). Every window is
 * recoded to a digit in 1..2^w instead of 0..2^w − 1 (subtract C = Σ 2^(w·i), then add 1 to each digit), so
 * no step ever multiplies by 1 — in V8 a multiplication by 1n is much cheaper than by a 2048-bit value and
 * would reveal a zero window. The price is the range: an exponent E is accepted only in [C, C + 2^bits).
 *
 * What this does not hide: V8 BigInt operations still take time that depends on operand lengths, and the
 * table lookup by digit is a memory access indexed by secret data (a cache side channel for a co-resident
 * attacker on the same core). With exponent blinding (a fresh random multiple of q added to k) the digits
 * are fresh random values on every call, so neither says anything about k.
 * @module
 */

import { ModArithError } from "./modarith.ts";

/** Window width w: each step squares w times and multiplies once per slice. */
export const WINDOW_BITS = 5;
/** Windows per slice: the loop does `WINDOWS_PER_PIECE · WINDOW_BITS − WINDOW_BITS` squarings in all. */
export const WINDOWS_PER_PIECE = 8;

const DIGIT_MASK = (1n << BigInt(WINDOW_BITS)) - 1n;

/**
 * Precomputed powers of one base for exponents of a fixed size, laid out for {@link regularPow}.
 * @example
 * ```ts
 * const table = new RegularPowers(g, p, 360);
 * regularPow(table, table.offset + 12345n) === modPow(g, table.offset + 12345n, p); // true
 * ```
 */
export class RegularPowers {
  /** The modulus the powers are reduced by. */
  readonly modulus: bigint;
  /** Exponent bits covered: a multiple of `WINDOW_BITS · WINDOWS_PER_PIECE`, at least the requested size. */
  readonly bits: number;
  /** Number of slices. */
  readonly pieces: number;
  /** C = Σ 2^(w·i) over every window: the smallest exponent the table accepts. */
  readonly offset: bigint;
  /** digits[j][d − 1] = (base^(2^(j·span)))^d mod modulus for d in 1..2^w. */
  readonly digits: bigint[][];

  /**
   * @param base the fixed base
   * @param modulus the modulus
   * @param minBits the exponent size to cover, rounded up to whole slices
   */
  constructor(base: bigint, modulus: bigint, minBits: number) {
    if (modulus <= 1n) throw new ModArithError("expected a modulus greater than 1");
    if (!(minBits > 0)) throw new ModArithError("expected a positive exponent size");
    const span = WINDOW_BITS * WINDOWS_PER_PIECE;
    this.modulus = modulus;
    this.pieces = Math.ceil(minBits / span);
    this.bits = this.pieces * span;
    let offset = 0n;
    for (let i = 0; i < this.pieces * WINDOWS_PER_PIECE; i++) offset |= 1n << BigInt(i * WINDOW_BITS);
    this.offset = offset;
    this.digits = [];
    let b = ((base % modulus) + modulus) % modulus;
    for (let j = 0; j < this.pieces; j++) {
      if (j > 0) { for (let i = 0; i < span; i++) b = (b * b) % modulus; }
      const row = [b];
      for (let d = 2; d <= 1 << WINDOW_BITS; d++) row.push((row[d - 2] * b) % modulus);
      this.digits.push(row);
    }
  }
}

/**
 * base^exponent mod m with exactly `pieces · WINDOWS_PER_PIECE` table multiplications and
 * `(WINDOWS_PER_PIECE − 1) · WINDOW_BITS` squarings, whatever the exponent. The exponent must lie in
 * [table.offset, table.offset + 2^table.bits); throws {@link ModArithError} otherwise (a range check on the
 * exponent, the one branch that does not depend on its bits inside the range).
 * @example
 * ```ts
 * const r = regularPow(table, k + m * q) % q; // = (g^k mod p) mod q when g has order q
 * ```
 */
export function regularPow(table: RegularPowers, exponent: bigint): bigint {
  const rest = exponent - table.offset;
  if (rest < 0n || rest >> BigInt(table.bits) !== 0n) {
    throw new ModArithError(`expected an exponent in [offset, offset + 2^${table.bits})`);
  }
  const m = table.modulus;
  const perPiece = WINDOWS_PER_PIECE;
  // digit[j·perPiece + i] is window i of slice j, in 0..2^w − 1 (the +1 is in the table index below).
  const digit = new Uint8Array(table.pieces * perPiece);
  let e = rest;
  for (let i = 0; i < digit.length; i++) {
    digit[i] = Number(e & DIGIT_MASK);
    e >>= BigInt(WINDOW_BITS);
  }
  let acc = table.digits[0][digit[perPiece - 1]];
  for (let j = 1; j < table.pieces; j++) {
    acc = (acc * table.digits[j][digit[j * perPiece + perPiece - 1]]) % m;
  }
  for (let i = perPiece - 2; i >= 0; i--) {
    for (let s = 0; s < WINDOW_BITS; s++) acc = (acc * acc) % m;
    for (let j = 0; j < table.pieces; j++) acc = (acc * table.digits[j][digit[j * perPiece + i]]) % m;
  }
  return acc;
}
