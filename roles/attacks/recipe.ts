/**
 * What an attack class is made of: a `plan` that lists its variants and a `build` that makes one attempt,
 * and what a build produces — a message for the main connection, a broker-level attempt, or a probe that
 * runs its own connections and judges its own outcome.
 * @module
 */

import type { Template } from "./capture.ts";
import type { AttackContext } from "./context.ts";
import type { SecureAttackExpectation } from "./options.ts";

/** One malicious message, ready to publish (its class and variant are the driver's to add). */
export interface AttackMessage {
  /** Where it goes (default: the victim topic, `options.topic`). */
  topic?: string;
  payload: Uint8Array;
  /** The code the attacker predicts; a test oracle, never a verdict. */
  expect: SecureAttackExpectation;
  /** Extra `attack_sent` fields (docs/LOG.md): `synthetic`, `signed_with`, `to_suite`, `broker_accepted`. */
  fields?: Record<string, unknown>;
}

/** One broker-level attempt: a connection of its own, and what to publish if the broker lets it in. */
export interface BrokerAttempt {
  clientId: string;
  credentials: { username?: string; password?: string };
  qos: 0 | 1;
  /** Built only once connected, so a refused attempt costs nothing more. */
  message: () => Promise<AttackMessage>;
}

/**
 * What a probe saw: the attack worked (`succeeded`, with its evidence), or something stopped it (`code`,
 * the broker's answer or what the attacker observed instead). Fields go into the outcome record
 * (docs/LOG.md, `attack_succeeded` / `attack_refused`) and must never hold a secret.
 */
export type ProbeOutcome =
  | { succeeded: true; fields: Record<string, unknown> }
  | { succeeded: false; code: string; fields: Record<string, unknown> };

/**
 * One probe attempt: the defence expected to stop it (`expect`, a test oracle like `attack_sent`'s) and
 * how to run it. Running never throws: every failure is an outcome.
 */
export interface ProbeAttempt {
  expect: string;
  run: () => Promise<ProbeOutcome>;
}

/** The variants a class can run right now, in the order attempts rotate through them. */
export type PlanVariants = (ctx: AttackContext) => readonly string[] | Promise<readonly string[]>;

/**
 * How one attack class works: `plan` lists its variants, `build` makes attempt `i` of a variant.
 * An envelope-level class builds a message for the attacker's main connection; a broker-level class
 * builds a connection attempt of its own; a probe builds an attempt that runs itself (several connections,
 * a raw socket, a look at an on-path relay) and reports its outcome. A new class is one recipe plus one entry in `catalogue.ts`.
 * @example
 * ```ts
 * export const zeroCounter: AttackRecipe = {
 *   level: "envelope",
 *   plan: () => ["zero"],
 *   async build(ctx, _variant, i) {
 *     const t = await ctx.template(i);
 *     const payload = patchEnvelope(t.json, { counter: 0 });
 *     return { payload, expect: ctx.afterTimestamp(t.json.ts, "BAD_SIGNATURE") };
 *   },
 * };
 * ```
 */
export type AttackRecipe =
  | {
    level: "envelope";
    plan: PlanVariants;
    build: (ctx: AttackContext, variant: string, i: number) => Promise<AttackMessage>;
  }
  | {
    level: "broker";
    plan: PlanVariants;
    build: (ctx: AttackContext, variant: string, i: number) => BrokerAttempt;
  }
  | {
    level: "probe";
    plan: PlanVariants;
    build: (ctx: AttackContext, variant: string, i: number) => ProbeAttempt;
  };

/**
 * The `attack_id` of attempt `i` of a class.
 * @example
 * ```ts
 * attackIdOf("replay", 3); // "s-replay-3"
 * ```
 */
export function attackIdOf(cls: string, i: number): string {
  return `s-${cls}-${i}`;
}

/**
 * The `synthetic` flag a message built from `t` carries in its `attack_sent` record, if any.
 * @example
 * ```ts
 * return { payload, expect: "STALE", fields: syntheticField(t) };
 * ```
 */
export function syntheticField(t: Template): { synthetic: true } | undefined {
  return t.synthetic ? { synthetic: true } : undefined;
}
