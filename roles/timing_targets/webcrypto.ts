/**
 * The WebCrypto targets: Ed25519 signing (the other signature suite) and RSA-OAEP unwrapping of the
 * session key. Both run inside Deno's native crypto, so the measured time includes an async round trip;
 * interleaving and cropping take care of that the same way for both classes.
 * @module
 */

import { createHash } from "node:crypto";
import { generateEd25519KeyPair, signEd25519 } from "../../crypto/ed25519.ts";
import { bytesToBigInt } from "../../crypto/modarith.ts";
import {
  generateRsaKeyPair,
  RSA_WRAPPED_KEY_BYTES,
  unwrapSessionKey,
  wrapSessionKey,
} from "../../crypto/rsa.ts";
import { labMessage } from "./dsa_sign.ts";
import type { RandomBytes, TimingProbe, TimingTarget } from "./target.ts";

/** Inputs per class for the WebCrypto targets. */
export const WEBCRYPTO_INPUTS_PER_CLASS = 16;
/** Measurements per class per batch by default. */
export const WEBCRYPTO_SAMPLES_PER_CLASS = 1000;
/** Leading zero bits of a `short` Ed25519 nonce r (out of 252). */
export const ED25519_SHORT_ZERO_BITS = 8;

/** The order of the Ed25519 base point (RFC 8032 §5.1). */
const ED25519_L = (1n << 252n) + 27742317777372353535851937790883648493n;

/**
 * The Ed25519 nonce r = SHA-512(prefix ‖ M) mod L (RFC 8032 §5.1.6), prefix being the upper half of
 * SHA-512(seed); little-endian as the RFC reads it.
 * @example
 * ```ts
 * ed25519Nonce(seed, message) < ED25519_L; // true
 * ```
 */
export function ed25519Nonce(seed: Uint8Array, message: Uint8Array): bigint {
  const prefix = new Uint8Array(createHash("sha512").update(seed).digest()).subarray(32);
  const h = new Uint8Array(createHash("sha512").update(prefix).update(message).digest());
  return bytesToBigInt(h.reverse()) % ED25519_L;
}

/** `ed25519-sign`: short vs full-length nonce r, as for DSA. */
export const ED25519_SIGN_TARGET: TimingTarget = {
  name: "ed25519-sign",
  function: "ed25519-sign",
  summary: "WebCrypto Ed25519 sign: short vs full-length nonce r — expected not to leak",
  expectLeak: false,
  defaultSamples: WEBCRYPTO_SAMPLES_PER_CLASS,
  async prepare(): Promise<TimingProbe> {
    const { privateKey } = await generateEd25519KeyPair();
    // PKCS#8 of an Ed25519 key ends with the 32-byte seed (RFC 8410 §7).
    const seed = new Uint8Array(await crypto.subtle.exportKey("pkcs8", privateKey)).slice(-32);
    const pools: [Uint8Array[], Uint8Array[]] = [[], []];
    for (let index = 0; pools.some((p) => p.length < WEBCRYPTO_INPUTS_PER_CLASS); index++) {
      const message = labMessage(index);
      const bits = ed25519Nonce(seed, message).toString(2).length;
      if (bits <= 252 - ED25519_SHORT_ZERO_BITS) pools[0].push(message);
      else if (bits === 252) pools[1].push(message);
    }
    return {
      classes: ["short", "full"],
      inputsPerClass: WEBCRYPTO_INPUTS_PER_CLASS,
      call: (inClass, input) => signEd25519(privateKey, pools[inClass][input]).then((s) => s.length),
      async: true,
      callsPerMeasurement: 1,
      warmupMeasurements: 200,
      cropPercentile: 50,
    };
  },
};

/**
 * `rsa-unwrap`: ciphertexts with valid OAEP padding vs random values below n (invalid padding). Reported,
 * not judged: the failure path throws, so some difference is expected; the protocol verifies the signature
 * before it unwraps (docs/THREAT_MODEL.md), so an attacker cannot time unwraps of chosen ciphertexts.
 */
export const RSA_UNWRAP_TARGET: TimingTarget = {
  name: "rsa-unwrap",
  function: "rsa-unwrap",
  summary: "WebCrypto RSA-OAEP unwrap: valid vs invalid padding — reported, not judged",
  expectLeak: undefined,
  defaultSamples: WEBCRYPTO_SAMPLES_PER_CLASS,
  async prepare(randomBytes: RandomBytes): Promise<TimingProbe> {
    const { publicKey, privateKey } = await generateRsaKeyPair();
    const pools: [Uint8Array[], Uint8Array[]] = [[], []];
    for (let i = 0; i < WEBCRYPTO_INPUTS_PER_CLASS; i++) {
      pools[0].push(await wrapSessionKey(publicKey, randomBytes(32)));
      // A leading zero byte keeps the value below n (n has its top bit set): a well-formed ciphertext whose
      // decryption is a random block, i.e. invalid OAEP padding.
      const invalid = randomBytes(RSA_WRAPPED_KEY_BYTES);
      invalid[0] = 0;
      pools[1].push(invalid);
    }
    return {
      classes: ["valid", "invalid"],
      inputsPerClass: WEBCRYPTO_INPUTS_PER_CLASS,
      call: (inClass, input) => unwrapSessionKey(privateKey, pools[inClass][input]).then(() => 1, () => 0),
      async: true,
      callsPerMeasurement: 1,
      warmupMeasurements: 100,
      cropPercentile: 50,
    };
  },
};
