/**
 * Format attacks: a version or suite the sender does not use, a Phase I plaintext message where an
 * envelope belongs, and input that fails the shape checks of step 1 of open().
 * @module
 */

import { utf8Encode } from "../../crypto/codec.ts";
import { type EnvelopeJson, serializeEnvelope, SUITE_DSA, SUITE_ED25519 } from "../../crypto/envelope.ts";
import { patchEnvelope, relabelledSuiteCode } from "./envelope_edit.ts";
import { attackIdOf, type AttackRecipe, syntheticField } from "./recipe.ts";

/** Size of the `malformed/oversize` payload: 64 KiB, eight times `ENVELOPE_MAX_BYTES`. */
export const OVERSIZE_PAYLOAD_BYTES = 64 * 1024;
/** Depth of the `malformed/nested` JSON arrays. */
export const NESTING_DEPTH = 10_000;
/** Size of the `malformed/garbage` payload. */
export const GARBAGE_PAYLOAD_BYTES = 512;
/** A suite no version of the protocol defines, of the kind a downgrade would ask for. */
const UNKNOWN_SUITE = "rsa-oaep-1024+aes-128-cbc+none";

/**
 * `downgrade`: another version (`v2`, `v0`), the suite the sender does not use, a suite nobody defines,
 * or a Phase I plaintext reading (`plaintext-phase1`).
 * @example
 * ```ts
 * const message = await downgrade.build(ctx, "v0", 1);
 * ```
 */
export const downgrade: AttackRecipe = {
  level: "envelope",
  plan: () => ["v2", "v0", "other-suite", "unknown-suite", "plaintext-phase1"],
  async build(ctx, variant, i) {
    const t = await ctx.template(i);
    const env = t.json;
    const fields = syntheticField(t);
    switch (variant) {
      case "v2":
      case "v0":
        return {
          payload: patchEnvelope(env, { v: variant === "v2" ? 2 : 0 }),
          expect: "UNSUPPORTED",
          fields,
        };
      case "other-suite": {
        // DSA → Ed25519 usually fails the length check (a DER signature is rarely 64 bytes);
        // Ed25519 → DSA fits the DER range and is refused as another suite than the sender's.
        const suite = env.suite === SUITE_DSA ? SUITE_ED25519 : SUITE_DSA;
        return {
          payload: patchEnvelope(env, { suite }),
          expect: relabelledSuiteCode(env, suite),
          fields: { ...fields, to_suite: suite },
        };
      }
      case "unknown-suite":
        return {
          payload: patchEnvelope(env, { suite: UNKNOWN_SUITE }),
          expect: relabelledSuiteCode(env, UNKNOWN_SUITE),
          fields,
        };
      default:
        return {
          payload: ctx.reading(env.sender, ctx.freshCounter(i), attackIdOf("downgrade", i)),
          expect: "MALFORMED",
        };
    }
  },
};

/**
 * `malformed`: random bytes, a truncated or oversized envelope, deep nesting, prototype keys, a
 * duplicated key, wrong JSON types, and non-canonical whitespace.
 * @example
 * ```ts
 * const message = await malformed.build(ctx, "nested", 1);
 * ```
 */
export const malformed: AttackRecipe = {
  level: "envelope",
  plan: () => [
    "garbage",
    "truncated",
    "oversize",
    "nested",
    "proto-keys",
    "duplicate-key",
    "wrong-types",
    "non-canonical",
  ],
  async build(ctx, variant, i) {
    const t = await ctx.template(i);
    const body = serializeEnvelope(t.json).slice(1, -1);
    const out = (payload: Uint8Array | string) => ({
      payload: typeof payload === "string" ? utf8Encode(payload) : payload,
      expect: "MALFORMED" as const,
      fields: syntheticField(t),
    });
    switch (variant) {
      case "garbage":
        return out(ctx.randomBytes(GARBAGE_PAYLOAD_BYTES));
      case "truncated":
        return out(t.payload.slice(0, Math.floor(t.payload.length / 2)));
      case "oversize":
        // A plausible envelope whose ciphertext alone is 64 KiB: refused on size before parsing.
        return out(serializeEnvelope({ ...t.json, ciphertext: "A".repeat(OVERSIZE_PAYLOAD_BYTES) }));
      case "nested":
        return out(`{"v":${"[".repeat(NESTING_DEPTH)}${"]".repeat(NESTING_DEPTH)}}`);
      case "proto-keys":
        return out(`{"__proto__":{"admin":true},"constructor":{"prototype":{"admin":true}},${body}}`);
      case "duplicate-key":
        // JSON.parse keeps the last value silently; only the canonical-bytes rule catches it.
        return out(`{${body},"counter":${t.json.counter + 1 + i}}`);
      case "wrong-types": {
        const record: Record<string, unknown> = { ...t.json, counter: String(t.json.counter) };
        return out(serializeEnvelope(record as unknown as EnvelopeJson));
      }
      default:
        return out(JSON.stringify(t.json, null, 1));
    }
  },
};
