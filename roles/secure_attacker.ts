/**
 * The Phase II attacker: a broker client with its own account (`mallory`) that eavesdrops on `#`,
 * captures the sensor's envelopes, and then tries every attack class of docs/LOG.md against the secure
 * home — replays, forgeries, bit flips, time shifts, key swaps, downgrades, malformed input, and
 * broker-level attempts (anonymous login, a stolen username, a topic outside its ACL).
 *
 * Every malicious message is logged as `attack_sent` with its wire digest and an `expect` field: the
 * reason code `open()` should answer, worked out from what the attacker knows (the captured envelope, the
 * clock, the protocol's check order). `expect` is a test oracle only; `metrics` never trusts it and
 * judges success from the actuator's own log. The attacker never reads private keys or other accounts'
 * credentials: it knows the actuator's RSA public key, the home's DSA domain and its own password.
 * @module
 */

import type { Clock } from "../core/clock.ts";
import { payloadDigest } from "../core/digest.ts";
import { aesGcmEncrypt, importAesKey } from "../crypto/aes.ts";
import { fromBase64Url, toBase64Url, utf8Decode, utf8Encode } from "../crypto/codec.ts";
import { encodeSignatureDer } from "../crypto/dsa.ts";
import {
  ENVELOPE_MAX_BYTES,
  envelopeAssociatedData,
  type EnvelopeJson,
  envelopeSignedBytes,
  newEpochKey,
  NONCE_BYTES,
  type RandomBytes,
  type ReasonCode,
  seal,
  serializeEnvelope,
  type Suite,
  SUITE_DSA,
  SUITE_ED25519,
  SUITE_SIGNATURE_SCHEME,
  SUITES,
  TAG_BYTES,
  TIMESTAMP_WINDOW_MS,
} from "../crypto/envelope.ts";
import { SESSION_KEY_BYTES, wrapSessionKey } from "../crypto/rsa.ts";
import {
  type DsaDomain,
  generateSignatureKeyPair,
  SIGNATURE_BYTES,
  type SignatureKeyPair,
  type SignatureScheme,
  signMessage,
} from "../crypto/signature.ts";
import { Log, type LogRecord } from "../log/jsonl.ts";
import { type MqttTransport, TransportError } from "../transport/client.ts";
import { sendAttack, startEavesdropping } from "./attacker.ts";
import { decodeReading, type DoorReading, encodeReading, SECURE_TOPIC } from "./door.ts";

/**
 * Phase II attack classes, in the order they run (stable names, used in logs and metrics).
 * @example
 * ```ts
 * const classes = SECURE_ATTACK_CLASSES.filter((c) => c !== "acl-violation");
 * ```
 */
export const SECURE_ATTACK_CLASSES = [
  "replay",
  "cross-topic-replay",
  "inject-unsigned",
  "spoof-own-key",
  "forged-signature",
  "bitflip",
  "stale-timestamp",
  "future-timestamp",
  "bad-session-key",
  "downgrade",
  "malformed",
  "anonymous-connect",
  "wrong-password",
  "acl-violation",
] as const;
/** One Phase II attack class. */
export type SecureAttackClass = typeof SECURE_ATTACK_CLASSES[number];

/**
 * What the attacker expects to happen to one malicious message: the reason code the actuator's `open()`
 * should give, or `BROKER_DENIED` when the broker should never deliver it.
 */
export type SecureAttackExpectation = ReasonCode | "BROKER_DENIED";

/** How far `stale-timestamp` and `future-timestamp` move `ts`: 10 minutes, far outside any sane window. */
export const TIME_SHIFT_MS = 10 * 60_000;
/** Size of the `malformed/oversize` payload: 64 KiB, eight times {@link ENVELOPE_MAX_BYTES}. */
export const OVERSIZE_PAYLOAD_BYTES = 64 * 1024;
/** Depth of the `malformed/nested` JSON arrays. */
export const NESTING_DEPTH = 10_000;
/** Size of the `malformed/garbage` payload. */
export const GARBAGE_PAYLOAD_BYTES = 512;
/** Added to the highest captured counter for messages the attacker builds from scratch. */
export const FRESH_COUNTER_OFFSET = 1_000_000;
/**
 * A capture younger than this may still be in the actuator's queue; verbatim replays prefer older ones
 * so `REPLAY` (not a race with the original) is the honest expectation.
 */
