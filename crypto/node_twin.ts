/**
 * The node:crypto twin of a WebCrypto `CryptoKey`: the same key material as a `KeyObject`, so that a one-shot
 * operation can run inline instead of hopping to WebCrypto's worker thread and back. Made on first use and
 * cached per key; `null` where the key is not of the kind asked for or `KeyObject.from` refuses it, and the
 * caller then goes through WebCrypto as before.
 * @module
 */

import { KeyObject } from "node:crypto";

/** Which implementation a key's operations run through. */
export type CryptoBackend = "node:crypto" | "webcrypto";

const twins = new WeakMap<CryptoKey, KeyObject | null>();

/**
 * The `KeyObject` twin of `key` when `fits(key)` holds and node:crypto takes the key, else `null`. The
 * answer is cached for the key's lifetime, so `fits` is asked once per key.
 * @example
 * ```ts
 * const twin = nodeTwin(key, (k) => k.algorithm.name === "Ed25519");
 * if (twin !== null) nodeVerify(null, message, twin, signature);
 * ```
 */
export function nodeTwin(key: CryptoKey, fits: (key: CryptoKey) => boolean): KeyObject | null {
  let twin = twins.get(key);
  if (twin === undefined) {
    try {
      twin = fits(key) ? KeyObject.from(key) : null;
    } catch {
      twin = null;
    }
    twins.set(key, twin);
  }
  return twin;
}

/**
 * The backend a key's operations would run through, by {@link nodeTwin}.
 * @example
 * ```ts
 * backendOf(nodeTwin(key, isEd25519)); // "node:crypto"
 * ```
 */
export function backendOf(twin: KeyObject | null): CryptoBackend {
  return twin === null ? "webcrypto" : "node:crypto";
}
