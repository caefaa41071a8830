/**
 * Hashes that key a message by (digest, topic) — the join of docs/METRICS.md — for the publication filter
 * and the attack key index. Pure and deterministic: the same strings give the same hashes in every run.
 * @module
 */

/** Mixed into {@link hashKey} after each string: above every UTF-16 code unit. */
const STRING_END = 0x10000;
/** A digest as the log writes it: the first 64 bits of SHA-256, in hex. */
const HEX_DIGEST = /^[0-9a-f]{16}$/;
const keyHash = new Uint32Array(2);

/**
 * Two 32-bit hashes of the strings (a, b, c) into `out`: FNV-1a with two primes over their UTF-16 code
 * units, 0x10000 (no code unit) after each string so the split is unambiguous, each finished by murmur3's
 * fmix32.
 * @example
 * ```ts
 * const out = new Uint32Array(2);
 * hashKey("secure", "9f86d081884c7d65", "home/door", out); // out[0], out[1]: the two hashes
 * ```
 */
export function hashKey(a: string, b: string, c: string, out: Uint32Array): void {
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

/**
 * The 64-bit key of a message: its digest when that is 16 hex digits (else a hash of it), XOR a hash of
 * its topic (nothing for a record without topic, so such records still join one another by digest).
 * @example
 * ```ts
 * messageKey("9f86d081884c7d65", ""); // 0x9f86d081884c7d65n
 * ```
 */
export function messageKey(digest: string, topic: string): bigint {
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

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
