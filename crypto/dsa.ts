/**
 * Pure-TypeScript DSA (FIPS 186-4) for (L, N) = (2048, 224) with SHA-224 and (2048, 256) with SHA-256:
 * domain and key generation, deterministic signing (RFC 6979), verification, and SPKI / PKCS#8
 * PEM codecs compatible with OpenSSL.
 *
 * The hash follows the key's N (224 → SHA-224, 256 → SHA-256), as `openssl dgst -sha256 -sign`
 * does for a 2048/256 key. Signatures are DER `SEQUENCE { r INTEGER, s INTEGER }` (RFC 3279 §2.2.2).
 *
 * Signing hides the nonce's size: the exponentiation runs on a blinded exponent k + m·q (fresh random m)
 * over a fixed number of bits with no window skipped (crypto/regular_pow.ts), and k is inverted as
 * (k·b)^−1·b with a fresh random b, so neither step's time depends on how many leading zero bits k has
 * (the Minerva leak; `secmqtt timing --target dsa-sign` measures it). The blinding is invisible in the
 * output: k itself is still RFC 6979's, and so are r and s. Verification handles public data only and is
 * not constant-time; nor is key generation (V8 BigInt leaks operand sizes).
 * @module
 */

import { createHash, createHmac } from "node:crypto";
import { fromPem, toPem } from "./codec.ts";
import {
  DerReader,
  encodeBitString,
  encodeInteger,
  encodeOctetString,
  encodeOid,
  encodeSequence,
} from "./der.ts";
import {
  bigIntToBytes,
  bitLength,
  bytesToBigInt,
  FixedBasePowers,
  hasSmallFactor,
  isProbablePrime,
  modInverse,
  modPow,
  multiPow,
  randomBigIntInRange,
} from "./modarith.ts";
import { CodedError } from "../core/errors.ts";
import { regularPow, RegularPowers } from "./regular_pow.ts";

/** id-dsa, the algorithm OID of DSA keys in SPKI and PKCS#8 (RFC 3279 §2.3.2). */
export const DSA_OID = "1.2.840.10040.4.1";

/** Bit length L of p; only 2048 is supported (FIPS 186-4 §4.2). */
export const DSA_MODULUS_BITS = 2048;

/** The supported (L, N) pairs. */
export type DsaSize = "2048-224" | "2048-256";

/** Hash functions paired with the supported sizes (FIPS 186-4 §4.2: security strength of N). */
export type DsaHash = "SHA-224" | "SHA-256";

/** Domain parameters: prime p, prime q dividing p − 1, generator g of the order-q subgroup. */
export interface DsaDomain {
  p: bigint;
  q: bigint;
  g: bigint;
}

/** A DSA public key y = g^x mod p with its domain. */
export interface DsaPublicKey {
  readonly type: "dsa-public";
  domain: DsaDomain;
  y: bigint;
}

/** A DSA private key x with its public value y. */
export interface DsaPrivateKey {
  readonly type: "dsa-private";
  domain: DsaDomain;
  x: bigint;
  y: bigint;
}

/** A matching public and private key. */
export interface DsaKeyPair {
  publicKey: DsaPublicKey;
  privateKey: DsaPrivateKey;
}

/** A signature as the integer pair (r, s). */
export interface DsaSignature {
  r: bigint;
  s: bigint;
}

/** Reasons a DSA operation refuses its input. */
export type DsaErrorCode =
  | "DSA_UNSUPPORTED_SIZE"
  | "DSA_INVALID_DOMAIN"
  | "DSA_INVALID_PUBLIC_KEY"
  | "DSA_INVALID_PRIVATE_KEY"
  | "DSA_INVALID_KEY_ENCODING"
  | "DSA_INVALID_SIGNATURE_ENCODING";

/** Error thrown by key handling and signing; `verify` never throws. */
export class DsaError extends CodedError<DsaErrorCode> {
  /** Exit-status kind: unusable keys, domains or encodings are bad input. */
  readonly kind = "input";
}

/**
 * Minimum Miller–Rabin rounds for (L, N) = (2048, N) when no Lucas test follows
 * (FIPS 186-4 Appendix C.3, Table C.1): for p and for q.
 */
const MILLER_RABIN_ROUNDS: Record<number, { p: number; q: number }> = {
  224: { p: 56, q: 56 },
  256: { p: 56, q: 64 },
};

/**
 * The hash that goes with a subgroup size N.
 * @example
 * ```ts
 * hashForSubgroupBits(224); // "SHA-224"
 * ```
 */
export function hashForSubgroupBits(n: number): DsaHash {
  return n === 224 ? "SHA-224" : "SHA-256";
}

function hashBytes(hash: DsaHash, ...parts: Uint8Array[]): Uint8Array {
  const h = createHash(hash === "SHA-224" ? "sha224" : "sha256");
  for (const part of parts) h.update(part);
  return new Uint8Array(h.digest());
}

