/**
 * Checks the keys of a parsed trust list when it is loaded, so that a bad entry stops the actuator at
 * start, naming the sender, instead of surfacing per message (or never):
 *
 * - Ed25519: the SPKI must hold exactly one 32-byte key, canonically encoded, on the curve and not of
 *   small order (crypto/ed25519_point.ts). WebCrypto imports a small-order key, which then "verifies"
 *   forged signatures.
 * - DSA: the domain and key checks the verifier runs per message (crypto/dsa.ts validatePublicKey:
 *   p of 2048 bits, q of 224/256 bits dividing p − 1, 1 < g < p, g^q ≡ 1, 2 ≤ y ≤ p − 2, y^q ≡ 1).
 *
 * Entries of suites this build does not know are left to the envelope check (UNSUPPORTED per message).
 * @module
 */

import { fromPem } from "../crypto/codec.ts";
import { importPublicKeyPem, validatePublicKey } from "../crypto/dsa.ts";
import { ed25519PointProblem } from "../crypto/ed25519_point.ts";
import { SUITE_SIGNATURE_SCHEME, SUITES } from "../crypto/envelope.ts";
import { TrustError, type TrustList } from "./trust.ts";

/** DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410 §4): SEQUENCE { id-Ed25519 }, BIT STRING of 32 bytes. */
const ED25519_SPKI_PREFIX = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];

const ED25519_PROBLEMS: Readonly<Record<string, string>> = {
  WRONG_LENGTH: "is not 32 bytes",
  NON_CANONICAL: "is not canonically encoded",
  NOT_ON_CURVE: "is not a point on the curve",
  SMALL_ORDER: "has small order (it would accept forged signatures)",
};

/** Why an Ed25519 SPKI PEM is unfit, or undefined. */
function ed25519KeyProblem(pem: string): string | undefined {
  let der: Uint8Array;
  try {
    der = fromPem("PUBLIC KEY", pem);
  } catch {
    return "is not a PUBLIC KEY PEM";
  }
  if (der.length !== ED25519_SPKI_PREFIX.length + 32 || ED25519_SPKI_PREFIX.some((b, i) => der[i] !== b)) {
    return "is not an Ed25519 SubjectPublicKeyInfo";
  }
  const problem = ed25519PointProblem(der.subarray(ED25519_SPKI_PREFIX.length));
  return problem && `public key ${ED25519_PROBLEMS[problem]}`;
}

/** Why a DSA SPKI PEM is unfit, or undefined. */
function dsaKeyProblem(pem: string): string | undefined {
  try {
    validatePublicKey(importPublicKeyPem(pem));
    return undefined;
  } catch (error) {
    return `DSA public key: ${(error as Error).message}`;
  }
}

/**
 * Checks every entry's key; returns the list unchanged, or throws {@link TrustError} `TRUST_INVALID`
 * naming `source`, the sender and the reason.
 * @example
 * ```ts
 * const list = validateTrustKeys(parseTrustList(text, path), path);
 * ```
 */
export function validateTrustKeys(list: TrustList, source: string): TrustList {
  for (const [sender, entry] of Object.entries(list.senders)) {
    if (!(SUITES as readonly string[]).includes(entry.suite)) continue;
    const scheme = SUITE_SIGNATURE_SCHEME[entry.suite as keyof typeof SUITE_SIGNATURE_SCHEME];
    const problem = scheme === "ed25519"
      ? ed25519KeyProblem(entry.public_key)
      : dsaKeyProblem(entry.public_key);
    if (problem) {
      throw new TrustError(
        "TRUST_INVALID",
        `${source}: sender '${sender}': ${problem}; re-create its key (secmqtt keygen) or remove the entry`,
      );
    }
  }
  return list;
}
