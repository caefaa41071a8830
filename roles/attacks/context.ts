/**
 * What every attack module may use while building a message: the captured envelopes (or a synthetic one),
 * the attacker's own signing keys, fresh counters and timestamps, randomness, envelopes crafted from
 * scratch, and the honest expectation for an envelope given the actuator's check order.
 * @module
 */

import type { Clock } from "../../core/clock.ts";
import {
  type EnvelopeJson,
  newEpochKey,
  type RandomBytes,
  seal,
  type Suite,
  SUITE_DSA,
  SUITE_ED25519,
  SUITE_SIGNATURE_SCHEME,
  TIMESTAMP_WINDOW_MS,
} from "../../crypto/envelope.ts";
import {
  type DsaDomain,
  generateSignatureKeyPair,
  type SignatureKeyPair,
  type SignatureScheme,
  type SigningKey,
} from "../../crypto/signature.ts";
import { type DoorReading, encodeReading } from "../door.ts";
import type { Template } from "./capture.ts";
import { type CraftFields, craftUnsigned } from "./craft.ts";
import { readEnvelope } from "./envelope_edit.ts";
import type { SecureAttackerDeps, SecureAttackExpectation, SecureAttackOptions } from "./options.ts";

/** Added to the highest captured counter for messages the attacker builds from scratch. */
export const FRESH_COUNTER_OFFSET = 1_000_000;
/**
 * A capture younger than this may still be in the actuator's queue; verbatim replays prefer older ones
 * so `REPLAY` (not a race with the original) is the honest expectation.
 */
export const REPLAY_SETTLE_MS = 50;

/** The attacker's view of one run, shared by every attack module. */
export interface AttackContext {
  readonly options: SecureAttackOptions;
  readonly randomBytes: RandomBytes;
  /** The home's DSA domain, when the attacker was given it. */
  readonly dsaDomain?: DsaDomain;
  /** The attacker's own broker account. */
  readonly ownCredentials: { username: string; password: string };
  /** Envelopes captured on the victim topic, oldest first. */
  readonly envelopes: readonly Template[];
  /** Wall clock and waits, for probes that watch a connection for a while. */
  readonly clock: Clock;
  /** Opens a fresh broker connection (probes). */
  readonly connect: SecureAttackerDeps["connect"];
  /** Opens a raw byte stream to the broker, when the run can (`preauth-oversize`). */
  readonly openStream?: SecureAttackerDeps["openStream"];
  /** The on-path relay a device was pointed at, if any (`credential-sniff`). */
  readonly relay?: SecureAttackerDeps["relay"];
  /** Whether `restartVictimOnce` can restart anything. */
  readonly canRestartVictim: boolean;
  /** The freshest settled capture, rotating over the last `captureCount`; synthetic when none came. */
  template(pick: number): Promise<Template>;
  /** A key pair of the attacker's own, made once; `undefined` for DSA without the home's domain. */
  ownKey(scheme: SignatureScheme): Promise<SignatureKeyPair> | undefined;
  /** Now, in whole ms. */
  now(): number;
  /** A plausible door reading, as a Phase I sensor would publish it. */
  reading(sender: string, counter: number, msgId: string): Uint8Array;
  /** A counter far above anything captured, distinct per attempt `i`. */
  freshCounter(i: number): number;
  /** Steps 4 onwards of open(): a timestamp outside the window is reported before `then`. */
  afterTimestamp(ts: number, then: SecureAttackExpectation): SecureAttackExpectation;
  /** A held envelope republished unchanged: the actuator accepted it once, so REPLAY. */
  verbatimExpectation(t: Template): SecureAttackExpectation;
  /**
   * A well-formed envelope for `fields.sender`, encrypted under a fresh random session key wrapped to the
   * actuator, with `sig` still empty: the JSON and the bytes a signer would sign.
   */
  craft(fields: CraftFields): Promise<{ json: EnvelopeJson; signed: Uint8Array }>;
  /** A correct envelope on the victim topic, timestamped now, sealed with one of the attacker's keys. */
  sealAsAttacker(
    fields: { suite: Suite; sender: string; counter: number; msgId: string; signingKey: SigningKey },
  ): Promise<Uint8Array>;
  /** Restarts the victim the first time it is asked (after every publish in flight settled); then no-op. */
  restartVictimOnce(cls: string, attackId: string): Promise<void>;
}

const defaultRandomBytes: RandomBytes = (n) => crypto.getRandomValues(new Uint8Array(n));