function hmac(hash: DsaHash, key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const h = createHmac(hash === "SHA-224" ? "sha224" : "sha256", key);
  for (const part of parts) h.update(part);
  return new Uint8Array(h.digest());
}

/**
 * Message digest with the hash that matches the key's N.
 * @example
 * ```ts
 * const digest = digestForKey(publicKey, new TextEncoder().encode("hello"));
 * ```
 */
export function digestForKey(key: DsaPublicKey | DsaPrivateKey, message: Uint8Array): Uint8Array {
  return hashBytes(hashForSubgroupBits(bitLength(key.domain.q)), message);
}

/**
 * The leftmost min(N, outlen) bits of a digest as an integer (FIPS 186-4 §4.6; RFC 6979 §2.3.2 bits2int).
 */
function bits2int(bytes: Uint8Array, qBits: number): bigint {
  const value = bytesToBigInt(bytes);
  const excess = bytes.length * 8 - qBits;
  return excess > 0 ? value >> BigInt(excess) : value;
}

function sizeOf(size: DsaSize): number {
  if (size === "2048-224") return 224;
  if (size === "2048-256") return 256;
  throw new DsaError(
    "DSA_UNSUPPORTED_SIZE",
    `expected "2048-224" or "2048-256", got ${JSON.stringify(size)}`,
  );
}

// ---------------------------------------------------------------------------------------------
// Validation

/** Domains already checked, with the values they had then, so hot paths skip the g^q test. */
const validatedDomains = new WeakMap<DsaDomain, DsaDomain>();
/** Keys already checked (same idea): verifying for a known sender costs no extra modexp. */
const validatedKeys = new WeakMap<object, { domain: DsaDomain; y: bigint }>();

function isBigInt(v: unknown): v is bigint {
  return typeof v === "bigint";
}

/**
 * Checks domain parameters (FIPS 186-4 §4.2 sizes, A.2.2 generator validity): p of 2048 bits,
 * q of 224 or 256 bits dividing p − 1, 1 < g < p and g^q ≡ 1 (mod p). With `checkPrimes`, also runs
 * the Miller–Rabin rounds of Table C.1 on p and q (slow: about a quarter of a second).
 * Throws {@link DsaError} with code `DSA_INVALID_DOMAIN` or `DSA_UNSUPPORTED_SIZE`.
 * @example
 * ```ts
 * validateDomain(domain); // throws if anything is off
 * ```
 */
export function validateDomain(d: DsaDomain, options: { checkPrimes?: boolean } = {}): void {
  if (d === null || typeof d !== "object" || !isBigInt(d.p) || !isBigInt(d.q) || !isBigInt(d.g)) {
    throw new DsaError("DSA_INVALID_DOMAIN", "expected a domain { p, q, g } of bigints");
  }
  const { p, q, g } = d;
  const seen = validatedDomains.get(d);
  const cached = seen !== undefined && seen.p === p && seen.q === q && seen.g === g;
  if (!cached) {
    if (p <= 0n || bitLength(p) !== DSA_MODULUS_BITS) {
      throw new DsaError(
        "DSA_UNSUPPORTED_SIZE",
        `expected p of ${DSA_MODULUS_BITS} bits, got ${bitLength(p < 0n ? -p : p)}`,
      );
    }
    const n = q > 0n ? bitLength(q) : 0;
    if (n !== 224 && n !== 256) {
      throw new DsaError("DSA_UNSUPPORTED_SIZE", `expected q of 224 or 256 bits, got ${n}`);
    }
    if ((p & 1n) === 0n || (q & 1n) === 0n) throw new DsaError("DSA_INVALID_DOMAIN", "expected odd p and q");
    if ((p - 1n) % q !== 0n) throw new DsaError("DSA_INVALID_DOMAIN", "expected q to divide p − 1");
    if (g <= 1n || g >= p) throw new DsaError("DSA_INVALID_DOMAIN", "expected 1 < g < p");
    if (modPow(g, q, p) !== 1n) throw new DsaError("DSA_INVALID_DOMAIN", "expected g^q ≡ 1 (mod p)");
  }
  if (options.checkPrimes) {
    const rounds = MILLER_RABIN_ROUNDS[bitLength(q)];
    if (!isProbablePrime(q, rounds.q)) throw new DsaError("DSA_INVALID_DOMAIN", "expected q to be prime");
    if (!isProbablePrime(p, rounds.p)) throw new DsaError("DSA_INVALID_DOMAIN", "expected p to be prime");
  }
  if (!cached) validatedDomains.set(d, { p, q, g });
}

/** How many distinct domains {@link sharedDomain} keeps; a deployment uses one or two. */
const SHARED_DOMAIN_LIMIT = 8;
/** Validated domains by value (hex of p, q, g), holding the one set of bigints every import hands out. */
const sharedDomains = new Map<string, DsaDomain>();

