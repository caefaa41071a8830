/**
 * AES-256-GCM (NIST SP 800-38D): 96-bit nonce, associated data, and the 128-bit tag appended to the
 * ciphertext. Keys are imported once through WebCrypto as non-extractable `CryptoKey`s so that a cached
 * session key costs nothing to reuse; encrypting and decrypting run inline through node:crypto on the same
 * key material. Why: a WebCrypto call hops to a worker thread and back, which here cost 21 µs per 200-byte
 * decrypt against 8 µs inline (`deno bench -A bench/crypto_bench.ts --filter "200 B"`; in CPU time 24 against
 * 8 µs), and every secure message pays one of each. A key node:crypto cannot take (`KeyObject.from`
 * refuses it) still works, through WebCrypto.
 * @module
 */

import { createCipheriv, createDecipheriv } from "node:crypto";
import { CodedError } from "../core/errors.ts";
import { concatBytes } from "./codec.ts";
import { backendOf, type CryptoBackend, nodeTwin } from "./node_twin.ts";

/** AES-256 key length in bytes. */
export const AES_KEY_BYTES = 32;
/** GCM nonce length in bytes (96 bits, the length SP 800-38D §8.2 recommends). */
export const AES_NONCE_BYTES = 12;
/** GCM tag length in bytes (128 bits), appended to the ciphertext. */
export const AES_TAG_BYTES = 16;

/**
 * Error thrown by this module: `BAD_INPUT` for wrong key, nonce or ciphertext lengths, `AUTH_FAILED` for a
 * tag mismatch.
 */
export class AesGcmError extends CodedError<"BAD_INPUT" | "AUTH_FAILED"> {
  /** Exit-status kind: unusable key, nonce or ciphertext is bad input. */
  readonly kind = "input";
}

/**
 * Imports a raw 32-byte AES-256 key for GCM encryption and decryption (non-extractable).
 * @example
 * ```ts
 * const key = await importAesKey(crypto.getRandomValues(new Uint8Array(32)));
 * ```
 */
export async function importAesKey(raw: Uint8Array): Promise<CryptoKey> {
  if (raw.length !== AES_KEY_BYTES) {
    throw new AesGcmError("BAD_INPUT", `expected a ${AES_KEY_BYTES}-byte AES key, got ${raw.length} bytes`);
  }
  // slice(): WebCrypto wants an ArrayBuffer-backed view, and a private copy cannot change mid-operation.
  return await crypto.subtle.importKey("raw", raw.slice(), { name: "AES-GCM" }, false, [
    "encrypt",
    "decrypt",
  ]);
}

/** Whether node:crypto's AES-256-GCM can stand in for WebCrypto with `key`. */
function isAes256Gcm(key: CryptoKey): boolean {
  return key.algorithm.name === "AES-GCM" && (key.algorithm as AesKeyAlgorithm).length === AES_KEY_BYTES * 8;
}

/**
 * Which implementation encrypts and decrypts with `key`: node:crypto's inline calls, or WebCrypto for a key
 * node:crypto cannot take.
 * @example
 * ```ts
 * aesBackend(await importAesKey(crypto.getRandomValues(new Uint8Array(32)))); // "node:crypto"
 * ```
 */
export function aesBackend(key: CryptoKey): CryptoBackend {
  return backendOf(nodeTwin(key, isAes256Gcm));
}

function checkNonce(nonce: Uint8Array): void {
  if (nonce.length !== AES_NONCE_BYTES) {
    throw new AesGcmError("BAD_INPUT", `expected a ${AES_NONCE_BYTES}-byte nonce, got ${nonce.length} bytes`);
  }
}

/**
 * Encrypts and authenticates `plaintext` and `associatedData`; returns ciphertext ‖ 16-byte tag.
 * The caller must never reuse a nonce under the same key.
 * @example
 * ```ts
 * const sealed = await aesGcmEncrypt(key, nonce12, utf8Encode("on"), utf8Encode("topic"));
 * sealed.length; // 2 + 16
 * ```
 */
export async function aesGcmEncrypt(
  key: CryptoKey,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  associatedData: Uint8Array,
): Promise<Uint8Array> {
  checkNonce(nonce);
  const twin = key.usages.includes("encrypt") ? nodeTwin(key, isAes256Gcm) : null;
  if (twin !== null) {
    const cipher = createCipheriv("aes-256-gcm", twin, nonce, { authTagLength: AES_TAG_BYTES });
    cipher.setAAD(associatedData);
    const body = cipher.update(plaintext);
    const tail = cipher.final();
    // A private copy: a Buffer may be a view into a shared pool.
    return concatBytes(body, tail, cipher.getAuthTag());
  }
  const out = await crypto.subtle.encrypt(
    {
      name: "AES-GCM",
      iv: nonce.slice(),
      additionalData: associatedData.slice(),
      tagLength: AES_TAG_BYTES * 8,
    },
    key,
    plaintext.slice(),
  );
  return new Uint8Array(out);
}

/**
 * Verifies the tag and decrypts ciphertext ‖ tag; throws {@link AesGcmError} (`AUTH_FAILED`) when the
 * key, nonce, associated data or ciphertext do not match.
 * @example
 * ```ts
 * const plaintext = await aesGcmDecrypt(key, nonce12, sealed, utf8Encode("topic"));
 * ```
 */
export async function aesGcmDecrypt(
  key: CryptoKey,
  nonce: Uint8Array,
  ciphertextWithTag: Uint8Array,
  associatedData: Uint8Array,
): Promise<Uint8Array> {
  checkNonce(nonce);
  if (ciphertextWithTag.length < AES_TAG_BYTES) {
    throw new AesGcmError(
      "BAD_INPUT",
      `expected at least ${AES_TAG_BYTES} bytes of ciphertext and tag, got ${ciphertextWithTag.length}`,
    );
  }
  const twin = key.usages.includes("decrypt") ? nodeTwin(key, isAes256Gcm) : null;
  if (twin !== null) {
    const cut = ciphertextWithTag.length - AES_TAG_BYTES;
    try {
      const decipher = createDecipheriv("aes-256-gcm", twin, nonce, { authTagLength: AES_TAG_BYTES });
      decipher.setAAD(associatedData);
      decipher.setAuthTag(ciphertextWithTag.subarray(cut));
      const body = decipher.update(ciphertextWithTag.subarray(0, cut));
      // final() checks the tag: nothing decrypted leaves this function unless it passed.
      return concatBytes(body, decipher.final());
    } catch {
      throw new AesGcmError("AUTH_FAILED", "expected a valid GCM tag, got a mismatch");
    }
  }
  let out: ArrayBuffer;
  try {
    out = await crypto.subtle.decrypt(
      {
        name: "AES-GCM",
        iv: nonce.slice(),
        additionalData: associatedData.slice(),
        tagLength: AES_TAG_BYTES * 8,
      },
      key,
      ciphertextWithTag.slice(),
    );
  } catch {
    throw new AesGcmError("AUTH_FAILED", "expected a valid GCM tag, got a mismatch");
  }
  return new Uint8Array(out);
}
