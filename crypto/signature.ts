/**
 * One signing interface over secmqtt's two signature schemes: pure-TS DSA-2048 (FIPS 186-4, RFC 6979
 * nonces, DER signatures) from `dsa.ts`, and Ed25519 (RFC 8032) from `ed25519.ts`. Keys carry their
 * scheme, so a key of one scheme can never be used to verify a signature claimed for the other.
 * @module
 */

import * as dsa from "./dsa.ts";
import {
  ED25519_SIGNATURE_BYTES,
  exportEd25519PrivateKeyPem,
  exportEd25519PublicKeyPem,
  generateEd25519KeyPair,
  importEd25519PrivateKeyPem,
  importEd25519PublicKeyPem,
  signEd25519,
  verifyEd25519,
} from "./ed25519.ts";

export type { DsaDomain, DsaPrivateKey, DsaPublicKey } from "./dsa.ts";

/** The signature schemes an envelope suite can name. */
export type SignatureScheme = "dsa-2048" | "ed25519";

/** Every supported scheme, in preference order (the "paper" scheme first). */
export const SIGNATURE_SCHEMES: readonly SignatureScheme[] = ["dsa-2048", "ed25519"];

/** A private key tagged with its scheme. */
export type SigningKey =
  | { readonly scheme: "dsa-2048"; readonly key: dsa.DsaPrivateKey }
  | { readonly scheme: "ed25519"; readonly key: CryptoKey };

/** A public key tagged with its scheme. */
export type VerifyingKey =
  | { readonly scheme: "dsa-2048"; readonly key: dsa.DsaPublicKey }
  | { readonly scheme: "ed25519"; readonly key: CryptoKey };

/** A matching signing/verifying pair. */
export interface SignatureKeyPair {
  /** The private half. */
  readonly signingKey: SigningKey;
  /** The public half. */
  readonly verifyingKey: VerifyingKey;
}

/**
 * Inclusive byte-length range of a well-formed signature per scheme. A DER DSA signature
 * SEQUENCE { INTEGER r, INTEGER s } with r, s < q ≤ 2^256 is 8 to 72 bytes (2 + 2 × (2 + 33)).
 */
export const SIGNATURE_BYTES: Readonly<
  Record<SignatureScheme, { readonly min: number; readonly max: number }>
> = {
  "dsa-2048": { min: 8, max: 72 },
  "ed25519": { min: ED25519_SIGNATURE_BYTES, max: ED25519_SIGNATURE_BYTES },
};

/**
 * Generates a key pair for `scheme`. For DSA, pass a domain (p, q, g) to skip the slow domain generation;
 * `dsa.ts` accepts only 2048-bit p with a 224- or 256-bit q.
 * @example
 * ```ts
 * const { signingKey, verifyingKey } = await generateSignatureKeyPair("ed25519");
 * ```
 */
export async function generateSignatureKeyPair(
  scheme: SignatureScheme,
  dsaDomain?: dsa.DsaDomain,
): Promise<SignatureKeyPair> {
  if (scheme === "ed25519") {
    const pair = await generateEd25519KeyPair();
    return {
      signingKey: { scheme, key: pair.privateKey },
      verifyingKey: { scheme, key: pair.publicKey },
    };
  }
  const pair = await dsa.generateKeyPair(dsaDomain ?? "2048-256");
  return {
    signingKey: { scheme, key: pair.privateKey },
    verifyingKey: { scheme, key: pair.publicKey },
  };
}

/**
 * Signs `message`. Both schemes are deterministic (RFC 6979 for DSA, RFC 8032 for Ed25519).
 * @example
 * ```ts
 * const sig = await signMessage(signingKey, utf8Encode("hello"));
 * ```
 */
export async function signMessage(signingKey: SigningKey, message: Uint8Array): Promise<Uint8Array> {
  if (signingKey.scheme === "ed25519") return await signEd25519(signingKey.key, message);
  return await dsa.sign(signingKey.key, message);
}

/**
 * Verifies `signature` over `message`. Never throws: a length outside {@link SIGNATURE_BYTES}, a
 * malformed signature or any internal failure is `false`.
 * @example
 * ```ts
 * await verifySignature(verifyingKey, utf8Encode("hello"), sig); // true
 * ```
 */
export async function verifySignature(
  verifyingKey: VerifyingKey,
  message: Uint8Array,
  signature: Uint8Array,
): Promise<boolean> {
  const range = SIGNATURE_BYTES[verifyingKey.scheme];
  if (range === undefined || signature.length < range.min || signature.length > range.max) return false;
  try {
    if (verifyingKey.scheme === "ed25519") return await verifyEd25519(verifyingKey.key, message, signature);
    return (await dsa.verify(verifyingKey.key, message, signature)) === true;
  } catch {
    return false;
  }
}

/**
 * Imports a PKCS#8 `PRIVATE KEY` PEM as a signing key of `scheme`; throws the scheme module's error
 * (`Ed25519Error` or `DsaError`) on unusable or wrong-sized key material.
 * @example
 * ```ts
 * const signingKey = await importSigningKeyPem("ed25519", pem);
 * ```
 */
export async function importSigningKeyPem(scheme: SignatureScheme, pem: string): Promise<SigningKey> {
  if (scheme === "ed25519") return { scheme, key: await importEd25519PrivateKeyPem(pem) };
  return { scheme, key: dsa.importPrivateKeyPem(pem) };
}

/**
 * Imports an SPKI `PUBLIC KEY` PEM as a verifying key of `scheme`; throws like {@link importSigningKeyPem}.
 * @example
 * ```ts
 * const verifyingKey = await importVerifyingKeyPem("dsa-2048", pem);
 * ```
 */
export async function importVerifyingKeyPem(scheme: SignatureScheme, pem: string): Promise<VerifyingKey> {
  if (scheme === "ed25519") return { scheme, key: await importEd25519PublicKeyPem(pem) };
  return { scheme, key: dsa.importPublicKeyPem(pem) };
}

/**
 * Exports a signing key as PKCS#8 `PRIVATE KEY` PEM.
 * @example
 * ```ts
 * const pem = await exportSigningKeyPem(signingKey);
 * ```
 */
export async function exportSigningKeyPem(signingKey: SigningKey): Promise<string> {
  if (signingKey.scheme === "ed25519") return await exportEd25519PrivateKeyPem(signingKey.key);
  return await dsa.exportPrivateKeyPem(signingKey.key);
}

/**
 * Exports a verifying key as SPKI `PUBLIC KEY` PEM.
 * @example
 * ```ts
 * const pem = await exportVerifyingKeyPem(verifyingKey);
 * ```
 */
export async function exportVerifyingKeyPem(verifyingKey: VerifyingKey): Promise<string> {
  if (verifyingKey.scheme === "ed25519") return await exportEd25519PublicKeyPem(verifyingKey.key);
  return await dsa.exportPublicKeyPem(verifyingKey.key);
}