/**
 * A domain with the same values as `d`, made of the bigints every earlier import of those values got, and
 * validated (throws {@link DsaError} like {@link validateDomain}). Why: all keys of a home share one domain,
 * but each PEM import parses its own copy of p, q and g. Measured here (V8 15.0), a verification that
 * alternates between keys whose equal p values are distinct bigint objects costs ≈ 0.57 ms, against
 * ≈ 0.42 ms when they share one p object, the cost of verifying with a single key over and over: the
 * remainder by p dominates the verify, and V8 does it faster for the modulus object it saw last. So the
 * actuator, which verifies for many senders in turn, would pay 35 % more per signature than the
 * single-key yardstick `load` measures (roles/verify_baseline.ts). The object returned is new each time
 * (callers may mutate their key); only the immutable bigints are shared.
 * @example
 * ```ts
 * const a = sharedDomain(readDomainSomewhere()), b = sharedDomain(readDomainAgain());
 * // a !== b, but a.p and b.p are the same bigint object
 * ```
 */
export function sharedDomain(d: DsaDomain): DsaDomain {
  const id = `${d.p.toString(16)}:${d.q.toString(16)}:${d.g.toString(16)}`;
  let known = sharedDomains.get(id);
  if (known === undefined) {
    validateDomain(d);
    known = { p: d.p, q: d.q, g: d.g };
    if (sharedDomains.size >= SHARED_DOMAIN_LIMIT) sharedDomains.delete(sharedDomains.keys().next().value!);
    sharedDomains.set(id, known);
  }
  const domain = { p: known.p, q: known.q, g: known.g };
  validatedDomains.set(domain, { p: known.p, q: known.q, g: known.g });
  return domain;
}

/**
 * Checks a public key: its domain (see {@link validateDomain}), 2 ≤ y ≤ p − 2 and y^q ≡ 1 (mod p)
 * (SP 800-89 §5.3.2 partial validation). Throws {@link DsaError}.
 * @example
 * ```ts
 * validatePublicKey(importPublicKeyPem(pem));
 * ```
 */
export function validatePublicKey(key: DsaPublicKey): void {
  if (key === null || typeof key !== "object" || key.type !== "dsa-public" || !isBigInt(key.y)) {
    throw new DsaError("DSA_INVALID_PUBLIC_KEY", 'expected a { type: "dsa-public", domain, y } key');
  }
  const seen = validatedKeys.get(key);
  const d = key.domain;
  validateDomain(d);
  if (seen && seen.y === key.y && seen.domain.p === d.p && seen.domain.q === d.q && seen.domain.g === d.g) {
    return;
  }
  const { p, q } = d;
  if (key.y < 2n || key.y > p - 2n) throw new DsaError("DSA_INVALID_PUBLIC_KEY", "expected 2 ≤ y ≤ p − 2");
  if (modPow(key.y, q, p) !== 1n) throw new DsaError("DSA_INVALID_PUBLIC_KEY", "expected y^q ≡ 1 (mod p)");
  validatedKeys.set(key, { domain: { p: d.p, q: d.q, g: d.g }, y: key.y });
}

/**
 * Checks a private key: its domain, 1 ≤ x ≤ q − 1 and y = g^x mod p. Throws {@link DsaError}.
 * @example
 * ```ts
 * validatePrivateKey(importPrivateKeyPem(pem));
 * ```
 */
export function validatePrivateKey(key: DsaPrivateKey): void {
  if (
    key === null || typeof key !== "object" || key.type !== "dsa-private" || !isBigInt(key.x) ||
    !isBigInt(key.y)
  ) {
    throw new DsaError("DSA_INVALID_PRIVATE_KEY", 'expected a { type: "dsa-private", domain, x, y } key');
  }
  const seen = validatedKeys.get(key);
  const d = key.domain;
  validateDomain(d);
  if (seen && seen.y === key.y && seen.domain.p === d.p && seen.domain.q === d.q && seen.domain.g === d.g) {
    return;
  }
  if (key.x < 1n || key.x >= d.q) throw new DsaError("DSA_INVALID_PRIVATE_KEY", "expected 1 ≤ x ≤ q − 1");
  if (modPow(d.g, key.x, d.p) !== key.y) {
    throw new DsaError("DSA_INVALID_PRIVATE_KEY", "expected y = g^x mod p");
  }
  validatedKeys.set(key, { domain: { p: d.p, q: d.q, g: d.g }, y: key.y });
}

// ---------------------------------------------------------------------------------------------
// Generation

/**
 * Generates domain parameters with probable primes p and q (FIPS 186-4 A.1.1.2, using the hash that
 * matches N and seedlen = N) and a generator g (A.2.1). Candidates for p are trial-divided by the
 * primes below 20000 before Miller–Rabin. Takes around a second for 2048-bit p.
 * @example
 * ```ts
 * const domain = await generateDomain("2048-256");
 * ```
 */
export function generateDomain(size: DsaSize = "2048-256"): Promise<DsaDomain> {
  try {
    return Promise.resolve(generateDomainSync(size));
  } catch (error) {
    return Promise.reject(error);
  }
}

