/**
 * Replays: a captured envelope republished as it is, on its own topic (also after the actuator restarted)
 * or on another topic the actuator listens on.
 * @module
 */

import { attackIdOf, type AttackRecipe, syntheticField } from "./recipe.ts";

/**
 * `replay`: the same bytes again. The actuator accepted them once; its persistent counter must refuse
 * them, also after it restarted (`after-restart`, when the run may restart it).
 * @example
 * ```ts
 * const message = await replay.build(ctx, "verbatim", 1);
 * ```
 */
export const replay: AttackRecipe = {
  level: "envelope",
  plan: (ctx) => ctx.canRestartVictim ? ["verbatim", "after-restart"] : ["verbatim"],
  async build(ctx, variant, i) {
    const t = await ctx.template(i);
    if (variant === "after-restart") await ctx.restartVictimOnce("replay", attackIdOf("replay", i));
    // Picked again: the restart took time, so a younger capture may have settled meanwhile.
    const fresh = await ctx.template(i);
    return { payload: fresh.payload, expect: ctx.verbatimExpectation(fresh), fields: syntheticField(t) };
  },
};

/**
 * `cross-topic-replay`: the same bytes on another topic. On another device's topic (the default: the
 * attacker's own) the receiver's topic binding refuses it before anything else (TOPIC_MISMATCH); on any
 * other topic the actuator hears, the topic is signed and in the AAD, so the signature fails there.
 * @example
 * ```ts
 * const message = await crossTopicReplay.build(ctx, "verbatim", 1);
 * ```
 */
export const crossTopicReplay: AttackRecipe = {
  level: "envelope",
  plan: () => ["verbatim"],
  async build(ctx, _variant, i) {
    const t = await ctx.template(i);
    return {
      topic: ctx.options.crossTopic,
      payload: t.payload,
      expect: ctx.afterTimestamp(t.json.ts, "BAD_SIGNATURE"), // TOPIC_MISMATCH first: see AttackPublisher
      fields: syntheticField(t),
    };
  },
};
