/**
 * Pure helpers for reading and editing a captured envelope the way an attacker does: parse the cleartext
 * metadata, patch fields, flip single bits, and predict whether step 1 of `open()` (the shape checks of
 * docs/PROTOCOL.md §6) would still accept a signature. Nothing here decrypts or verifies anything.
 * @module
 */

import { fromBase64Url, toBase64Url, utf8Decode, utf8Encode } from "../../crypto/codec.ts";
import {
  ENVELOPE_MAX_BYTES,
  type EnvelopeJson,
  serializeEnvelope,
  type Suite,
  SUITE_SIGNATURE_SCHEME,
  SUITES,
} from "../../crypto/envelope.ts";
import { SIGNATURE_BYTES } from "../../crypto/signature.ts";

/**
 * Reads a payload as an envelope well enough to attack it: a JSON object with every field of the right
 * JSON type and canonical base64url binaries, or `undefined`. Only the cleartext metadata is looked at.
 * @example
 * ```ts
 * const json = readEnvelope(payload);
 * if (json !== undefined) console.log(json.sender, json.counter);
 * ```
 */
export function readEnvelope(payload: Uint8Array): EnvelopeJson | undefined {
  if (payload.length > ENVELOPE_MAX_BYTES) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(utf8Decode(payload));
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const r = value as Record<string, unknown>;
  for (const field of ["v", "counter", "ts"]) if (!Number.isSafeInteger(r[field])) return undefined;
  for (const field of ["suite", "sender", "msg_id", "wrapped_key", "nonce", "ciphertext", "sig"]) {
    if (typeof r[field] !== "string") return undefined;
  }
  try {
    for (const field of ["wrapped_key", "nonce", "ciphertext", "sig"]) fromBase64Url(r[field] as string);
  } catch {
    return undefined;
  }
  return r as unknown as EnvelopeJson;
}

/**
 * The canonical wire bytes of an envelope.
 * @example
 * ```ts
 * const bytes = encodeEnvelope({ ...json, v: 2 });
 * ```
 */
export function encodeEnvelope(json: EnvelopeJson): Uint8Array {
  return utf8Encode(serializeEnvelope(json));
}

/**
 * The wire bytes of `json` with `patch` applied: the common shape of a tampered envelope.
 * @example
 * ```ts
 * const stale = patchEnvelope(captured, { ts: 0 });
 * ```
 */
export function patchEnvelope(json: EnvelopeJson, patch: Partial<EnvelopeJson>): Uint8Array {
  return encodeEnvelope({ ...json, ...patch });
}

/**
 * Is `suite` one the protocol defines?
 * @example
 * ```ts
 * isSuite("rsa-oaep-1024+aes-128-cbc+none"); // false
 * ```
 */
export function isSuite(suite: string): suite is Suite {
  return (SUITES as readonly string[]).includes(suite);
}

/**
 * Would step 1 of open() accept a signature of `length` bytes for `suite`? (PROTOCOL.md §6, row 1) An
 * unknown suite is measured against the DSA range, as the shape check does.
 * @example
 * ```ts
 * signatureFits(SUITE_ED25519, 64); // true
 * ```
 */
export function signatureFits(suite: string, length: number): boolean {
  const range = isSuite(suite)
    ? SIGNATURE_BYTES[SUITE_SIGNATURE_SCHEME[suite]]
    : { min: SIGNATURE_BYTES["dsa-2048"].min, max: SIGNATURE_BYTES["dsa-2048"].max };
  return length >= range.min && length <= range.max;
}

/**
 * What open() answers an envelope whose suite was relabelled to `suite`: `UNSUPPORTED` (not the sender's
 * suite) when the signature's length still fits the new suite, else `MALFORMED` from the shape check.
 * @example
 * ```ts
 * relabelledSuiteCode(json, "rsa-oaep-1024+aes-128-cbc+none"); // "UNSUPPORTED" for a DER-sized sig
 * ```
 */
export function relabelledSuiteCode(json: EnvelopeJson, suite: string): "UNSUPPORTED" | "MALFORMED" {
  return signatureFits(suite, fromBase64Url(json.sig).length) ? "UNSUPPORTED" : "MALFORMED";
}

/**
 * Flips one bit of a base64url field's decoded bytes, at a byte in `[from, to)` chosen by `pick`;
 * re-encodes canonically, so the field keeps its length and its shape.
 * @example
 * ```ts
 * const nonce = flipBinaryBit(json.nonce, 3);
 * ```
 */
export function flipBinaryBit(field: string, pick: number, from = 0, to?: number): string {
  const bytes = fromBase64Url(field).slice();
  const end = to ?? bytes.length;
  const index = from + (pick * 7) % Math.max(1, end - from);
  bytes[index] ^= 1 << (pick % 8);
  return toBase64Url(bytes);
}

/**
 * Flips one bit of one character of an id so it stays inside every id charset: the case bit (0x20) of a
 * letter, or the low bit of a digit. Letters first, so a sender id is not turned into a sibling device's
 * id (`door-sensor-1` → `door-sensor-0`).
 * @example
 * ```ts
 * flipCharBit("door-sensor-1", 0); // "Door-sensor-1"
 * ```
 */
export function flipCharBit(text: string, pick: number): string {
  const letters: number[] = [];
  const digits: number[] = [];
  for (let k = 0; k < text.length; k++) {
    if (/[A-Za-z]/.test(text[k])) letters.push(k);
    else if (/[0-9]/.test(text[k])) digits.push(k);
  }
  const candidates = letters.length > 0 ? letters : digits;
  if (candidates.length === 0) return "X" + text.slice(1);
  const k = candidates[pick % candidates.length];
  const code = text.charCodeAt(k) ^ (letters.length > 0 ? 0x20 : 0x01);
  return text.slice(0, k) + String.fromCharCode(code) + text.slice(k + 1);
}