function generateDomainSync(size: DsaSize): DsaDomain {
  const N = sizeOf(size);
  const L = DSA_MODULUS_BITS;
  const hash = hashForSubgroupBits(N);
  const outlen = N; // SHA-224 for N = 224, SHA-256 for N = 256
  const seedlen = N;
  const seedBytes = seedlen / 8;
  const seedModulus = 1n << BigInt(seedlen);
  const n = Math.ceil(L / outlen) - 1;
  const b = L - 1 - n * outlen;
  const rounds = MILLER_RABIN_ROUNDS[N];
  const twoPowLMinus1 = 1n << BigInt(L - 1);
  const twoPowNMinus1 = 1n << BigInt(N - 1);
  while (true) {
    // Steps 5–9: q from a fresh seed.
    const seed = bytesToBigInt(crypto.getRandomValues(new Uint8Array(seedBytes)));
    const U = bytesToBigInt(hashBytes(hash, bigIntToBytes(seed, seedBytes))) % twoPowNMinus1;
    const q = twoPowNMinus1 + U + 1n - (U % 2n);
    if (hasSmallFactor(q) || !isProbablePrime(q, rounds.q)) continue;
    // Steps 11–15: up to 4L candidates for p derived from seed + offset.
    let offset = 1n;
    const twoQ = 2n * q;
    for (let counter = 0; counter < 4 * L; counter++) {
      let W = 0n;
      for (let j = 0; j <= n; j++) {
        const input = bigIntToBytes((seed + offset + BigInt(j)) % seedModulus, seedBytes);
        let V = bytesToBigInt(hashBytes(hash, input));
        if (j === n) V %= 1n << BigInt(b);
        W += V << BigInt(j * outlen);
      }
      offset += BigInt(n + 1);
      const X = W + twoPowLMinus1;
      const c = X % twoQ;
      const p = X - (c - 1n);
      if (p < twoPowLMinus1) continue;
      if (hasSmallFactor(p) || !isProbablePrime(p, rounds.p)) continue;
      return { p, q, g: generatorFor(p, q) };
    }
  }
}

/** Unverifiable generator (FIPS 186-4 A.2.1): g = h^((p−1)/q) mod p for the first h ≥ 2 with g ≠ 1. */
function generatorFor(p: bigint, q: bigint): bigint {
  const e = (p - 1n) / q;
  for (let h = 2n; h < p - 1n; h++) {
    const g = modPow(h, e, p);
    if (g !== 1n) return g;
  }
  throw new DsaError("DSA_INVALID_DOMAIN", "no generator found");
}

/**
 * Generates a key pair. Given a domain, only a fresh x is drawn (FIPS 186-4 B.1.2, testing
 * candidates); given a size, a new domain is generated first.
 * @example
 * ```ts
 * const { publicKey, privateKey } = await generateKeyPair(domain);
 * ```
 */
export async function generateKeyPair(size: DsaSize | DsaDomain = "2048-256"): Promise<DsaKeyPair> {
  const domain = typeof size === "string" ? await generateDomain(size) : size;
  validateDomain(domain);
  const { p, q, g } = domain;
  // B.1.2: c uniformly from [0, 2^N − 1]; reject c > q − 2; x = c + 1 ∈ [1, q − 1].
  const N = bitLength(q);
  let c: bigint;
  do {
    c = randomBigIntInRange(0n, (1n << BigInt(N)) - 1n);
  } while (c > q - 2n);
  const x = c + 1n;
  const y = modPow(g, x, p);
  const shared = { p, q, g };
  return {
    publicKey: { type: "dsa-public", domain: shared, y },
    privateKey: { type: "dsa-private", domain: shared, x, y },
  };
}

/**
 * The public half of a private key.
 * @example
 * ```ts
 * const publicKey = publicKeyOf(privateKey);
 * ```
 */
export function publicKeyOf(key: DsaPrivateKey): DsaPublicKey {
  return { type: "dsa-public", domain: key.domain, y: key.y };
}

// ---------------------------------------------------------------------------------------------
// Precomputation: fixed-base tables for g (per domain) and for y (per key object, from its second use)

/** How many domains keep a g table; a deployment uses one or two. */
const GENERATOR_TABLE_LIMIT = 8;
const generatorTables = new Map<string, FixedBasePowers>();
/** Fast path for callers that reuse the same domain object. */
const generatorTablesByDomain = new WeakMap<
  DsaDomain,
  { p: bigint; q: bigint; g: bigint; table: FixedBasePowers }
>();

function generatorTable(d: DsaDomain): FixedBasePowers {
  const known = generatorTablesByDomain.get(d);
  if (known && known.p === d.p && known.q === d.q && known.g === d.g) return known.table;
  // Power-of-two radix: linear-time conversion, unlike radix 10 or 36.
  const id = `${d.p.toString(16)}:${d.q.toString(16)}:${d.g.toString(16)}`;
  let table = generatorTables.get(id);
  if (table === undefined) {
    table = new FixedBasePowers(d.g, d.p, bitLength(d.q));
    if (generatorTables.size >= GENERATOR_TABLE_LIMIT) {
      generatorTables.delete(generatorTables.keys().next().value!);
    }
    generatorTables.set(id, table);
  }
  generatorTablesByDomain.set(d, { p: d.p, q: d.q, g: d.g, table });
  return table;
}

