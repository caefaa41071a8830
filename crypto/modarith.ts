/**
 * Modular arithmetic on BigInt for DSA: sliding-window exponentiation, simultaneous (Straus/Shamir)
 * double exponentiation for verification, modular inverse, and Miller–Rabin.
 *
 * Reduction is plain BigInt `%`. Measured on V8 (Deno 2.9, 2048-bit modulus): one multiply+`%`
 * takes ~1.4 µs, while Montgomery or Barrett reduction written with BigInt operations needs three
 * full-width multiplications and takes ~2.0–2.1 µs; a limb-array Montgomery in plain JS is an order
 * of magnitude slower still (see bench/dsa_bench.ts). The speed therefore comes from doing fewer
 * multiplications: windows, shared squarings, and fixed-base tables.
 *
 * None of this is constant-time: V8 BigInt operations leak operand sizes through timing.
 * @module
 */

import { SecmqttError } from "../core/errors.ts";

/** Error thrown when an inverse does not exist or an argument is out of its domain. */
export class ModArithError extends SecmqttError {
  /** Exit-status kind: callers check domains first: reaching this is a bug. */
  readonly kind = "internal";
  /** Stable error code. */
  readonly code = "MODARITH";
}

/**
 * Number of bits of a non-negative integer (0 for 0).
 * @example
 * ```ts
 * bitLength(255n); // 8
 * ```
 */
export function bitLength(x: bigint): number {
  if (x < 0n) throw new ModArithError("expected a non-negative integer");
  return x === 0n ? 0 : x.toString(2).length;
}

/** Window width that minimises squarings + multiplications for an exponent of `bits` bits. */
function windowBits(bits: number): number {
  if (bits > 768) return 6;
  if (bits > 240) return 5;
  if (bits > 80) return 4;
  if (bits > 24) return 3;
  return 1;
}

/** Odd powers base^1, base^3, …, base^(2^w − 1) mod m, indexed by (power − 1) / 2. */
function oddPowers(base: bigint, w: number, m: bigint): bigint[] {
  const table = [base];
  if (w > 1) {
    const sq = (base * base) % m;
    for (let i = 1; i < 1 << (w - 1); i++) table.push((table[i - 1] * sq) % m);
  }
  return table;
}

/**
 * Sliding-window recoding of an exponent: `digits[i]` is the odd window value whose lowest bit is
 * bit `i` of `e`, or 0. Then e = Σ digits[i]·2^i and each digit < 2^w.
 */
function slidingWindows(e: bigint, w: number): Uint8Array {
  const bits = e.toString(2);
  const n = bits.length;
  const digits = new Uint8Array(n);
  let i = 0; // index into the string, most significant first
  while (i < n) {
    if (bits.charCodeAt(i) === 48) {
      i++;
      continue;
    }
    let j = Math.min(i + w, n) - 1;
    while (bits.charCodeAt(j) === 48) j--;
    let value = 0;
    for (let k = i; k <= j; k++) value = (value << 1) | (bits.charCodeAt(k) - 48);
    digits[n - 1 - j] = value;
    i = j + 1;
  }
  return digits;
}

/**
 * base^exp mod m by left-to-right sliding-window exponentiation (HAC Algorithm 14.85).
 * @example
 * ```ts
 * modPow(4n, 13n, 497n); // 445n
 * ```
 */
export function modPow(base: bigint, exp: bigint, m: bigint): bigint {
  if (m <= 0n) throw new ModArithError("expected a positive modulus");
  if (exp < 0n) throw new ModArithError("expected a non-negative exponent");
  if (m === 1n) return 0n;
  const b = ((base % m) + m) % m;
  if (exp === 0n) return 1n;
  const w = windowBits(bitLength(exp));
  const table = oddPowers(b, w, m);
  const digits = slidingWindows(exp, w);
  let acc = 1n;
  let started = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    if (started) acc = (acc * acc) % m;
    const d = digits[i];
    if (d !== 0) {
      acc = started ? (acc * table[d >> 1]) % m : table[d >> 1];
      started = true;
    }
  }
  return acc;
}

/**
 * b1^e1 · b2^e2 mod m with one shared chain of squarings (Straus's interleaved sliding windows,
 * HAC Algorithm 14.88 generalised to windows): about max(|e1|, |e2|) squarings instead of |e1| + |e2|.
 * This is the core of DSA verification, v = g^u1 · y^u2 mod p (FIPS 186-4 §4.7).
 * @example
 * ```ts
 * modPow2(3n, 5n, 7n, 11n, 1009n) === (modPow(3n, 5n, 1009n) * modPow(7n, 11n, 1009n)) % 1009n; // true
 * ```
 */
