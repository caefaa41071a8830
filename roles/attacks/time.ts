/**
 * Time shifts: a captured envelope with its timestamp moved outside the actuator's window. The timestamp
 * check (step 4 of open()) comes before the signature, so the broken signature is never reached.
 * @module
 */

import { patchEnvelope } from "./envelope_edit.ts";
import { type AttackRecipe, syntheticField } from "./recipe.ts";

/** How far `stale-timestamp` and `future-timestamp` move `ts`: 10 minutes, far outside any sane window. */
export const TIME_SHIFT_MS = 10 * 60_000;

/**
 * `stale-timestamp`: ten minutes in the past, or the epoch.
 * @example
 * ```ts
 * const message = await staleTimestamp.build(ctx, "epoch-zero", 1);
 * ```
 */
export const staleTimestamp: AttackRecipe = {
  level: "envelope",
  plan: () => ["minus-10min", "epoch-zero"],
  async build(ctx, variant, i) {
    const t = await ctx.template(i);
    const ts = variant === "epoch-zero" ? 0 : ctx.now() - TIME_SHIFT_MS;
    return { payload: patchEnvelope(t.json, { ts }), expect: "STALE", fields: syntheticField(t) };
  },
};

/**
 * `future-timestamp`: ten minutes ahead, or the largest safe integer.
 * @example
 * ```ts
 * const message = await futureTimestamp.build(ctx, "max-safe", 1);
 * ```
 */
export const futureTimestamp: AttackRecipe = {
  level: "envelope",
  plan: () => ["plus-10min", "max-safe"],
  async build(ctx, variant, i) {
    const t = await ctx.template(i);
    const ts = variant === "max-safe" ? Number.MAX_SAFE_INTEGER : ctx.now() + TIME_SHIFT_MS;
    return { payload: patchEnvelope(t.json, { ts }), expect: "FUTURE", fields: syntheticField(t) };
  },
};