/**
 * Random bits of the exponent blind m, at least: with them k + m·q is uniform enough over its range that
 * its bits say nothing usable about k (Coron 1999 uses 20–64; 64 is the usual choice today).
 */
export const NONCE_BLIND_MIN_BITS = 64;

/** Per-domain tables for the signer's fixed-length exponentiation, cached like the g tables above. */
const signingTables = new Map<string, RegularPowers>();
const signingTablesByDomain = new WeakMap<
  DsaDomain,
  { p: bigint; q: bigint; g: bigint; table: RegularPowers }
>();

/**
 * The signing table covers q's bits plus at least {@link NONCE_BLIND_MIN_BITS} + 1 blind bits (the top
 * blind bit is fixed to 1, so E = k + m·q has a fixed top position and always lies in the table's range).
 */
function signingTable(d: DsaDomain): RegularPowers {
  const known = signingTablesByDomain.get(d);
  if (known && known.p === d.p && known.q === d.q && known.g === d.g) return known.table;
  const id = `${d.p.toString(16)}:${d.q.toString(16)}:${d.g.toString(16)}`;
  let table = signingTables.get(id);
  if (table === undefined) {
    table = new RegularPowers(d.g, d.p, bitLength(d.q) + NONCE_BLIND_MIN_BITS + 2);
    if (signingTables.size >= GENERATOR_TABLE_LIMIT) signingTables.delete(signingTables.keys().next().value!);
    signingTables.set(id, table);
  }
  signingTablesByDomain.set(d, { p: d.p, q: d.q, g: d.g, table });
  return table;
}

/** Per-key y tables; the first verification uses a one-slice table, the second builds the full one. */
const publicValueTables = new WeakMap<
  object,
  { y: bigint; p: bigint; uses: number; table?: FixedBasePowers }
>();

function publicValueTable(key: DsaPublicKey): FixedBasePowers {
  const { p, q } = key.domain;
  let entry = publicValueTables.get(key);
  if (entry === undefined || entry.y !== key.y || entry.p !== p) {
    entry = { y: key.y, p, uses: 0 };
    publicValueTables.set(key, entry);
  }
  entry.uses++;
  if (entry.table) return entry.table;
  if (entry.uses < 2) return new FixedBasePowers(key.y, p, bitLength(q), 1);
  entry.table = new FixedBasePowers(key.y, p, bitLength(q));
  return entry.table;
}

// ---------------------------------------------------------------------------------------------
// Signing and verification

/**
 * The deterministic nonces k for a private key and digest per RFC 6979 §3.2 (HMAC over `hash`, by default
 * the key's): a function that yields the next candidate on each call (step h.3 on retries; the first is
 * the k of the signature unless r or s came out 0). Exported for the timing lab, which picks messages by
 * the length of their nonce, and for its tests; a signer never needs it.
 * @example
 * ```ts
 * const k = rfc6979Nonces(privateKey, digestForKey(privateKey, message))();
 * ```
 */
export function rfc6979Nonces(privateKey: DsaPrivateKey, h1: Uint8Array, hash?: DsaHash): () => bigint {
  const { q } = privateKey.domain;
  return nonceCandidates(q, privateKey.x, h1, hash ?? hashForSubgroupBits(bitLength(q)));
}

function nonceCandidates(q: bigint, x: bigint, h1: Uint8Array, hash: DsaHash): () => bigint {
  const qBits = bitLength(q);
  const rlen = Math.ceil(qBits / 8);
  const hlen = hash === "SHA-224" ? 28 : 32;
  const xOctets = bigIntToBytes(x, rlen); // int2octets(x)
  const h1Octets = bigIntToBytes(bits2int(h1, qBits) % q, rlen); // bits2octets(h1)
  let V: Uint8Array = new Uint8Array(hlen).fill(1); // step b
  let K: Uint8Array = new Uint8Array(hlen); // step c
  K = hmac(hash, K, V, new Uint8Array([0]), xOctets, h1Octets); // step d
  V = hmac(hash, K, V); // step e
  K = hmac(hash, K, V, new Uint8Array([1]), xOctets, h1Octets); // step f
  V = hmac(hash, K, V); // step g
  let first = true;
  return () => {
    while (true) {
      if (!first) {
        K = hmac(hash, K, V, new Uint8Array([0])); // step h.3
        V = hmac(hash, K, V);
      }
      first = false;
      const T = new Uint8Array(rlen + hlen);
      let tlen = 0;
      while (tlen < rlen) { // step h.2 (qlen rounded up to bytes equals rlen bits)
        V = hmac(hash, K, V);
        T.set(V, tlen);
        tlen += V.length;
      }
      const k = bits2int(T.subarray(0, tlen), qBits);
      if (k >= 1n && k < q) return k;
    }
  };
}

