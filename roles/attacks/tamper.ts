/**
 * Tampering: a captured envelope with one part changed — one bit of one field, or its session key
 * swapped or re-wrapped. The signature covers every field and the wrapped key, so each change is caught.
 * @module
 */

import { fromBase64Url } from "../../crypto/codec.ts";
import { type EnvelopeJson, TAG_BYTES } from "../../crypto/envelope.ts";
import type { AttackContext } from "./context.ts";
import {
  flipBinaryBit,
  flipCharBit,
  patchEnvelope,
  relabelledSuiteCode,
  signatureFits,
} from "./envelope_edit.ts";
import type { SecureAttackExpectation } from "./options.ts";
import { type AttackMessage, type AttackRecipe, syntheticField } from "./recipe.ts";

/** The fields `bitflip` flips a bit of, one per variant. */
const BITFLIP_FIELDS = [
  "ciphertext",
  "nonce",
  "tag",
  "wrapped_key",
  "counter",
  "ts",
  "sender",
  "sig",
  "msg_id",
  "suite",
] as const;

/**
 * `bitflip`: one flipped bit in one field; every binary field stays canonical base64url of the same length.
 * @example
 * ```ts
 * const message = await bitflip.build(ctx, "nonce", 1);
 * ```
 */
export const bitflip: AttackRecipe = {
  level: "envelope",
  plan: () => BITFLIP_FIELDS,
  async build(ctx, variant, i) {
    const t = await ctx.template(i);
    return { ...flipOneBit(ctx, t.json, variant, i), fields: syntheticField(t) };
  },
};

function flipOneBit(
  ctx: AttackContext,
  env: EnvelopeJson,
  variant: string,
  i: number,
): Omit<AttackMessage, "fields"> {
  const signatureFailure = (ts: number) => ctx.afterTimestamp(ts, "BAD_SIGNATURE");
  const out = (patch: Partial<EnvelopeJson>, expect: SecureAttackExpectation) => ({
    payload: patchEnvelope(env, patch),
    expect,
  });
  const ctLength = fromBase64Url(env.ciphertext).length;
  switch (variant) {
    case "ciphertext": {
      // The body before the tag; with an empty plaintext there is only the tag.
      const bodyEnd = ctLength > TAG_BYTES ? ctLength - TAG_BYTES : ctLength;
      return out({ ciphertext: flipBinaryBit(env.ciphertext, i, 0, bodyEnd) }, signatureFailure(env.ts));
    }
    case "tag":
      return out(
        { ciphertext: flipBinaryBit(env.ciphertext, i, ctLength - TAG_BYTES) },
        signatureFailure(env.ts),
      );
    case "nonce":
      return out({ nonce: flipBinaryBit(env.nonce, i) }, signatureFailure(env.ts));
    case "wrapped_key":
      return out({ wrapped_key: flipBinaryBit(env.wrapped_key, i) }, signatureFailure(env.ts));
    case "counter":
      return out(
        { counter: env.counter % 2 === 0 ? env.counter + 1 : env.counter - 1 },
        signatureFailure(env.ts),
      );
    case "ts": {
      // The lowest bit: the envelope stays inside the window, so the signature is what fails.
      const ts = env.ts % 2 === 0 ? env.ts + 1 : env.ts - 1;
      return out({ ts }, signatureFailure(ts));
    }
    case "sender":
      return out({ sender: flipCharBit(env.sender, i) }, "UNKNOWN_SENDER");
    case "msg_id":
      return out({ msg_id: flipCharBit(env.msg_id, i) }, signatureFailure(env.ts));
    case "suite": {
      const suite = flipCharBit(env.suite, i);
      return out({ suite }, relabelledSuiteCode(env, suite));
    }
    default: {
      // sig: the length is unchanged, so the shape check passes even if the DER no longer parses.
      const sig = flipBinaryBit(env.sig, i);
      return out(
        { sig },
        signatureFits(env.suite, fromBase64Url(sig).length) ? signatureFailure(env.ts) : "MALFORMED",
      );
    }
  }
}

/**
 * `bad-session-key`: the session key of another capture (`swapped-from-other`, when two differ), or one
 * of the attacker's own, correctly wrapped and used, under the captured signature (`rewrapped-random`).
 * @example
 * ```ts
 * const message = await badSessionKey.build(ctx, "rewrapped-random", 1);
 * ```
 */
export const badSessionKey: AttackRecipe = {
  level: "envelope",
  plan(ctx) {
    const keys = new Set(ctx.envelopes.map((e) => e.json.wrapped_key));
    return keys.size > 1 ? ["swapped-from-other", "rewrapped-random"] : ["rewrapped-random"];
  },
  async build(ctx, variant, i) {
    const t = await ctx.template(i);
    const env = t.json;
    // The wrapped key is signed: any other key than the sender's fails the signature.
    const expect = () => ctx.afterTimestamp(env.ts, "BAD_SIGNATURE");
    if (variant === "swapped-from-other") {
      const donor = ctx.envelopes.findLast((e) => e.json.wrapped_key !== env.wrapped_key)!;
      const payload = patchEnvelope(env, { wrapped_key: donor.json.wrapped_key });
      return { payload, expect: expect(), fields: syntheticField(t) };
    }
    const { json } = await ctx.craft({
      suite: env.suite,
      sender: env.sender,
      counter: env.counter,
      ts: env.ts,
      msgId: env.msg_id,
      topic: ctx.options.topic,
    });
    return { payload: patchEnvelope(json, { sig: env.sig }), expect: expect(), fields: syntheticField(t) };
  },
};
