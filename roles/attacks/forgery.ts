/**
 * Forgeries: envelopes the attacker makes itself — unsigned, signed with its own keys, or carrying a
 * signature it did not make for them. None can carry a valid signature of the sender's key.
 * @module
 */

import { fromBase64Url, toBase64Url, utf8Encode } from "../../crypto/codec.ts";
import { encodeSignatureDer } from "../../crypto/dsa.ts";
import { type Suite, SUITE_DSA, SUITE_ED25519, SUITE_SIGNATURE_SCHEME } from "../../crypto/envelope.ts";
import { SIGNATURE_BYTES, signMessage } from "../../crypto/signature.ts";
import type { AttackContext } from "./context.ts";
import { encodeEnvelope, isSuite, patchEnvelope, signatureFits } from "./envelope_edit.ts";
import type { SecureAttackExpectation } from "./options.ts";
import { attackIdOf, type AttackRecipe, syntheticField } from "./recipe.ts";

/**
 * `inject-unsigned`: a fresh, correctly encrypted envelope in the sender's name with no signature, an
 * empty one, or zeros of the right length.
 * @example
 * ```ts
 * const message = await injectUnsigned.build(ctx, "zero-sig", 1);
 * ```
 */
export const injectUnsigned: AttackRecipe = {
  level: "envelope",
  plan: () => ["zero-sig", "no-sig", "empty-sig"],
  async build(ctx, variant, i) {
    const env = (await ctx.template(i)).json;
    const { json } = await ctx.craft({
      suite: env.suite,
      sender: env.sender,
      counter: ctx.freshCounter(i),
      ts: ctx.now(),
      msgId: attackIdOf("inject-unsigned", i),
      topic: ctx.options.topic,
    });
    if (variant === "no-sig") {
      const record: Record<string, unknown> = { ...json };
      delete record.sig;
      return { payload: utf8Encode(JSON.stringify(record)), expect: "MALFORMED" };
    }
    if (variant === "empty-sig") return { payload: encodeEnvelope(json), expect: "MALFORMED" };
    // Zeros of the captured signature's length: valid shape, never a valid signature.
    const sigLength = fromBase64Url(env.sig).length;
    return {
      payload: patchEnvelope(json, { sig: toBase64Url(new Uint8Array(sigLength)) }),
      expect: signatureFits(env.suite, sigLength)
        ? ctx.afterTimestamp(json.ts, "BAD_SIGNATURE")
        : "MALFORMED",
    };
  },
};

/**
 * `spoof-own-key`: a correct envelope signed with a key of the attacker's own — in the sender's name
 * (`own-key`), in the attacker's own name (`own-identity`), or under the suite the sender does not use
 * (`other-suite`, only when the attacker can make a key of that scheme).
 * @example
 * ```ts
 * const message = await spoofOwnKey.build(ctx, "own-key", 1);
 * ```
 */
export const spoofOwnKey: AttackRecipe = {
  level: "envelope",
  async plan(ctx) {
    const t = await ctx.template(0);
    const other = t.json.suite === SUITE_DSA ? "ed25519" : "dsa-2048";
    return ctx.ownKey(other) !== undefined
      ? ["own-key", "own-identity", "other-suite"]
      : ["own-key", "own-identity"];
  },
  async build(ctx, variant, i) {
    const env = (await ctx.template(i)).json;
    const counter = ctx.freshCounter(i);
    const msgId = attackIdOf("spoof-own-key", i);
    if (variant === "own-key" || variant === "own-identity") {
      const sender = variant === "own-key" ? env.sender : ctx.ownCredentials.username;
      const suite = env.suite;
      const scheme = isSuite(suite) ? SUITE_SIGNATURE_SCHEME[suite] : "ed25519";
      // Without the home's DSA domain the attacker signs with Ed25519: 64 bytes still fit the DSA range.
      const pair = await (ctx.ownKey(scheme) ?? ctx.ownKey("ed25519")!);
      const topic = ctx.options.topic;
      const { json, signed } = await ctx.craft({ suite, sender, counter, ts: ctx.now(), msgId, topic });
      const sig = await signMessage(pair.signingKey, signed);
      const expect: SecureAttackExpectation = !signatureFits(suite, sig.length)
        ? "MALFORMED"
        : variant === "own-identity"
        ? "UNKNOWN_SENDER"
        : ctx.afterTimestamp(json.ts, "BAD_SIGNATURE");
      return {
        payload: patchEnvelope(json, { sig: toBase64Url(sig) }),
        expect,
        fields: { signed_with: pair.signingKey.scheme },
      };
    }
    // other-suite: the sender is registered for one suite only.
    const suite: Suite = env.suite === SUITE_DSA ? SUITE_ED25519 : SUITE_DSA;
    const pair = await ctx.ownKey(SUITE_SIGNATURE_SCHEME[suite])!;
    const payload = await ctx.sealAsAttacker({
      suite,
      sender: env.sender,
      counter,
      msgId,
      signingKey: pair.signingKey,
    });
    return { payload, expect: "UNSUPPORTED", fields: { signed_with: pair.signingKey.scheme } };
  },
};

/**
 * `forged-signature`: a captured envelope with its counter bumped, carrying a random signature of valid
 * shape (`random-sig`) or the original one (`reused-sig`).
 * @example
 * ```ts
 * const message = await forgedSignature.build(ctx, "random-sig", 1);
 * ```
 */
export const forgedSignature: AttackRecipe = {
  level: "envelope",
  plan: () => ["random-sig", "reused-sig"],
  async build(ctx, variant, i) {
    const t = await ctx.template(i);
    const env = t.json;
    const sig = variant === "random-sig" ? toBase64Url(randomSignature(ctx, env.suite)) : env.sig;
    const length = fromBase64Url(sig).length;
    return {
      payload: patchEnvelope(env, { counter: env.counter + 1, sig }),
      expect: signatureFits(env.suite, length) ? ctx.afterTimestamp(env.ts, "BAD_SIGNATURE") : "MALFORMED",
      fields: syntheticField(t),
    };
  },
};

/** Random bytes of an Ed25519 signature's length, or a random DSA signature of valid DER shape. */
function randomSignature(ctx: AttackContext, suite: string): Uint8Array {
  if (suite === SUITE_ED25519) return ctx.randomBytes(SIGNATURE_BYTES.ed25519.max);
  // r, s uniform in [1, q) (or 256-bit without the home's domain).
  const q = ctx.dsaDomain?.q ?? (1n << 256n);
  const draw = () => {
    let n = 0n;
    for (const b of ctx.randomBytes(40)) n = (n << 8n) | BigInt(b);
    return (n % (q - 1n)) + 1n;
  };
  return encodeSignatureDer({ r: draw(), s: draw() });
}