/**
 * Signs a precomputed digest (FIPS 186-4 §4.6) with k from RFC 6979. `hash` names the function that
 * made the digest and drives the HMAC of RFC 6979; it defaults to the one matching the key's N.
 *
 * k is blinded wherever its size could show in the running time: r = (g^(k + m·q) mod p) mod q with a
 * fresh random m of fixed top bit, computed by {@link regularPow} over a fixed number of bits, and
 * k^−1 = (E·b)^−1·b mod q with E = k + m·q and a fresh random b in [1, q − 1]. Both equal the unblinded
 * values (g has order q; E ≡ k mod q), so the signature is exactly RFC 6979's.
 * @example
 * ```ts
 * const { r, s } = signDigest(privateKey, digestForKey(privateKey, message));
 * ```
 */
export function signDigest(privateKey: DsaPrivateKey, digest: Uint8Array, hash?: DsaHash): DsaSignature {
  validatePrivateKey(privateKey);
  const { q } = privateKey.domain;
  const x = privateKey.x;
  const qBits = bitLength(q);
  const hashName = hash ?? hashForSubgroupBits(qBits);
  const z = bits2int(digest, qBits);
  const nextK = nonceCandidates(q, x, digest, hashName);
  const table = signingTable(privateKey.domain);
  // m in [2^(t−1), 2^t) with t = table.bits − qBits − 1: then offset ≤ 2^(t−1)·2^(qBits−1) ≤ E < 2^table.bits.
  const blindBits = table.bits - qBits - 1;
  const blindTop = 1n << BigInt(blindBits - 1);
  while (true) {
    const k = nextK();
    const blinded = k + (blindTop + randomBigIntInRange(0n, blindTop - 1n)) * q;
    const r = regularPow(table, blinded) % q;
    if (r === 0n) continue;
    const b = randomBigIntInRange(1n, q - 1n);
    const kInverse = (modInverse((blinded * b) % q, q) * b) % q;
    const s = (kInverse * ((z + x * r) % q)) % q;
    if (s === 0n) continue;
    return { r, s };
  }
}

/**
 * Verifies (r, s) over a precomputed digest (FIPS 186-4 §4.7). Returns false, never throws, for any
 * malformed key, out-of-range r or s, or wrong signature.
 * @example
 * ```ts
 * verifyDigest(publicKey, digest, { r, s }); // true or false
 * ```
 */
export function verifyDigest(publicKey: DsaPublicKey, digest: Uint8Array, signature: DsaSignature): boolean {
  try {
    validatePublicKey(publicKey);
    if (!(digest instanceof Uint8Array) || signature === null || typeof signature !== "object") return false;
    const { r, s } = signature;
    const { p, q } = publicKey.domain;
    if (!isBigInt(r) || !isBigInt(s)) return false;
    if (r <= 0n || r >= q || s <= 0n || s >= q) return false;
    const w = modInverse(s, q); // q is prime and 0 < s < q, so s is invertible
    const z = bits2int(digest, bitLength(q));
    const u1 = (z * w) % q;
    const u2 = (r * w) % q;
    // v = (g^u1 · y^u2 mod p) mod q, one shared squaring chain.
    const v = multiPow([[generatorTable(publicKey.domain), u1], [publicValueTable(publicKey), u2]], p) % q;
    return v === r;
  } catch {
    return false;
  }
}

/**
 * Signs a message: hash with the key's hash, RFC 6979 nonce, DER `SEQUENCE { r, s }` out.
 * @example
 * ```ts
 * const signature = sign(privateKey, new TextEncoder().encode("hello"));
 * ```
 */
export function sign(privateKey: DsaPrivateKey, message: Uint8Array): Uint8Array {
  validatePrivateKey(privateKey);
  return encodeSignatureDer(signDigest(privateKey, digestForKey(privateKey, message)));
}

/**
 * Verifies a DER signature over a message. Returns false, never throws, on any hostile input:
 * bad DER (BER, non-minimal, trailing bytes), r or s outside (0, q), malformed or unsupported keys.
 * @example
 * ```ts
 * verify(publicKey, message, signature); // true or false
 * ```
 */
export function verify(publicKey: DsaPublicKey, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    if (!(message instanceof Uint8Array) || !(signature instanceof Uint8Array)) return false;
    validatePublicKey(publicKey);
    return verifyDigest(publicKey, digestForKey(publicKey, message), decodeSignatureDer(signature));
  } catch {
    return false;
  }
}

/**
 * DER encoding of a signature, `Dss-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` (RFC 3279 §2.2.2).
 * @example
 * ```ts
 * encodeSignatureDer({ r: 1n, s: 2n }); // 30 06 02 01 01 02 01 02
 * ```
 */