export const REPLAY_SETTLE_MS = 50;
/** Longest wait for a broker-level connection to close before moving on. */
export const CLOSE_TIMEOUT_MS = 1_000;
/** Default bound on publishes awaiting their acknowledgement at once. */
export const DEFAULT_MAX_IN_FLIGHT = 16;
/** Poll interval while waiting for captures. */
export const CAPTURE_POLL_MS = 20;

/** Attacker behaviour. */
export interface SecureAttackOptions {
  /** Classes to run, in this order (default all of {@link SECURE_ATTACK_CLASSES}). */
  classes: readonly SecureAttackClass[];
  /** Attempts per class, broker-level classes included. */
  attempts: number;
  /** Topic the victim listens on (default {@link SECURE_TOPIC}). */
  topic: string;
  /** Give up waiting for `captureCount` envelopes after this long. */
  captureTimeoutMs: number;
  /** Envelopes on `topic` to capture before attacking (default 3). */
  captureCount: number;
  /** Ms between attempts (0 = none). */
  gapMs: number;
  /** Publish QoS. */
  qos: 0 | 1;
  /** Broker the attacker is on; logged only (connections come from deps). */
  brokerUrl: string;
  /** A victim's broker username, tried with a random password by `wrong-password`. */
  victimUsername: string;
  /** A topic outside the attacker's ACL, for `acl-violation` (default `home/secure/window`). */
  aclViolationTopic: string;
  /** Another topic the actuator listens on, for `cross-topic-replay` (default `home/secure/door/garage`). */
  crossTopic: string;
  /** The actuator's timestamp window, to compute honest expectations (default {@link TIMESTAMP_WINDOW_MS}). */
  timestampWindowMs?: number;
  /** Sender id assumed when nothing was captured (default `door-sensor-1`). */
  fallbackSender?: string;
  /** Malicious publishes awaiting the broker's acknowledgement at once (default {@link DEFAULT_MAX_IN_FLIGHT}). */
  maxInFlight?: number;
}

/**
 * Default Phase II options.
 * @example
 * ```ts
 * const options = { ...DEFAULT_SECURE_ATTACK, attempts: 70, victimUsername: "door-sensor-1" };
 * ```
 */
export const DEFAULT_SECURE_ATTACK: SecureAttackOptions = {
  classes: SECURE_ATTACK_CLASSES,
  attempts: 5,
  topic: SECURE_TOPIC,
  captureTimeoutMs: 10_000,
  captureCount: 3,
  gapMs: 1,
  qos: 1,
  brokerUrl: "mqtt://127.0.0.1:1883",
  victimUsername: "door-sensor-1",
  aclViolationTopic: "home/secure/window",
  crossTopic: "home/secure/door/garage",
  timestampWindowMs: TIMESTAMP_WINDOW_MS,
  fallbackSender: "door-sensor-1",
  maxInFlight: DEFAULT_MAX_IN_FLIGHT,
};

/** A broker connection the attacker opens for one broker-level attempt. */
export type AttackConnection = Pick<MqttTransport, "publish" | "close">;

/** What the Phase II attacker needs from the outside world. */
export interface SecureAttackerDeps {
  /** Wall clock and waits. */
  clock: Clock;
  /** The attacker's log. */
  log: Log;
  /** The attacker's main connection, logged in as its own account. */
  transport: Pick<MqttTransport, "publish" | "subscribe" | "onMessage">;
  /** Opens a fresh broker connection (for broker-level attempts); rejects with {@link TransportError}. */
  connect: (opts: { username?: string; password?: string; clientId: string }) => Promise<AttackConnection>;
  /** The attacker's own broker account (for `acl-violation`, one fresh connection per attempt). */
  ownCredentials: { username: string; password: string };
  /** The actuator's RSA-OAEP public key (public in the keys directory). */
  actuatorPublicKey: CryptoKey;
  /** The home's DSA domain (public); lets the attacker make DSA keys of its own. */
  dsaDomain?: DsaDomain;
  /** Restarts the victim; when given, `replay/after-restart` calls it once and then replays. */
  restartVictim?: () => Promise<void>;
  /** Random source (default WebCrypto). */
  randomBytes?: RandomBytes;
  /** Aborting stops after the attempt in progress. */
  signal?: AbortSignal;
}