/**
 * Builds the context of one run over the envelopes being captured. `drain` settles every publish in
 * flight (so a victim restart does not race them).
 * @example
 * ```ts
 * const ctx = createAttackContext(options, deps, capture.envelopes, () => publisher.drain());
 * const t = await ctx.template(1);
 * ```
 */
export function createAttackContext(
  options: SecureAttackOptions,
  deps: SecureAttackerDeps,
  envelopes: readonly Template[],
  drain: () => Promise<void>,
): AttackContext {
  const { clock, log } = deps;
  const randomBytes = deps.randomBytes ?? defaultRandomBytes;
  const windowMs = options.timestampWindowMs ?? TIMESTAMP_WINDOW_MS;
  const fallbackSender = options.fallbackSender ?? "door-sensor-1";
  const now = () => Math.round(clock.now());

  const ownKeys = new Map<SignatureScheme, Promise<SignatureKeyPair>>();
  const ownKey = (scheme: SignatureScheme): Promise<SignatureKeyPair> | undefined => {
    if (scheme === "dsa-2048" && deps.dsaDomain === undefined) return undefined;
    let pair = ownKeys.get(scheme);
    if (pair === undefined) {
      pair = generateSignatureKeyPair(scheme, deps.dsaDomain);
      ownKeys.set(scheme, pair);
    }
    return pair;
  };

  const reading = (sender: string, counter: number, msgId: string): Uint8Array =>
    encodeReading(
      {
        sensor_id: sender,
        event: "open",
        timestamp: now(),
        counter,
        temperature: 21,
        status: "ok",
        msg_id: msgId,
      } satisfies DoorReading,
    );

  const sealAsAttacker: AttackContext["sealAsAttacker"] = async (fields) =>
    seal({
      topic: options.topic,
      sender: fields.sender,
      counter: fields.counter,
      ts: now(),
      msgId: fields.msgId,
      plaintext: reading(fields.sender, fields.counter, fields.msgId),
      suite: fields.suite,
      signingKey: fields.signingKey,
      epochKey: await newEpochKey(deps.actuatorPublicKey, randomBytes),
      randomBytes,
    });

  let synthetic: Template | undefined;
  const template = async (pick: number): Promise<Template> => {
    if (envelopes.length > 0) {
      const settled = envelopes.filter((e) => e.at <= clock.now() - REPLAY_SETTLE_MS);
      const pool = (settled.length > 0 ? settled : envelopes).slice(-Math.max(1, options.captureCount));
      return pool[pool.length - 1 - (pick % pool.length)];
    }
    if (synthetic === undefined) {
      const suite: Suite = deps.dsaDomain !== undefined ? SUITE_DSA : SUITE_ED25519;
      const pair = await ownKey(SUITE_SIGNATURE_SCHEME[suite])!;
      const payload = await sealAsAttacker({
        suite,
        sender: fallbackSender,
        counter: FRESH_COUNTER_OFFSET,
        msgId: "s-synthetic-template",
        signingKey: pair.signingKey,
      });
      synthetic = { payload, json: readEnvelope(payload)!, at: clock.now(), synthetic: true };
    }
    return synthetic;
  };

  const afterTimestamp = (ts: number, then: SecureAttackExpectation): SecureAttackExpectation => {
    const t = clock.now();
    if (ts < t - windowMs) return "STALE";
    if (ts > t + windowMs) return "FUTURE";
    return then;
  };

  const craft = (fields: CraftFields) =>
    craftUnsigned(fields, reading(fields.sender, fields.counter, fields.msgId), {
      actuatorPublicKey: deps.actuatorPublicKey,
      randomBytes,
    });

  let restarted = false;
  const restartVictimOnce = async (cls: string, attackId: string): Promise<void> => {
    if (restarted || deps.restartVictim === undefined) return;
    restarted = true;
    await drain();
    await deps.restartVictim();
    log.event("victim_restarted", { phase: "secure", class: cls, attack_id: attackId });
  };

  return {
    options,
    randomBytes,
    dsaDomain: deps.dsaDomain,
    ownCredentials: deps.ownCredentials,
    clock,
    connect: deps.connect,
    openStream: deps.openStream,
    relay: deps.relay,
    envelopes,
    canRestartVictim: deps.restartVictim !== undefined,
    template,
    ownKey,
    now,
    reading,
    freshCounter: (i) => Math.max(0, ...envelopes.map((e) => e.json.counter)) + FRESH_COUNTER_OFFSET + i,
    afterTimestamp,
    verbatimExpectation: (t) => afterTimestamp(t.json.ts, t.synthetic ? "BAD_SIGNATURE" : "REPLAY"),
    craft,
    sealAsAttacker,
    restartVictimOnce,
  };
}