export function encodeSignatureDer(signature: DsaSignature): Uint8Array {
  return encodeSequence(encodeInteger(signature.r), encodeInteger(signature.s));
}

/**
 * Strict DER decoding of a signature; throws {@link DsaError} `DSA_INVALID_SIGNATURE_ENCODING`.
 * The integers are returned as encoded (possibly negative); range checks belong to verification.
 * @example
 * ```ts
 * decodeSignatureDer(encodeSignatureDer({ r: 1n, s: 2n })); // { r: 1n, s: 2n }
 * ```
 */
export function decodeSignatureDer(der: Uint8Array): DsaSignature {
  try {
    const outer = new DerReader(der);
    const seq = outer.readSequence();
    outer.finish();
    const r = seq.readInteger();
    const s = seq.readInteger();
    seq.finish();
    return { r, s };
  } catch (error) {
    throw new DsaError(
      "DSA_INVALID_SIGNATURE_ENCODING",
      `expected DER Dss-Sig-Value: ${errorMessage(error)}`,
      {
        cause: error,
      },
    );
  }
}

/**
 * Decodes an IEEE P1363 signature r‖s, each half ⌈N/8⌉ bytes for the key's q.
 * Throws {@link DsaError} `DSA_INVALID_SIGNATURE_ENCODING` on a wrong length.
 * @example
 * ```ts
 * const { r, s } = decodeSignatureP1363(bytes, publicKey.domain.q);
 * ```
 */
export function decodeSignatureP1363(bytes: Uint8Array, q: bigint): DsaSignature {
  const half = Math.ceil(bitLength(q) / 8);
  if (bytes.length !== 2 * half) {
    throw new DsaError(
      "DSA_INVALID_SIGNATURE_ENCODING",
      `expected ${2 * half} bytes r‖s, got ${bytes.length}`,
    );
  }
  return { r: bytesToBigInt(bytes.subarray(0, half)), s: bytesToBigInt(bytes.subarray(half)) };
}

// ---------------------------------------------------------------------------------------------
// Key encodings (RFC 3279 §2.3.2 Dss-Parms, RFC 5280 SPKI, RFC 5208 / 5958 PKCS#8)

function encodeAlgorithm(d: DsaDomain): Uint8Array {
  return encodeSequence(
    encodeOid(DSA_OID),
    encodeSequence(encodeInteger(d.p), encodeInteger(d.q), encodeInteger(d.g)),
  );
}

function readAlgorithm(reader: DerReader): DsaDomain {
  const alg = reader.readSequence();
  const oid = alg.readOid();
  if (oid !== DSA_OID) throw new DsaError("DSA_INVALID_KEY_ENCODING", `expected OID ${DSA_OID}, got ${oid}`);
  const params = alg.readSequence();
  alg.finish();
  const p = params.readInteger();
  const q = params.readInteger();
  const g = params.readInteger();
  params.finish();
  return { p, q, g };
}

/**
 * SubjectPublicKeyInfo DER of a public key.
 * @example
 * ```ts
 * const spki = exportPublicKeyDer(publicKey);
 * ```
 */
export function exportPublicKeyDer(key: DsaPublicKey): Uint8Array {
  validatePublicKey(key);
  return encodeSequence(encodeAlgorithm(key.domain), encodeBitString(encodeInteger(key.y)));
}

/**
 * Parses and validates a SubjectPublicKeyInfo DER DSA key; throws {@link DsaError}.
 * @example
 * ```ts
 * const publicKey = importPublicKeyDer(spki);
 * ```
 */
export function importPublicKeyDer(der: Uint8Array): DsaPublicKey {
  let key: DsaPublicKey;
  try {
    const outer = new DerReader(der);
    const spki = outer.readSequence();
    outer.finish();
    const domain = readAlgorithm(spki);
    const yReader = new DerReader(spki.readBitString());
    spki.finish();
    const y = yReader.readInteger();
    yReader.finish();
    key = { type: "dsa-public", domain, y };
  } catch (error) {
    if (error instanceof DsaError) throw error;
    throw new DsaError(
      "DSA_INVALID_KEY_ENCODING",
      `expected a DSA SubjectPublicKeyInfo: ${errorMessage(error)}`,
      {
        cause: error,
      },
    );
  }
  key.domain = sharedDomain(key.domain);
  validatePublicKey(key);
  return key;
}

/**
 * PKCS#8 PrivateKeyInfo DER (version 0, no attributes) of a private key, as OpenSSL writes it.
 * @example
 * ```ts
 * const pkcs8 = exportPrivateKeyDer(privateKey);
 * ```
 */
export function exportPrivateKeyDer(key: DsaPrivateKey): Uint8Array {
  validatePrivateKey(key);
  return encodeSequence(
    encodeInteger(0n),
    encodeAlgorithm(key.domain),
    encodeOctetString(encodeInteger(key.x)),
  );
}

