/**
 * RSA-OAEP-2048 with SHA-256 and MGF1-SHA-256 (RFC 8017 §7.1) through WebCrypto, used only to wrap
 * 32-byte AES session keys for one recipient. Keys travel as PEM: SPKI public, PKCS#8 private.
 * @module
 */

import { fromPem, toPem } from "./codec.ts";
import { CodedError } from "../core/errors.ts";

/** Modulus size every secmqtt RSA key must have. */
export const RSA_MODULUS_BITS = 2048;
/** Length of an RSA-2048 ciphertext, i.e. of a wrapped session key. */
export const RSA_WRAPPED_KEY_BYTES = RSA_MODULUS_BITS / 8;
/** Length of the session key that {@link wrapSessionKey} carries. */
export const SESSION_KEY_BYTES = 32;

const OAEP_PARAMS = { name: "RSA-OAEP", hash: "SHA-256" } as const;
const F4 = new Uint8Array([1, 0, 1]);

/**
 * Error thrown by this module: `BAD_KEY` for unusable key material, `UNWRAP_FAILED` for a ciphertext that
 * does not decrypt. The message never reveals why an OAEP decoding failed (RFC 8017 §7.1.2).
 */
export class RsaError extends CodedError<"BAD_KEY" | "UNWRAP_FAILED"> {
  /** Exit-status kind: unusable key material or ciphertext is bad input. */
  readonly kind = "input";
}

function checkModulus(key: CryptoKey): CryptoKey {
  const bits = (key.algorithm as RsaHashedKeyAlgorithm).modulusLength;
  if (bits !== RSA_MODULUS_BITS) {
    throw new RsaError("BAD_KEY", `expected a ${RSA_MODULUS_BITS}-bit RSA key, got ${bits} bits`);
  }
  return key;
}

/**
 * Generates an extractable RSA-OAEP-2048 key pair (e = 65537) for SHA-256.
 * @example
 * ```ts
 * const { publicKey, privateKey } = await generateRsaKeyPair();
 * ```
 */
export async function generateRsaKeyPair(): Promise<CryptoKeyPair> {
  return await crypto.subtle.generateKey(
    { ...OAEP_PARAMS, modulusLength: RSA_MODULUS_BITS, publicExponent: F4 },
    true,
    ["encrypt", "decrypt"],
  );
}

/**
 * Encrypts a 32-byte session key to the recipient; the result is always 256 bytes and, OAEP being
 * randomised, different on every call.
 * @example
 * ```ts
 * const wrapped = await wrapSessionKey(publicKey, sessionKey32); // Uint8Array(256)
 * ```
 */
export async function wrapSessionKey(publicKey: CryptoKey, rawKey: Uint8Array): Promise<Uint8Array> {
  if (rawKey.length !== SESSION_KEY_BYTES) {
    throw new RsaError(
      "BAD_KEY",
      `expected a ${SESSION_KEY_BYTES}-byte session key, got ${rawKey.length} bytes`,
    );
  }
  checkModulus(publicKey);
  const out = await crypto.subtle.encrypt(OAEP_PARAMS, publicKey, rawKey.slice());
  return new Uint8Array(out);
}

/**
 * RSA-OAEP decryption with an optional label; throws {@link RsaError} (`UNWRAP_FAILED`) on any failure.
 * Prefer {@link unwrapSessionKey}, which also pins the lengths.
 * @example
 * ```ts
 * const message = await rsaOaepDecrypt(privateKey, ciphertext256);
 * ```
 */
