/**
 * Broker-level attempts, each on a connection of its own: logging in with no credentials, with a victim's
 * username and a guessed password, and publishing with the attacker's own account where its ACL forbids.
 * @module
 */

import { toBase64Url } from "../../crypto/codec.ts";
import type { AttackContext } from "./context.ts";
import { patchEnvelope } from "./envelope_edit.ts";
import type { AttackMessage, AttackRecipe, BrokerAttempt } from "./recipe.ts";

/** A client id of its own per attempt, so no attempt takes over another's session. */
function clientIdOf(ctx: AttackContext, cls: string, i: number): string {
  return `mallory-${cls}-${i}-${toBase64Url(ctx.randomBytes(4))}`;
}

/**
 * Should the broker let a stranger in after all, a capture is published as evidence and the record says
 * so (`broker_accepted`); metrics decides the rest.
 */
async function evidence(ctx: AttackContext, i: number): Promise<AttackMessage> {
  const t = await ctx.template(i);
  return { payload: t.payload, expect: ctx.verbatimExpectation(t), fields: { broker_accepted: true } };
}

/**
 * A stranger's attempt with what `credentials` gives (called after the client id is drawn); the broker
 * should refuse the connection.
 */
function strangerAttempt(
  ctx: AttackContext,
  cls: string,
  i: number,
  credentials: () => BrokerAttempt["credentials"],
): BrokerAttempt {
  const clientId = clientIdOf(ctx, cls, i);
  return { clientId, credentials: credentials(), qos: ctx.options.qos, message: () => evidence(ctx, i) };
}

/**
 * `anonymous-connect`: a connection with no username or password.
 * @example
 * ```ts
 * const attempt = anonymousConnect.build(ctx, "no-credentials", 1);
 * ```
 */
export const anonymousConnect: AttackRecipe = {
  level: "broker",
  plan: () => ["no-credentials"],
  build: (ctx, _variant, i) => strangerAttempt(ctx, "anonymous-connect", i, () => ({})),
};

/**
 * `wrong-password`: the victim's username with a random password, new each attempt.
 * @example
 * ```ts
 * const attempt = wrongPassword.build(ctx, "random-password", 1);
 * ```
 */
export const wrongPassword: AttackRecipe = {
  level: "broker",
  plan: () => ["random-password"],
  build: (ctx, _variant, i) =>
    strangerAttempt(ctx, "wrong-password", i, () => ({
      username: ctx.options.victimUsername,
      password: toBase64Url(ctx.randomBytes(18)),
    })),
};

/**
 * `acl-violation`: the attacker's own account, on a fresh connection, publishing to a topic outside its
 * ACL. The broker should drop the publish, so the actuator never sees it.
 * @example
 * ```ts
 * const attempt = aclViolation.build(ctx, "denied-topic", 1);
 * ```
 */
export const aclViolation: AttackRecipe = {
  level: "broker",
  plan: () => ["denied-topic"],
  build: (ctx, _variant, i) => ({
    clientId: clientIdOf(ctx, "acl-violation", i),
    credentials: { username: ctx.ownCredentials.username, password: ctx.ownCredentials.password },
    // QoS 0 because some brokers drop the connection on a denied QoS 1 publish.
    qos: 0,
    async message() {
      // A capture with its counter bumped, so its digest is this attempt's own: the actuator must never
      // log it.
      const t = await ctx.template(i);
      return {
        topic: ctx.options.aclViolationTopic,
        payload: patchEnvelope(t.json, { counter: t.json.counter + 1 + i }),
        expect: "BROKER_DENIED",
      };
    },
  }),
};
