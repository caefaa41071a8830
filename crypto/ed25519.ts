/**
 * Ed25519 (RFC 8032) signatures through WebCrypto, with SPKI / PKCS#8 PEM import and export.
 * @module
 */

import { fromPem, toPem } from "./codec.ts";
import { SecmqttError } from "../core/errors.ts";

/** Ed25519 signature length in bytes. */
export const ED25519_SIGNATURE_BYTES = 64;

const ED25519 = { name: "Ed25519" } as const;

/** Error thrown when Ed25519 key material cannot be imported or used. */
export class Ed25519Error extends SecmqttError {
  /** Exit-status kind: unusable key material is bad input. */
  readonly kind = "input";
  /** Stable error code. */
  readonly code = "BAD_KEY";
}

/**
 * Generates an extractable Ed25519 key pair.
 * @example
 * ```ts
 * const { publicKey, privateKey } = await generateEd25519KeyPair();
 * ```
 */
export async function generateEd25519KeyPair(): Promise<CryptoKeyPair> {
  return await crypto.subtle.generateKey(ED25519, true, ["sign", "verify"]) as CryptoKeyPair;
}

/**
 * Signs `message`; Ed25519 is deterministic, so the same key and message give the same 64 bytes.
 * @example
 * ```ts
 * const sig = await signEd25519(privateKey, utf8Encode("hello")); // Uint8Array(64)
 * ```
 */
export async function signEd25519(privateKey: CryptoKey, message: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign(ED25519, privateKey, message.slice()));
}

/**
 * Verifies an Ed25519 signature. Never throws: wrong lengths, a wrong key type or any failure is `false`.
 * @example
 * ```ts
 * await verifyEd25519(publicKey, utf8Encode("hello"), sig); // true
 * ```
 */
export async function verifyEd25519(
  publicKey: CryptoKey,
  message: Uint8Array,
  signature: Uint8Array,
): Promise<boolean> {
  if (signature.length !== ED25519_SIGNATURE_BYTES) return false;
  try {
    return await crypto.subtle.verify(ED25519, publicKey, signature.slice(), message.slice());
  } catch {
    return false;
  }
}

/**
 * Imports an SPKI `PUBLIC KEY` PEM holding an Ed25519 key.
 * @example
 * ```ts
 * const publicKey = await importEd25519PublicKeyPem(pem);
 * ```
 */
export async function importEd25519PublicKeyPem(pem: string): Promise<CryptoKey> {
  try {
    return await crypto.subtle.importKey("spki", fromPem("PUBLIC KEY", pem).slice(), ED25519, true, [
      "verify",
    ]);
  } catch (err) {
    throw new Ed25519Error(`expected an Ed25519 SPKI public key PEM, got an unusable one (${err})`);
  }
}

/**
 * Imports a PKCS#8 `PRIVATE KEY` PEM holding an Ed25519 key.
 * @example
 * ```ts
 * const privateKey = await importEd25519PrivateKeyPem(pem);
 * ```
 */
export async function importEd25519PrivateKeyPem(pem: string): Promise<CryptoKey> {
  try {
    return await crypto.subtle.importKey("pkcs8", fromPem("PRIVATE KEY", pem).slice(), ED25519, true, [
      "sign",
    ]);
  } catch (err) {
    throw new Ed25519Error(`expected an Ed25519 PKCS#8 private key PEM, got an unusable one (${err})`);
  }
}

/**
 * Exports an Ed25519 public key as SPKI `PUBLIC KEY` PEM.
 * @example
 * ```ts
 * const pem = await exportEd25519PublicKeyPem(publicKey);
 * ```
 */
export async function exportEd25519PublicKeyPem(publicKey: CryptoKey): Promise<string> {
  return toPem("PUBLIC KEY", new Uint8Array(await crypto.subtle.exportKey("spki", publicKey)));
}

/**
 * Exports an Ed25519 private key as PKCS#8 `PRIVATE KEY` PEM.
 * @example
 * ```ts
 * const pem = await exportEd25519PrivateKeyPem(privateKey);
 * ```
 */
export async function exportEd25519PrivateKeyPem(privateKey: CryptoKey): Promise<string> {
  return toPem("PRIVATE KEY", new Uint8Array(await crypto.subtle.exportKey("pkcs8", privateKey)));
}