/**
 * Parses and validates a PKCS#8 DSA private key (y is recomputed as g^x mod p); throws {@link DsaError}.
 * @example
 * ```ts
 * const privateKey = importPrivateKeyDer(pkcs8);
 * ```
 */
export function importPrivateKeyDer(der: Uint8Array): DsaPrivateKey {
  let domain: DsaDomain;
  let x: bigint;
  try {
    const outer = new DerReader(der);
    const info = outer.readSequence();
    outer.finish();
    const version = info.readInteger();
    if (version !== 0n) {
      throw new DsaError("DSA_INVALID_KEY_ENCODING", `expected PKCS#8 version 0, got ${version}`);
    }
    domain = readAlgorithm(info);
    const xReader = new DerReader(info.readOctetString());
    info.finish();
    x = xReader.readInteger();
    xReader.finish();
  } catch (error) {
    if (error instanceof DsaError) throw error;
    throw new DsaError(
      "DSA_INVALID_KEY_ENCODING",
      `expected a DSA PKCS#8 PrivateKeyInfo: ${errorMessage(error)}`,
      {
        cause: error,
      },
    );
  }
  domain = sharedDomain(domain);
  if (x < 1n || x >= domain.q) throw new DsaError("DSA_INVALID_PRIVATE_KEY", "expected 1 ≤ x ≤ q − 1");
  const key: DsaPrivateKey = { type: "dsa-private", domain, x, y: modPow(domain.g, x, domain.p) };
  validatePrivateKey(key);
  return key;
}

/**
 * PEM "PUBLIC KEY" (SPKI) of a public key, readable by `openssl pkey -pubin`.
 * @example
 * ```ts
 * const pem = exportPublicKeyPem(publicKey); // "-----BEGIN PUBLIC KEY-----\n…"
 * ```
 */
export function exportPublicKeyPem(key: DsaPublicKey): string {
  return toPem("PUBLIC KEY", exportPublicKeyDer(key));
}

/**
 * Imports a PEM "PUBLIC KEY" DSA key (as written by `openssl pkey -pubout`); throws {@link DsaError}.
 * @example
 * ```ts
 * const publicKey = importPublicKeyPem(await Deno.readTextFile("pub.pem"));
 * ```
 */
export function importPublicKeyPem(pem: string): DsaPublicKey {
  return importPublicKeyDer(pemBody("PUBLIC KEY", pem));
}

/**
 * PEM "PRIVATE KEY" (PKCS#8) of a private key, readable by `openssl pkey`.
 * @example
 * ```ts
 * const pem = exportPrivateKeyPem(privateKey); // "-----BEGIN PRIVATE KEY-----\n…"
 * ```
 */
export function exportPrivateKeyPem(key: DsaPrivateKey): string {
  return toPem("PRIVATE KEY", exportPrivateKeyDer(key));
}

/**
 * Imports a PEM "PRIVATE KEY" DSA key (as written by `openssl genpkey`); throws {@link DsaError}.
 * @example
 * ```ts
 * const privateKey = importPrivateKeyPem(await Deno.readTextFile("key.pem"));
 * ```
 */
export function importPrivateKeyPem(pem: string): DsaPrivateKey {
  return importPrivateKeyDer(pemBody("PRIVATE KEY", pem));
}

/**
 * Imports PEM "DSA PARAMETERS" (`Dss-Parms ::= SEQUENCE { p, q, g }`, as `openssl genpkey -genparam`
 * writes them) and validates them; throws {@link DsaError}.
 * @example
 * ```ts
 * const domain = importDomainPem(await Deno.readTextFile("dsa_params.pem"));
 * ```
 */
export function importDomainPem(pem: string): DsaDomain {
  const der = pemBody("DSA PARAMETERS", pem);
  let domain: DsaDomain;
  try {
    const outer = new DerReader(der);
    const params = outer.readSequence();
    outer.finish();
    domain = { p: params.readInteger(), q: params.readInteger(), g: params.readInteger() };
    params.finish();
  } catch (error) {
    throw new DsaError("DSA_INVALID_KEY_ENCODING", `expected DER Dss-Parms: ${errorMessage(error)}`, {
      cause: error,
    });
  }
  return sharedDomain(domain);
}

/**
 * PEM "DSA PARAMETERS" of a domain, readable by `openssl genpkey -paramfile`.
 * @example
 * ```ts
 * const pem = exportDomainPem(domain); // "-----BEGIN DSA PARAMETERS-----\n…"
 * ```
 */
export function exportDomainPem(domain: DsaDomain): string {
  validateDomain(domain);
  return toPem(
    "DSA PARAMETERS",
    encodeSequence(encodeInteger(domain.p), encodeInteger(domain.q), encodeInteger(domain.g)),
  );
}

function pemBody(label: string, pem: string): Uint8Array {
  try {
    return fromPem(label, pem);
  } catch (error) {
    throw new DsaError("DSA_INVALID_KEY_ENCODING", `expected PEM "${label}": ${errorMessage(error)}`, {
      cause: error,
    });
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