export function modPow2(b1: bigint, e1: bigint, b2: bigint, e2: bigint, m: bigint): bigint {
  if (m <= 0n) throw new ModArithError("expected a positive modulus");
  if (e1 < 0n || e2 < 0n) throw new ModArithError("expected non-negative exponents");
  if (m === 1n) return 0n;
  if (e1 === 0n) return modPow(b2, e2, m);
  if (e2 === 0n) return modPow(b1, e1, m);
  const x1 = ((b1 % m) + m) % m;
  const x2 = ((b2 % m) + m) % m;
  const n1 = bitLength(e1);
  const n2 = bitLength(e2);
  const w1 = windowBits(n1);
  const w2 = windowBits(n2);
  const t1 = oddPowers(x1, w1, m);
  const t2 = oddPowers(x2, w2, m);
  const d1 = slidingWindows(e1, w1);
  const d2 = slidingWindows(e2, w2);
  let acc = 1n;
  let started = false;
  for (let i = Math.max(n1, n2) - 1; i >= 0; i--) {
    if (started) acc = (acc * acc) % m;
    const a = i < n1 ? d1[i] : 0;
    if (a !== 0) {
      acc = started ? (acc * t1[a >> 1]) % m : t1[a >> 1];
      started = true;
    }
    const b = i < n2 ? d2[i] : 0;
    if (b !== 0) {
      acc = started ? (acc * t2[b >> 1]) % m : t2[b >> 1];
      started = true;
    }
  }
  return acc;
}

/**
 * a^−1 mod m by the extended Euclidean algorithm; throws {@link ModArithError} if gcd(a, m) ≠ 1.
 * @example
 * ```ts
 * modInverse(3n, 11n); // 4n
 * ```
 */
export function modInverse(a: bigint, m: bigint): bigint {
  if (m <= 1n) throw new ModArithError("expected a modulus greater than 1");
  let r0 = ((a % m) + m) % m;
  let r1 = m;
  let s0 = 1n;
  let s1 = 0n;
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  if (r0 !== 1n) {
    throw new ModArithError("expected an invertible element, got a common factor with the modulus");
  }
  return ((s0 % m) + m) % m;
}

/**
 * Reads big-endian unsigned bytes as an integer.
 * @example
 * ```ts
 * bytesToBigInt(new Uint8Array([1, 0])); // 256n
 * ```
 */
export function bytesToBigInt(bytes: Uint8Array): bigint {
  let hex = "";
  for (const b of bytes) hex += b.toString(16).padStart(2, "0");
  return hex === "" ? 0n : BigInt("0x" + hex);
}

/**
 * Writes a non-negative integer as exactly `length` big-endian bytes; throws if it does not fit.
 * @example
 * ```ts
 * bigIntToBytes(256n, 2); // Uint8Array [1, 0]
 * ```
 */
