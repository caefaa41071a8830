/**
 * AES-256-GCM (NIST SP 800-38D) through WebCrypto: 96-bit nonce, associated data, and the 128-bit tag
 * appended to the ciphertext. Keys are imported once as non-extractable `CryptoKey`s so that a cached
 * session key costs nothing to reuse.
 * @module
 */

import { CodedError } from "../core/errors.ts";

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