/** One envelope the attacker holds: captured from the victim topic, or synthesised when none came. */
interface Template {
  payload: Uint8Array;
  json: EnvelopeJson;
  at: number;
  synthetic: boolean;
}

/** One malicious message, ready to publish. */
interface Planned {
  variant: string;
  topic: string;
  payload: Uint8Array;
  expect: SecureAttackExpectation;
  fields?: Record<string, unknown>;
}

const defaultRandomBytes: RandomBytes = (n) => crypto.getRandomValues(new Uint8Array(n));

/**
 * Reads a payload as an envelope well enough to attack it: a JSON object with every field of the right
 * JSON type and canonical base64url binaries. Only the cleartext metadata is ever looked at.
 */
function readEnvelope(payload: Uint8Array): EnvelopeJson | undefined {
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

function encodeEnvelope(json: EnvelopeJson): Uint8Array {
  return utf8Encode(serializeEnvelope(json));
}

function isSuite(suite: string): suite is Suite {
  return (SUITES as readonly string[]).includes(suite);
}

/** Would step 1 of open() accept a signature of `length` bytes for `suite`? (PROTOCOL.md §6, row 1) */
function signatureFits(suite: string, length: number): boolean {
  const range = isSuite(suite)
    ? SIGNATURE_BYTES[SUITE_SIGNATURE_SCHEME[suite]]
    : { min: SIGNATURE_BYTES["dsa-2048"].min, max: SIGNATURE_BYTES["dsa-2048"].max };
  return length >= range.min && length <= range.max;
}

/** Flips one bit of a base64url field's decoded bytes, in `[from, to)`; re-encodes canonically. */
function flipBinaryBit(field: string, pick: number, from = 0, to?: number): string {
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
 */
function flipCharBit(text: string, pick: number): string {
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

function errorCode(error: unknown, fallback: string): string {
  return error instanceof TransportError ? error.code : fallback;
}

/**
 * Runs the Phase II attacks: captures `captureCount` envelopes, then sends `attempts` malicious messages
 * (or broker-level attempts) per class. Resolves with how many messages were sent, how many attempts
 * the broker refused, and how many messages were captured.
 * @example
 * ```ts
 * const result = await runSecureAttacks(
 *   { ...DEFAULT_SECURE_ATTACK, attempts: 50, victimUsername: "door-sensor-1" },
 *   { clock: systemClock, log, transport, connect, ownCredentials, actuatorPublicKey, dsaDomain },
 * );
 * ```
 */
export async function runSecureAttacks(
  options: SecureAttackOptions,
  deps: SecureAttackerDeps,
): Promise<{ sent: number; refused: number; captured: number }> {
  const { clock, log } = deps;
  const randomBytes = deps.randomBytes ?? defaultRandomBytes;
  const windowMs = options.timestampWindowMs ?? TIMESTAMP_WINDOW_MS;
  log.event("role_started", {
    phase: "secure",
    classes: options.classes,
    attempts: options.attempts,
    topic: options.topic,
    capture_count: options.captureCount,
    broker_url: options.brokerUrl,
    victim_username: options.victimUsername,
    acl_violation_topic: options.aclViolationTopic,
    cross_topic: options.crossTopic,
  });

  // Capture: log only what an eavesdropper learns from an envelope — that it is one, its size and the
  // names of its cleartext fields — never values. Registered before subscribing so nothing is missed.
  const ownDigests = new Set<string>();
  const envelopes: Template[] = [];
  deps.transport.onMessage((topic, payload) => {
    const digest = payloadDigest(payload);
    if (ownDigests.has(digest)) return;
    const json = readEnvelope(payload);
    if (json !== undefined && topic === options.topic) {
      envelopes.push({ payload: payload.slice(), json, at: clock.now(), synthetic: false });
    }
    log.event("captured", {
      phase: "secure",
      topic,
      digest,
      bytes: payload.length,
      readable: json === undefined ? decodeReading(payload).ok : false,
      fields: json === undefined ? [] : Object.keys(json),
    });
  });
  const tap = await startEavesdropping(deps, "secure", false);
  const ownTap = {
    own(digest: string) {
      ownDigests.add(digest);
      tap.own(digest);
    },
  };
  const deadline = clock.now() + options.captureTimeoutMs;
  while (envelopes.length < options.captureCount && clock.now() < deadline && !deps.signal?.aborted) {
    await clock.sleep(CAPTURE_POLL_MS, deps.signal);
  }
  if (envelopes.length < options.captureCount) {
    log.event("capture_incomplete", {
      phase: "secure",
      topic: options.topic,
      wanted: options.captureCount,
      got: envelopes.length,
      detail: envelopes.length === 0
        ? "no envelope captured: attacking from an envelope signed with the attacker's own key"
        : "attacking from the envelopes captured so far",
    });
  }

  // Keys of the attacker's own, made once when first needed.
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

  const fallbackSender = options.fallbackSender ?? "door-sensor-1";
  const now = () => Math.round(clock.now());
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

  let synthetic: Template | undefined;
  /** The freshest settled capture, rotating over the last `captureCount`; synthetic when none came. */
  const template = async (pick: number): Promise<Template> => {
    if (envelopes.length > 0) {
      const settled = envelopes.filter((e) => e.at <= clock.now() - REPLAY_SETTLE_MS);
      const pool = (settled.length > 0 ? settled : envelopes).slice(-Math.max(1, options.captureCount));
      return pool[pool.length - 1 - (pick % pool.length)];
    }
    if (synthetic === undefined) {
      const suite: Suite = deps.dsaDomain !== undefined ? SUITE_DSA : SUITE_ED25519;
      const pair = await ownKey(SUITE_SIGNATURE_SCHEME[suite])!;
      const payload = await seal({
        topic: options.topic,
        sender: fallbackSender,
        counter: FRESH_COUNTER_OFFSET,
        ts: now(),
        msgId: "s-synthetic-template",
        plaintext: reading(fallbackSender, FRESH_COUNTER_OFFSET, "s-synthetic-template"),
        suite,
        signingKey: pair.signingKey,
        epochKey: await newEpochKey(deps.actuatorPublicKey, randomBytes),
        randomBytes,
      });
      synthetic = { payload, json: readEnvelope(payload)!, at: clock.now(), synthetic: true };
    }
    return synthetic;
  };
  const maxCounter = () => Math.max(0, ...envelopes.map((e) => e.json.counter));
  const freshCounter = (i: number) => maxCounter() + FRESH_COUNTER_OFFSET + i;

  /** Steps 4 onwards of open(): a timestamp outside the window is reported before `then`. */
  const afterTimestamp = (ts: number, then: SecureAttackExpectation): SecureAttackExpectation => {
    const t = clock.now();
    if (ts < t - windowMs) return "STALE";
    if (ts > t + windowMs) return "FUTURE";
    return then;
  };
  /** A captured envelope republished unchanged: the actuator accepted it once, so REPLAY. */
  const verbatimExpectation = (t: Template) =>
    afterTimestamp(t.json.ts, t.synthetic ? "BAD_SIGNATURE" : "REPLAY");

  /**
   * A well-formed envelope for `sender`, encrypted under a fresh random session key wrapped to the
   * actuator, with `sig` still empty: returns the JSON and the bytes a signer would sign.
   */
  const craft = async (
    fields: { suite: string; sender: string; counter: number; ts: number; msgId: string; topic: string },
  ): Promise<{ json: EnvelopeJson; signed: Uint8Array }> => {
    const sessionKey = randomBytes(SESSION_KEY_BYTES);
    const wrappedKey = await wrapSessionKey(deps.actuatorPublicKey, sessionKey);
    const nonce = randomBytes(NONCE_BYTES);
    const aad = envelopeAssociatedData(fields);
    const ciphertext = await aesGcmEncrypt(
      await importAesKey(sessionKey),
      nonce,
      reading(fields.sender, fields.counter, fields.msgId),
      aad,
    );
    const signed = envelopeSignedBytes({ ...fields, wrappedKey, nonce, ciphertext });
    return {
      json: {
        v: 1,
        suite: fields.suite,
        sender: fields.sender,
        counter: fields.counter,
        ts: fields.ts,
        msg_id: fields.msgId,
        wrapped_key: toBase64Url(wrappedKey),
        nonce: toBase64Url(nonce),
        ciphertext: toBase64Url(ciphertext),
        sig: "",
      },
      signed,
    };
  };

  /** A random DSA signature of valid DER shape: r, s uniform in [1, q) (or 256-bit without a domain). */
  const randomDsaSignature = (): Uint8Array => {
    const q = deps.dsaDomain?.q ?? (1n << 256n);
    const draw = () => {
      const bytes = randomBytes(40);
      let n = 0n;
      for (const b of bytes) n = (n << 8n) | BigInt(b);
      return (n % (q - 1n)) + 1n;
    };
    return encodeSignatureDer({ r: draw(), s: draw() });
  };
  const randomSignature = (suite: string): Uint8Array =>
    suite === SUITE_ED25519 ? randomBytes(SIGNATURE_BYTES.ed25519.max) : randomDsaSignature();

  let restarted = false;
  // Publishes awaiting their PUBACK: a QoS 1 round trip costs milliseconds, so a bounded window of them
  // keeps ~1000 attempts to seconds. Each settles by itself (send never rejects).
  const inFlight = new Set<Promise<void>>();
  const maxInFlight = Math.max(1, options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT);
  const launch = async (publishing: Promise<void>) => {
    inFlight.add(publishing);
    publishing.finally(() => inFlight.delete(publishing));
    if (inFlight.size >= maxInFlight) await Promise.race(inFlight);
  };
  const drain = async () => {
    await Promise.all(inFlight);
  };

  /** The variants of a message-level class, given what is available right now. */
  const variantsOf = async (cls: SecureAttackClass): Promise<string[]> => {
    switch (cls) {
      case "replay":
        return deps.restartVictim !== undefined ? ["verbatim", "after-restart"] : ["verbatim"];
      case "cross-topic-replay":
        return ["verbatim"];
      case "inject-unsigned":
        return ["zero-sig", "no-sig", "empty-sig"];
      case "spoof-own-key": {
        const t = await template(0);
        const other = t.json.suite === SUITE_DSA ? "ed25519" : "dsa-2048";
        return ownKey(other) !== undefined
          ? ["own-key", "own-identity", "other-suite"]
          : ["own-key", "own-identity"];
      }
      case "forged-signature":
        return ["random-sig", "reused-sig"];
      case "bitflip":
        return [
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
        ];
      case "stale-timestamp":
        return ["minus-10min", "epoch-zero"];
      case "future-timestamp":
        return ["plus-10min", "max-safe"];
      case "bad-session-key": {
        const keys = new Set(envelopes.map((e) => e.json.wrapped_key));
        return keys.size > 1 ? ["swapped-from-other", "rewrapped-random"] : ["rewrapped-random"];
      }
      case "downgrade":
        return ["v2", "v0", "other-suite", "unknown-suite", "plaintext-phase1"];
      case "malformed":
        return [
          "garbage",
          "truncated",
          "oversize",
          "nested",
          "proto-keys",
          "duplicate-key",
          "wrong-types",
          "non-canonical",
        ];
      case "anonymous-connect":
        return ["no-credentials"];
      case "wrong-password":
        return ["random-password"];
      case "acl-violation":
        return ["denied-topic"];
    }
  };

  /** Builds one malicious message of a message-level class. */
  const plan = async (cls: SecureAttackClass, variant: string, i: number): Promise<Planned> => {
    const t = await template(i);
    const env = t.json;
    const victim = options.topic;
    const extra = t.synthetic ? { synthetic: true } : undefined;
    const mutated = (patch: Partial<EnvelopeJson>) => encodeEnvelope({ ...env, ...patch });
    const sigLength = fromBase64Url(env.sig).length;

    switch (cls) {
      case "replay": {
        if (variant === "after-restart" && !restarted) {
          restarted = true;
          await drain();
          await deps.restartVictim!();
          log.event("victim_restarted", { phase: "secure", class: cls, attack_id: `s-${cls}-${i}` });
        }
        const fresh = await template(i);
        return {
          variant,
          topic: victim,
          payload: fresh.payload,
          expect: verbatimExpectation(fresh),
          fields: extra,
        };
      }
      case "cross-topic-replay":
        // The topic is signed and in the AAD, so the same bytes elsewhere fail the signature.
        return {
          variant,
          topic: options.crossTopic,
          payload: t.payload,
          expect: afterTimestamp(env.ts, "BAD_SIGNATURE"),
          fields: extra,
        };
      case "inject-unsigned": {
        const counter = freshCounter(i);
        const { json } = await craft({
          suite: env.suite,
          sender: env.sender,
          counter,
          ts: now(),
          msgId: `s-${cls}-${i}`,
          topic: victim,
        });
        if (variant === "no-sig") {
          const record: Record<string, unknown> = { ...json };
          delete record.sig;
          return { variant, topic: victim, payload: utf8Encode(JSON.stringify(record)), expect: "MALFORMED" };
        }
        if (variant === "empty-sig") {
          return { variant, topic: victim, payload: encodeEnvelope(json), expect: "MALFORMED" };
        }
        // Zeros of the captured signature's length: valid shape, never a valid signature.
        const zero = toBase64Url(new Uint8Array(sigLength));
        return {
          variant,
          topic: victim,
          payload: encodeEnvelope({ ...json, sig: zero }),
          expect: signatureFits(env.suite, sigLength)
            ? afterTimestamp(json.ts, "BAD_SIGNATURE")
            : "MALFORMED",
        };
      }
      case "spoof-own-key": {
        const counter = freshCounter(i);
        const msgId = `s-${cls}-${i}`;
        if (variant === "own-key" || variant === "own-identity") {
          const sender = variant === "own-key" ? env.sender : deps.ownCredentials.username;
          const suite = env.suite;
          const scheme = isSuite(suite) ? SUITE_SIGNATURE_SCHEME[suite] : "ed25519";
          // Without the home's DSA domain the attacker signs with Ed25519: 64 bytes still fit the DSA range.
          const pair = await (ownKey(scheme) ?? ownKey("ed25519")!);
          const { json, signed } = await craft({ suite, sender, counter, ts: now(), msgId, topic: victim });
          const sig = await signMessage(pair.signingKey, signed);
          const payload = encodeEnvelope({ ...json, sig: toBase64Url(sig) });
          const expect: SecureAttackExpectation = !signatureFits(suite, sig.length)
            ? "MALFORMED"
            : variant === "own-identity"
            ? "UNKNOWN_SENDER"
            : afterTimestamp(json.ts, "BAD_SIGNATURE");
          return { variant, topic: victim, payload, expect, fields: { signed_with: pair.signingKey.scheme } };
        }
        // other-suite: a correct envelope under the other suite, signed with the attacker's key of that
        // scheme: the sender is registered for one suite only.
        const suite: Suite = env.suite === SUITE_DSA ? SUITE_ED25519 : SUITE_DSA;
        const pair = await ownKey(SUITE_SIGNATURE_SCHEME[suite])!;
        const payload = await seal({
          topic: victim,
          sender: env.sender,
          counter,
          ts: now(),
          msgId,
          plaintext: reading(env.sender, counter, msgId),
          suite,
          signingKey: pair.signingKey,
          epochKey: await newEpochKey(deps.actuatorPublicKey, randomBytes),
          randomBytes,
        });
        return {
          variant,
          topic: victim,
          payload,
          expect: "UNSUPPORTED",
          fields: { signed_with: pair.signingKey.scheme },
        };
      }
      case "forged-signature": {
        const sig = variant === "random-sig" ? toBase64Url(randomSignature(env.suite)) : env.sig;
        const length = fromBase64Url(sig).length;
        return {
          variant,
          topic: victim,
          payload: mutated({ counter: env.counter + 1, sig }),
          expect: signatureFits(env.suite, length) ? afterTimestamp(env.ts, "BAD_SIGNATURE") : "MALFORMED",
          fields: extra,
        };
      }
      case "bitflip":
        return { ...bitflip(env, variant, i), fields: extra };
      case "stale-timestamp": {
        // The timestamp check (step 4) comes before the signature, so the broken signature is never reached.
        const ts = variant === "epoch-zero" ? 0 : now() - TIME_SHIFT_MS;
        return { variant, topic: victim, payload: mutated({ ts }), expect: "STALE", fields: extra };
      }
      case "future-timestamp": {
        const ts = variant === "max-safe" ? Number.MAX_SAFE_INTEGER : now() + TIME_SHIFT_MS;
        return { variant, topic: victim, payload: mutated({ ts }), expect: "FUTURE", fields: extra };
      }
      case "bad-session-key": {
        if (variant === "swapped-from-other") {
          const donor = envelopes.findLast((e) => e.json.wrapped_key !== env.wrapped_key)!;
          return {
            variant,
            topic: victim,
            payload: mutated({ wrapped_key: donor.json.wrapped_key }),
            expect: afterTimestamp(env.ts, "BAD_SIGNATURE"),
            fields: extra,
          };
        }
        // A session key of the attacker's own, correctly wrapped and used; the capture's signature kept.
        const { json } = await craft({
          suite: env.suite,
          sender: env.sender,
          counter: env.counter,
          ts: env.ts,
          msgId: env.msg_id,
          topic: victim,
        });
        return {
          variant,
          topic: victim,
          payload: encodeEnvelope({ ...json, sig: env.sig }),
          expect: afterTimestamp(env.ts, "BAD_SIGNATURE"),
          fields: extra,
        };
      }
      case "downgrade":
        return downgrade(t, variant, i);
      case "malformed":
        return { ...malformed(t, variant, i), fields: extra };
      default:
        throw new Error(`class ${cls} is not a message-level class`);
    }
  };

  /** A version or suite the sender does not use, or a Phase I message where an envelope belongs. */
  const downgrade = (t: Template, variant: string, i: number): Planned => {
    const env = t.json;
    const victim = options.topic;
    const extra = t.synthetic ? { synthetic: true } : undefined;
    const mutated = (patch: Partial<EnvelopeJson>) => encodeEnvelope({ ...env, ...patch });
    const sigLength = fromBase64Url(env.sig).length;
    switch (variant) {
      case "v2":
      case "v0":
        return {
          variant,
          topic: victim,
          payload: mutated({ v: variant === "v2" ? 2 : 0 }),
          expect: "UNSUPPORTED",
          fields: extra,
        };
      case "other-suite": {
        // DSA → Ed25519 usually fails the length check (a DER signature is rarely 64 bytes);
        // Ed25519 → DSA fits the DER range and is refused as another suite than the sender's.
        const suite = env.suite === SUITE_DSA ? SUITE_ED25519 : SUITE_DSA;
        return {
          variant,
          topic: victim,
          payload: mutated({ suite }),
          expect: signatureFits(suite, sigLength) ? "UNSUPPORTED" : "MALFORMED",
          fields: { ...extra, to_suite: suite },
        };
      }
      case "unknown-suite": {
        const suite = "rsa-oaep-1024+aes-128-cbc+none";
        return {
          variant,
          topic: victim,
          payload: mutated({ suite }),
          expect: signatureFits(suite, sigLength) ? "UNSUPPORTED" : "MALFORMED",
          fields: extra,
        };
      }
      default: {
        const msgId = `s-downgrade-${i}`;
        return {
          variant,
          topic: victim,
          payload: reading(env.sender, freshCounter(i), msgId),
          expect: "MALFORMED",
        };
      }
    }
  };

  /** One flipped bit in one field; every binary field stays canonical base64url of the same length. */
  const bitflip = (env: EnvelopeJson, variant: string, i: number): Omit<Planned, "fields"> => {
    const victim = options.topic;
    const signatureFailure = (ts: number) => afterTimestamp(ts, "BAD_SIGNATURE");
    const out = (patch: Partial<EnvelopeJson>, expect: SecureAttackExpectation) => ({
      variant,
      topic: victim,
      payload: encodeEnvelope({ ...env, ...patch }),
      expect,
    });
    const ctLength = fromBase64Url(env.ciphertext).length;
    switch (variant) {
      case "ciphertext":
        // The body before the tag; with an empty plaintext there is only the tag.
        return out(
          {
            ciphertext: flipBinaryBit(
              env.ciphertext,
              i,
              0,
              ctLength > TAG_BYTES ? ctLength - TAG_BYTES : ctLength,
            ),
          },
          signatureFailure(env.ts),
        );
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
        return out(
          { suite },
          signatureFits(suite, fromBase64Url(env.sig).length) ? "UNSUPPORTED" : "MALFORMED",
        );
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
  };

  /** Input that fails the shape checks of step 1. */
  const malformed = (t: Template, variant: string, i: number): Omit<Planned, "fields"> => {
    const victim = options.topic;
    const text = serializeEnvelope(t.json);
    const body = text.slice(1, -1);
    const out = (payload: Uint8Array | string) => ({
      variant,
      topic: victim,
      payload: typeof payload === "string" ? utf8Encode(payload) : payload,
      expect: "MALFORMED" as const,
    });
    switch (variant) {
      case "garbage":
        return out(randomBytes(GARBAGE_PAYLOAD_BYTES));
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
  };

  // Logging: `attack_sent` comes from the Phase I sendAttack; the extra fields (`expect`, …) are merged
  // in by a log that forwards to ours. One per message, since several publishes may be in flight.
  const taggedLog = (extra: Record<string, unknown>) =>
    new Log({
      write(record: LogRecord) {
        const { ts: _ts, role: _role, run: _run, event, ...fields } = record;
        log.event(event, { ...fields, ...extra });
      },
      close() {},
    }, { role: log.role, run: log.run, clock });

  let sent = 0;
  let refused = 0;
  const refuse = (cls: string, variant: string, attackId: string, code: string, fields = {}) => {
    log.event("attack_refused", {
      phase: "secure",
      class: cls,
      variant,
      attack_id: attackId,
      code,
      ...fields,
    });
    refused++;
  };
  const send = async (
    transport: Pick<MqttTransport, "publish">,
    cls: string,
    attackId: string,
    message: Planned,
    qos: 0 | 1,
  ): Promise<void> => {
    try {
      await sendAttack(
        {
          clock,
          log: taggedLog({ expect: message.expect, ...message.fields }),
          transport: transport as SecureAttackerDeps["transport"],
        },
        ownTap,
        {
          phase: "secure",
          cls,
          variant: message.variant,
          attackId,
          topic: message.topic,
          payload: message.payload,
          qos,
        },
      );
      sent++;
    } catch (error) {
      refuse(cls, message.variant, attackId, errorCode(error, "PUBLISH_FAILED"), {
        topic: message.topic,
        digest: payloadDigest(message.payload),
      });
    }
  };
  const closeQuietly = async (connection: AttackConnection) => {
    const timer = new AbortController();
    await Promise.race([connection.close().catch(() => {}), clock.sleep(CLOSE_TIMEOUT_MS, timer.signal)]);
    timer.abort();
  };

  /** One broker-level attempt: a connection the broker should refuse, or a publish it should drop. */
  const brokerAttempt = async (cls: SecureAttackClass, variant: string, i: number): Promise<void> => {
    const attackId = `s-${cls}-${i}`;
    const clientId = `mallory-${cls}-${i}-${toBase64Url(randomBytes(4))}`;
    const credentials = cls === "anonymous-connect"
      ? {}
      : cls === "wrong-password"
      ? { username: options.victimUsername, password: toBase64Url(randomBytes(18)) }
      : { username: deps.ownCredentials.username, password: deps.ownCredentials.password };
    let connection: AttackConnection;
    try {
      connection = await deps.connect({ ...credentials, clientId });
    } catch (error) {
      refuse(cls, variant, attackId, errorCode(error, "CONNECT_FAILED"));
      return;
    }
    try {
      const t = await template(i);
      if (cls === "acl-violation") {
        // A captured envelope with its counter bumped, so its digest is this attempt's own: the actuator
        // must never log it. QoS 0 because some brokers drop the connection on a denied QoS 1 publish.
        await send(connection, cls, attackId, {
          variant,
          topic: options.aclViolationTopic,
          payload: encodeEnvelope({ ...t.json, counter: t.json.counter + 1 + i }),
          expect: "BROKER_DENIED",
        }, 0);
      } else {
        // The broker let us in: publish a capture as evidence, and say so; metrics decides the rest.
        await send(connection, cls, attackId, {
          variant,
          topic: options.topic,
          payload: t.payload,
          expect: verbatimExpectation(t),
          fields: { broker_accepted: true },
        }, options.qos);
      }
    } finally {
      await closeQuietly(connection);
    }
  };

  const brokerLevel: ReadonlySet<SecureAttackClass> = new Set([
    "anonymous-connect",
    "wrong-password",
    "acl-violation",
  ]);
  for (const cls of options.classes) {
    const variants = await variantsOf(cls);
    for (let i = 1; i <= options.attempts && !deps.signal?.aborted; i++) {
      const variant = variants[(i - 1) % variants.length];
      if (brokerLevel.has(cls)) {
        await drain();
        await brokerAttempt(cls, variant, i);
      } else {
        await launch(send(deps.transport, cls, `s-${cls}-${i}`, await plan(cls, variant, i), options.qos));
      }
      if (options.gapMs > 0) await clock.sleep(options.gapMs, deps.signal);
    }
  }
  await drain();

  log.event("role_stopped", {
    reason: deps.signal?.aborted ? "signal" : "done",
    sent,
    refused,
    captured: tap.captures.length,
  });
  return { sent, refused, captured: tap.captures.length };
}
