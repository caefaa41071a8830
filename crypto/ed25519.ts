/**
 * Ed25519 (RFC 8032) signatures: keys are WebCrypto `CryptoKey`s (generated, imported and exported through
 * WebCrypto); signing and verifying go through node:crypto's synchronous one-shot calls on the same key
 * material. Why: a WebCrypto call hops to a worker thread and back, which here cost 65 µs per verify and
 * 41 µs per sign against 44 and 23 µs inline (`deno bench -A bench/crypto_bench.ts --filter Ed25519`), and
 * a door event pays one of each on its way. A key node:crypto cannot take (`KeyObject.from` refuses it)
 * still works, through WebCrypto.
 * @module
 */

import { sign as nodeSign, verify as nodeVerify } from "node:crypto";
import { fromPem, toPem } from "./codec.ts";
import { SecmqttError } from "../core/errors.ts";
import { backendOf, type CryptoBackend, nodeTwin } from "./node_twin.ts";

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

function isEd25519(key: CryptoKey): boolean {
  return key.algorithm.name === ED25519.name;
}

/**
 * Which implementation signs or verifies with `key`: node:crypto's inline calls, or WebCrypto for a key
 * node:crypto cannot take.
 * @example
 * ```ts
 * ed25519Backend(await importEd25519PublicKeyPem(pem)); // "node:crypto"
 * ```
 */
export function ed25519Backend(key: CryptoKey): CryptoBackend {
  return backendOf(nodeTwin(key, isEd25519));
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
  const twin = privateKey.type === "private" && privateKey.usages.includes("sign")
    ? nodeTwin(privateKey, isEd25519)
    : null;
  if (twin !== null) return new Uint8Array(nodeSign(null, message, twin));
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
    const twin = publicKey.type === "public" && publicKey.usages.includes("verify")
      ? nodeTwin(publicKey, isEd25519)
      : null;
    if (twin !== null) return nodeVerify(null, message, twin, signature);
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
