/**
 * The wire digest that ties an attacker's message to the victim's reaction in the log (docs/LOG.md).
 * @module
 */

import { createHash } from "node:crypto";

/** Hex digits of the digest kept in logs: 64 bits, plenty to tell the messages of one run apart. */
export const DIGEST_HEX_CHARS = 16;

/**
 * First 16 hex digits of SHA-256 over the exact payload bytes.
 * @example
 * ```ts
 * payloadDigest(new TextEncoder().encode("hello")); // "2cf24dba5fb0a30e"
 * ```
 */
export function payloadDigest(payload: Uint8Array): string {
  return createHash("sha256").update(payload).digest("hex").slice(0, DIGEST_HEX_CHARS);
}
