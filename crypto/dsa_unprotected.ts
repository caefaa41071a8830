/**
 * LAB BASELINE ONLY — never sign with this. Textbook DSA signing (FIPS 186-4 §4.6) with the RFC 6979 nonce
 * and none of crypto/dsa.ts's countermeasures: g^k by sliding windows over the bits k actually has, k^−1 by
 * Euclid on k itself. Its running time grows with the nonce's bit length, which is exactly the leak
 * (Minerva, TPM-Fail) the shipped signer blinds away. `secmqtt timing --target dsa-sign-unprotected` and
 * bench/dsa_nonce_leak.ts use it to show that the timing test can see such a leak at all; without a
 * baseline that leaks, "no leak" for the shipped signer would prove nothing.
 *
 * Only roles/timing_targets/, bench/ and tests/ may import this module (tests/timing_targets_test.ts
 * checks that nothing else does). It produces the same signatures as {@link sign} in crypto/dsa.ts.
 * @module
 */

import {
  digestForKey,
  type DsaHash,
  type DsaPrivateKey,
  type DsaSignature,
  encodeSignatureDer,
  rfc6979Nonces,
  validatePrivateKey,
} from "./dsa.ts";
import { bitLength, bytesToBigInt, modInverse, modPow } from "./modarith.ts";

/**
 * Signs a digest the textbook way (see the module doc: leaks the nonce's length through its time);
 * `hash` drives RFC 6979 as in crypto/dsa.ts `signDigest`.
 * @example
 * ```ts
 * const { r, s } = signDigestUnprotected(privateKey, digestForKey(privateKey, message));
 * ```
 */
export function signDigestUnprotected(
  privateKey: DsaPrivateKey,
  digest: Uint8Array,
  hash?: DsaHash,
): DsaSignature {
  validatePrivateKey(privateKey);
  const { p, q, g } = privateKey.domain;
  const qBits = bitLength(q);
  // bits2int (RFC 6979 §2.3.2): the leftmost qBits bits of the digest.
  const excess = digest.length * 8 - qBits;
  const z = excess > 0 ? bytesToBigInt(digest) >> BigInt(excess) : bytesToBigInt(digest);
  const nextK = rfc6979Nonces(privateKey, digest, hash);
  while (true) {
    const k = nextK();
    const r = modPow(g, k, p) % q;
    if (r === 0n) continue;
    const s = (modInverse(k, q) * ((z + privateKey.x * r) % q)) % q;
    if (s === 0n) continue;
    return { r, s };
  }
}

/**
 * Signs a message the textbook way: DER `SEQUENCE { r, s }`, byte for byte what crypto/dsa.ts `sign` gives.
 * @example
 * ```ts
 * const signature = signUnprotected(privateKey, new TextEncoder().encode("hello"));
 * ```
 */
export function signUnprotected(privateKey: DsaPrivateKey, message: Uint8Array): Uint8Array {
  return encodeSignatureDer(signDigestUnprotected(privateKey, digestForKey(privateKey, message)));
}