export function bigIntToBytes(x: bigint, length: number): Uint8Array {
  if (x < 0n) throw new ModArithError("expected a non-negative integer");
  const hex = x.toString(16);
  if (hex.length > 2 * length) throw new ModArithError(`expected an integer of at most ${length} bytes`);
  const padded = hex.padStart(2 * length, "0");
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = parseInt(padded.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * Uniform integer in [low, high] from the given random source (rejection sampling, no modulo bias).
 * @example
 * ```ts
 * randomBigIntInRange(2n, 10n, (b) => crypto.getRandomValues(b));
 * ```
 */
export function randomBigIntInRange(
  low: bigint,
  high: bigint,
  random: (buf: Uint8Array) => Uint8Array = (buf) => crypto.getRandomValues(buf),
): bigint {
  if (high < low) throw new ModArithError("expected low <= high");
  const span = high - low;
  const bits = bitLength(span);
  const bytes = Math.ceil(bits / 8) || 1;
  const excess = BigInt(bytes * 8 - bits);
  while (true) {
    const candidate = bytesToBigInt(random(new Uint8Array(bytes))) >> excess;
    if (candidate <= span) return low + candidate;
  }
}

/**
 * Miller–Rabin probabilistic primality test (FIPS 186-4 Appendix C.3.1) with `rounds` random bases.
 * Returns false for "composite", true for "probably prime".
 * @example
 * ```ts
 * isProbablePrime(1000003n, 10); // true
 * ```
 */
export function isProbablePrime(
  w: bigint,
  rounds: number,
  random: (buf: Uint8Array) => Uint8Array = (buf) => crypto.getRandomValues(buf),
): boolean {
  if (w < 2n) return false;
  if (w < 4n) return true;
  if ((w & 1n) === 0n) return false;
  const wMinus1 = w - 1n;
  let a = 0n;
  let m = wMinus1;
  while ((m & 1n) === 0n) {
    m >>= 1n;
    a++;
  }
  for (let i = 0; i < rounds; i++) {
    const b = randomBigIntInRange(2n, w - 2n, random);
    let z = modPow(b, m, w);
    if (z === 1n || z === wMinus1) continue;
    let composite = true;
    for (let j = 1n; j < a; j++) {
      z = (z * z) % w;
      if (z === wMinus1) {
        composite = false;
        break;
      }
      if (z === 1n) break;
    }
    if (composite) return false;
  }
  return true;
}

/** Odd primes below this bound are used for trial division before Miller–Rabin. */
const TRIAL_DIVISION_BOUND = 20000;

/** The odd primes below TRIAL_DIVISION_BOUND, grouped so each group's product stays below 2^53. */
const smallPrimeGroups: { product: bigint; primes: number[] }[] = (() => {
  const composite = new Uint8Array(TRIAL_DIVISION_BOUND);
  const groups: { product: bigint; primes: number[] }[] = [];
  let product = 1;
  let primes: number[] = [];
  for (let i = 3; i < TRIAL_DIVISION_BOUND; i += 2) {
    if (composite[i]) continue;
    for (let j = i * i; j < TRIAL_DIVISION_BOUND; j += 2 * i) composite[j] = 1;
    if (product * i > Number.MAX_SAFE_INTEGER) {
      groups.push({ product: BigInt(product), primes });
      product = 1;
      primes = [];
    }
    product *= i;
    primes.push(i);
  }
  groups.push({ product: BigInt(product), primes });
  return groups;
})();

/**
 * True if w is even or divisible by an odd prime below 20000 (and is not that prime itself).
 * A cheap sieve to run before {@link isProbablePrime}: it rejects ~90% of random odd candidates.
 * @example
 * ```ts
 * hasSmallFactor(3n * 1000003n); // true
 * ```
 */
export function hasSmallFactor(w: bigint): boolean {
  if ((w & 1n) === 0n) return w !== 2n;
  for (const group of smallPrimeGroups) {
    const r = Number(w % group.product);
    for (const p of group.primes) {
      if (r % p === 0 && w !== BigInt(p)) return true;
    }
  }
  return false;
}

/**
 * Precomputed powers of one fixed base for exponents up to `maxExpBits` bits (HAC §14.6.3, fixed-base
 * exponentiation): the exponent is cut into `pieces` slices of ⌈maxExpBits/pieces⌉ bits, base
 * b_j = base^(2^(j·span)) is stored for each slice with its odd powers, and {@link multiPow} then needs
 * only `span` squarings. Costs about maxExpBits squarings and pieces·2^(window−1) multiplications to build.
 * @example
 * ```ts
 * const table = new FixedBasePowers(g, p, 256);
 * multiPow([[table, k]], p) === modPow(g, k, p); // true
 * ```
 */
export class FixedBasePowers {
  /** The modulus the powers are reduced by. */
  readonly modulus: bigint;
  /** Largest exponent size, in bits, that the table covers. */
  readonly maxExpBits: number;
  /** Bits per slice. */
  readonly span: number;
  /** Window width used to recode each slice. */
  readonly window: number;
  /** odd[j][i] = (base^(2^(j·span)))^(2i+1) mod modulus. */
  readonly odd: bigint[][];

  /**
   * @param base the fixed base
   * @param modulus the modulus
   * @param maxExpBits largest exponent size in bits
   * @param pieces how many slices the exponent is cut into
   * @param window sliding-window width per slice
   */
  constructor(base: bigint, modulus: bigint, maxExpBits: number, pieces = 4, window = 5) {
    if (modulus <= 1n) throw new ModArithError("expected a modulus greater than 1");
    this.modulus = modulus;
    this.maxExpBits = maxExpBits;
    this.span = Math.ceil(maxExpBits / pieces);
    this.window = window;
    this.odd = [];
    let b = ((base % modulus) + modulus) % modulus;
    for (let j = 0; j < pieces; j++) {
      if (j > 0) { for (let i = 0; i < this.span; i++) b = (b * b) % modulus; }
      this.odd.push(oddPowers(b, window, modulus));
    }
  }
}

/**
 * Π base_i^exp_i mod m over fixed-base tables sharing one modulus, with one shared chain of `span`
 * squarings (Straus's method over every slice of every exponent). Exponents must be non-negative and
 * fit their table's `maxExpBits`.
 * @example
 * ```ts
 * const v = multiPow([[gTable, u1], [yTable, u2]], p); // g^u1 · y^u2 mod p
 * ```
 */
export function multiPow(terms: [FixedBasePowers, bigint][], m: bigint): bigint {
  let span = 0;
  const slices: { digits: Uint8Array; odd: bigint[] }[] = [];
  for (const [table, exp] of terms) {
    if (table.modulus !== m) throw new ModArithError("expected every table to use the same modulus");
    if (exp < 0n || bitLength(exp) > table.maxExpBits) {
      throw new ModArithError(`expected an exponent of at most ${table.maxExpBits} bits`);
    }
    span = Math.max(span, table.span);
    const mask = (1n << BigInt(table.span)) - 1n;
    let rest = exp;
    for (let j = 0; rest !== 0n; j++) {
      const slice = rest & mask;
      rest >>= BigInt(table.span);
      if (slice !== 0n) slices.push({ digits: slidingWindows(slice, table.window), odd: table.odd[j] });
    }
  }
  let acc = 1n % m;
  let started = false;
  for (let i = span - 1; i >= 0; i--) {
    if (started) acc = (acc * acc) % m;
    for (const { digits, odd } of slices) {
      const d = i < digits.length ? digits[i] : 0;
      if (d !== 0) {
        acc = started ? (acc * odd[d >> 1]) % m : odd[d >> 1];
        started = true;
      }
    }
  }
  return acc;
}