export async function rsaOaepDecrypt(
  privateKey: CryptoKey,
  ciphertext: Uint8Array,
  label: Uint8Array = new Uint8Array(0),
): Promise<Uint8Array> {
  if (ciphertext.length !== RSA_WRAPPED_KEY_BYTES) {
    throw new RsaError(
      "UNWRAP_FAILED",
      `expected a ${RSA_WRAPPED_KEY_BYTES}-byte ciphertext, got ${ciphertext.length} bytes`,
    );
  }
  checkModulus(privateKey);
  try {
    const params = label.length > 0 ? { ...OAEP_PARAMS, label: label.slice() } : OAEP_PARAMS;
    return new Uint8Array(await crypto.subtle.decrypt(params, privateKey, ciphertext.slice()));
  } catch {
    // One message for every failure: distinguishing them is the Manger oracle (RFC 8017 §7.1.2 note).
    throw new RsaError(
      "UNWRAP_FAILED",
      "expected a valid RSA-OAEP ciphertext, got one that does not decrypt",
    );
  }
}

/**
 * Decrypts a 256-byte wrapped key back to the 32-byte session key; throws {@link RsaError}
 * (`UNWRAP_FAILED`) if the ciphertext does not decrypt or does not hold exactly 32 bytes.
 * @example
 * ```ts
 * const sessionKey = await unwrapSessionKey(privateKey, wrapped); // Uint8Array(32)
 * ```
 */
export async function unwrapSessionKey(privateKey: CryptoKey, wrapped: Uint8Array): Promise<Uint8Array> {
  const key = await rsaOaepDecrypt(privateKey, wrapped);
  if (key.length !== SESSION_KEY_BYTES) {
    throw new RsaError(
      "UNWRAP_FAILED",
      `expected a ${SESSION_KEY_BYTES}-byte session key, got ${key.length}`,
    );
  }
  return key;
}

/**
 * Imports an SPKI `PUBLIC KEY` PEM as an RSA-OAEP-2048/SHA-256 encryption key.
 * @example
 * ```ts
 * const publicKey = await importRsaPublicKeyPem(await Deno.readTextFile("rsa_public.pem"));
 * ```
 */
export async function importRsaPublicKeyPem(pem: string): Promise<CryptoKey> {
  let key: CryptoKey;
  try {
    key = await crypto.subtle.importKey("spki", fromPem("PUBLIC KEY", pem).slice(), OAEP_PARAMS, true, [
      "encrypt",
    ]);
  } catch (err) {
    if (err instanceof RsaError) throw err;
    throw new RsaError("BAD_KEY", `expected an RSA SPKI public key PEM, got an unusable one (${err})`);
  }
  return checkModulus(key);
}

/**
 * Imports a PKCS#8 `PRIVATE KEY` PEM as an RSA-OAEP-2048/SHA-256 decryption key.
 * @example
 * ```ts
 * const privateKey = await importRsaPrivateKeyPem(await Deno.readTextFile("rsa_private.pem"));
 * ```
 */
export async function importRsaPrivateKeyPem(pem: string): Promise<CryptoKey> {
  let key: CryptoKey;
  try {
    key = await crypto.subtle.importKey("pkcs8", fromPem("PRIVATE KEY", pem).slice(), OAEP_PARAMS, true, [
      "decrypt",
    ]);
  } catch (err) {
    throw new RsaError("BAD_KEY", `expected an RSA PKCS#8 private key PEM, got an unusable one (${err})`);
  }
  return checkModulus(key);
}

/**
 * Exports an RSA public key as SPKI `PUBLIC KEY` PEM.
 * @example
 * ```ts
 * const pem = await exportRsaPublicKeyPem(publicKey); // "-----BEGIN PUBLIC KEY-----\n…"
 * ```
 */
export async function exportRsaPublicKeyPem(publicKey: CryptoKey): Promise<string> {
  return toPem("PUBLIC KEY", new Uint8Array(await crypto.subtle.exportKey("spki", publicKey)));
}

/**
 * Exports an RSA private key as PKCS#8 `PRIVATE KEY` PEM.
 * @example
 * ```ts
 * const pem = await exportRsaPrivateKeyPem(privateKey); // "-----BEGIN PRIVATE KEY-----\n…"
 * ```
 */
export async function exportRsaPrivateKeyPem(privateKey: CryptoKey): Promise<string> {
  return toPem("PRIVATE KEY", new Uint8Array(await crypto.subtle.exportKey("pkcs8", privateKey)));
}
