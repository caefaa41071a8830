/**
 * Secure envelope v1: the one place that builds ({@link seal}) and opens ({@link open}) a secmqtt
 * message. `docs/PROTOCOL.md` is its specification; keep the two in step.
 *
 * A message is encrypted with AES-256-GCM under an epoch session key, the session key travels
 * RSA-OAEP-wrapped to the recipient, and the whole envelope — topic, suite and wrapped key included —
 * is signed by the sender. {@link open} checks in a fixed order and verifies the signature before any
 * RSA or AES operation touches the input.
 * @module
 */

import { aesGcmDecrypt, aesGcmEncrypt, importAesKey } from "./aes.ts";
import { concatBytes, fromBase64Url, toBase64Url, utf8Decode, utf8Encode } from "./codec.ts";
import { RSA_WRAPPED_KEY_BYTES, SESSION_KEY_BYTES, unwrapSessionKey, wrapSessionKey } from "./rsa.ts";
import {
  SIGNATURE_BYTES,
  type SignatureScheme,
  type SigningKey,
  signMessage,
  type VerifyingKey,
  verifySignature,
} from "./signature.ts";
import { CodedError, type ErrorKind } from "../core/errors.ts";

/** The only envelope version this module writes and reads. */
export const ENVELOPE_VERSION = 1;

/** The default ("paper") suite: RSA-OAEP-2048 key transport, AES-256-GCM, DSA-2048 signatures. */
export const SUITE_DSA = "rsa-oaep-2048+aes-256-gcm+dsa-2048";
/** The alternative suite: as {@link SUITE_DSA} but signed with Ed25519. */
export const SUITE_ED25519 = "rsa-oaep-2048+aes-256-gcm+ed25519";
/** Every supported suite; {@link DEFAULT_SUITE} first. */
export const SUITES = [SUITE_DSA, SUITE_ED25519] as const;
/** A supported suite identifier. */
export type Suite = typeof SUITES[number];
/** The suite used when the caller does not choose. */
export const DEFAULT_SUITE: Suite = SUITE_DSA;
/** Which signature scheme each suite signs with. */
export const SUITE_SIGNATURE_SCHEME: Readonly<Record<Suite, SignatureScheme>> = {
  [SUITE_DSA]: "dsa-2048",
  [SUITE_ED25519]: "ed25519",
};

/** Hard cap on the raw envelope, checked before any parsing. */
export const ENVELOPE_MAX_BYTES = 8192;
/** Largest plaintext {@link seal} accepts (keeps every envelope under {@link ENVELOPE_MAX_BYTES}). */
export const MAX_PLAINTEXT_BYTES = 4096;
/** Longest accepted `sender`; its charset is {@link SENDER_PATTERN}. */
export const SENDER_MAX_CHARS = 64;
/** Longest accepted `msg_id`; its charset is {@link MSG_ID_PATTERN}. */
export const MSG_ID_MAX_CHARS = 64;
/** Longest accepted topic, in UTF-8 bytes. */
export const TOPIC_MAX_BYTES = 256;
/** Longest accepted `suite` field, in bytes (its charset is ASCII, so bytes and characters agree). */
export const SUITE_MAX_BYTES = 64;
/** Default accepted clock difference between `ts` and the receiver's clock, either way. */
export const TIMESTAMP_WINDOW_MS = 30_000;
/** AES-GCM nonce length. */
export const NONCE_BYTES = 12;
/** AES-GCM tag length (the tag ends `ciphertext`). */
export const TAG_BYTES = 16;
/**
 * Most messages one epoch key may seal. SP 800-38D §8.3 allows 2^32 random 96-bit nonces per key;
 * this is far below, so the collision chance stays negligible and the used-nonce set stays small.
 */
export const EPOCH_MAX_MESSAGES = 65_536;
/** Default number of unwrapped epoch keys an {@link EpochKeyCache} holds. */
export const DEFAULT_KEY_CACHE_ENTRIES = 256;

/** Sender ids: ASCII letters, digits, `.`, `_`, `-`; 1 to {@link SENDER_MAX_CHARS} characters. */
export const SENDER_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
/** Message ids: ASCII letters, digits, `.`, `_`, `:`, `-`; 1 to {@link MSG_ID_MAX_CHARS} characters. */
export const MSG_ID_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;
/**
 * The `suite` field before it is compared with {@link SUITES}: 1 to {@link SUITE_MAX_BYTES} printable ASCII
 * characters other than space, `"` and `\` (0x21, 0x23–0x5B, 0x5D–0x7E). No character of this set is
 * ever escaped in JSON, so an unknown suite is `UNSUPPORTED` and anything that needs an escape is
 * `MALFORMED`, whichever JSON library the sender used.
 */
export const SUITE_PATTERN = /^[\x21\x23-\x5B\x5D-\x7E]{1,64}$/;

/** Domain-separation prefix of the signed byte string (20 bytes, NUL included). */
export const SIGNED_BYTES_LABEL = "secmqtt/envelope/v1\0";
/** Domain-separation prefix of the AES-GCM associated data (15 bytes, NUL included). */
export const AAD_LABEL = "secmqtt/aad/v1\0";

/** Why {@link open} refused an envelope, in check order. */
export const REASON_CODES = [
  "MALFORMED",
  "UNSUPPORTED",
  "UNKNOWN_SENDER",
  "REVOKED",
  "STALE",
  "FUTURE",
  "BAD_SIGNATURE",
  "REPLAY",
  "BAD_KEY",
  "BAD_CIPHERTEXT",
] as const;
/** A reason code; closed union, listed in `docs/PROTOCOL.md`. */
export type ReasonCode = typeof REASON_CODES[number];

/** The envelope's JSON fields, in canonical order. */
export const ENVELOPE_FIELDS = [
  "v",
  "suite",
  "sender",
  "counter",
  "ts",
  "msg_id",
  "wrapped_key",
  "nonce",
  "ciphertext",
  "sig",
] as const;

/** The envelope as it travels: binary fields are canonical unpadded base64url. */
export interface EnvelopeJson {
  /** Format version, always 1. */
  v: number;
  /** Suite identifier. */
  suite: string;
  /** Sender id. */
  sender: string;
  /** Per-sender message counter. */
  counter: number;
  /** Sender's clock, ms since the Unix epoch. */
  ts: number;
  /** Message id. */
  msg_id: string;
  /** RSA-OAEP-wrapped epoch session key (256 bytes). */
  wrapped_key: string;
  /** AES-GCM nonce (12 bytes). */
  nonce: string;
  /** AES-GCM ciphertext with the 16-byte tag appended. */
  ciphertext: string;
  /** Signature over {@link envelopeSignedBytes}. */
  sig: string;
}

/** Every input of the signed byte string. */
export interface SignedFields {
  /** Suite identifier. */
  readonly suite: string;
  /** Topic the envelope is published on. */
  readonly topic: string;
  /** Sender id. */
  readonly sender: string;
  /** Message counter. */
  readonly counter: number;
  /** Timestamp, ms. */
  readonly ts: number;
  /** Message id. */
  readonly msgId: string;
  /** Wrapped session key bytes. */
  readonly wrappedKey: Uint8Array;
  /** Nonce bytes. */
  readonly nonce: Uint8Array;
  /** Ciphertext ‖ tag bytes. */
  readonly ciphertext: Uint8Array;
}

/** Inputs of the AES-GCM associated data. */
export type AssociatedFields = Pick<SignedFields, "suite" | "topic" | "sender" | "counter" | "ts">;

/**
 * Thrown by {@link seal} and the epoch-key functions when the sender's own inputs are unusable:
 * `INVALID_INPUT` for a bad argument, `EPOCH_EXHAUSTED` or `NONCE_REUSE` for an epoch-key refusal.
 */
export class EnvelopeError extends CodedError<"INVALID_INPUT" | "EPOCH_EXHAUSTED" | "NONCE_REUSE"> {
  /** Exit-status kind: a bad argument is input; an exhausted or reused epoch key is state. */
  get kind(): ErrorKind {
    return this.code === "INVALID_INPUT" ? "input" : "state";
  }
}

// ---------------------------------------------------------------------------------------------------
// Canonical byte strings

function u8(n: number): Uint8Array {
  return new Uint8Array([n]);
}

function u32(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n, false);
  return out;
}

function u64(n: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n), false);
  return out;
}

function lengthPrefixed(bytes: Uint8Array): Uint8Array {
  return concatBytes(u32(bytes.length), bytes);
}

function text(value: string): Uint8Array {
  return lengthPrefixed(utf8Encode(value));
}

/**
 * The exact bytes the sender signs (see PROTOCOL.md, "Signed bytes"):
 * `"secmqtt/envelope/v1\0" ‖ u8 v ‖ str suite ‖ str topic ‖ str sender ‖ u64 counter ‖ u64 ts ‖
 * str msg_id ‖ bin wrapped_key ‖ bin nonce ‖ bin ciphertext`, where `str`/`bin` are a u32 big-endian
 * byte length followed by the UTF-8 or raw bytes, and `u64` is big-endian.
 * @example
 * ```ts
 * const signed = envelopeSignedBytes({ suite, topic, sender, counter, ts, msgId, wrappedKey, nonce, ciphertext });
 * ```
 */
export function envelopeSignedBytes(fields: SignedFields): Uint8Array {
  return concatBytes(
    ...labelledHeader(SIGNED_BYTES_LABEL, fields),
    text(fields.msgId),
    lengthPrefixed(fields.wrappedKey),
    lengthPrefixed(fields.nonce),
    lengthPrefixed(fields.ciphertext),
  );
}

/**
 * The AES-GCM associated data (see PROTOCOL.md, "Associated data"):
 * `"secmqtt/aad/v1\0" ‖ u8 v ‖ str suite ‖ str topic ‖ str sender ‖ u64 counter ‖ u64 ts`.
 * @example
 * ```ts
 * const aad = envelopeAssociatedData({ suite, topic, sender, counter, ts });
 * ```
 */
export function envelopeAssociatedData(fields: AssociatedFields): Uint8Array {
  return concatBytes(...labelledHeader(AAD_LABEL, fields));
}

/** `label ‖ u8 v ‖ str suite ‖ str topic ‖ str sender ‖ u64 counter ‖ u64 ts`: how both byte strings begin. */
function labelledHeader(label: string, fields: AssociatedFields): Uint8Array[] {
  return [
    utf8Encode(label),
    u8(ENVELOPE_VERSION),
    text(fields.suite),
    text(fields.topic),
    text(fields.sender),
    u64(fields.counter),
    u64(fields.ts),
  ];
}

/**
 * Serialises an envelope canonically: fields in {@link ENVELOPE_FIELDS} order, no whitespace. The
 * charsets of every string field need no JSON escaping, so the output is unique.
 * @example
 * ```ts
 * serializeEnvelope(envelope); // '{"v":1,"suite":"rsa-oaep-2048+aes-256-gcm+ed25519",…}'
 * ```
 */
export function serializeEnvelope(envelope: EnvelopeJson): string {
  const ordered: Record<string, unknown> = {};
  for (const field of ENVELOPE_FIELDS) ordered[field] = envelope[field];
  return JSON.stringify(ordered);
}

// ---------------------------------------------------------------------------------------------------
// Validation helpers shared by seal and open

function isCounterLike(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function topicProblem(topic: unknown): string | undefined {
  if (typeof topic !== "string" || topic.length === 0) return "topic must be a non-empty string";
  if (!topic.isWellFormed()) return "topic must be well-formed Unicode";
  if (utf8Encode(topic).length > TOPIC_MAX_BYTES) {
    return `topic must be at most ${TOPIC_MAX_BYTES} UTF-8 bytes`;
  }
  // A publish topic never holds wildcards (MQTT 3.1.1 §4.7.1) nor U+0000 (§1.5.3).
  if (topic.includes("+") || topic.includes("#") || topic.includes("\0")) {
    return "topic must not contain '+', '#' or U+0000";
  }
  return undefined;
}

function isSuite(value: string): value is Suite {
  return (SUITES as readonly string[]).includes(value);
}

// Envelope bytes are public, so a plain comparison is fine here (no secret to leak by timing).
function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------------
// Epoch keys (sender side)

/** Source of cryptographically secure random bytes, passed in so tests can fix it. */
export type RandomBytes = (length: number) => Uint8Array;

/**
 * A session key and its RSA-wrapped form, shared by up to `maxMessages` envelopes. It remembers the
 * nonces it has sealed with and refuses a repeat or a message past its limit.
 */
export class EpochKey {
  /** AES-256-GCM key, non-extractable. */
  readonly sessionKey: CryptoKey;
  /** Messages this epoch may seal; 1 means a fresh session key per message. */
  readonly maxMessages: number;
  readonly #wrappedKey: Uint8Array;
  readonly #usedNonces = new Set<string>();

  /**
   * Prefer {@link newEpochKey} or {@link importEpochKey}.
   * @param sessionKey AES-256-GCM key
   * @param wrappedKey the session key wrapped to the recipient (256 bytes)
   * @param maxMessages epoch length, 1 to {@link EPOCH_MAX_MESSAGES}
   */
  constructor(sessionKey: CryptoKey, wrappedKey: Uint8Array, maxMessages: number) {
    if (wrappedKey.length !== RSA_WRAPPED_KEY_BYTES) {
      throw new EnvelopeError(
        "INVALID_INPUT",
        `expected a ${RSA_WRAPPED_KEY_BYTES}-byte wrapped key, got ${wrappedKey.length} bytes`,
      );
    }
    if (!Number.isSafeInteger(maxMessages) || maxMessages < 1 || maxMessages > EPOCH_MAX_MESSAGES) {
      throw new EnvelopeError(
        "INVALID_INPUT",
        `expected an epoch length from 1 to ${EPOCH_MAX_MESSAGES}, got ${maxMessages}`,
      );
    }
    this.sessionKey = sessionKey;
    this.#wrappedKey = wrappedKey.slice();
    this.maxMessages = maxMessages;
  }

  /** A copy of the wrapped session key, as it appears in `wrapped_key`. */
  get wrappedKey(): Uint8Array {
    return this.#wrappedKey.slice();
  }

  /** How many nonces this epoch has handed out. */
  get messagesSealed(): number {
    return this.#usedNonces.size;
  }

  /** True once `maxMessages` envelopes were sealed: the caller must make a new epoch key. */
  get exhausted(): boolean {
    return this.#usedNonces.size >= this.maxMessages;
  }

  /**
   * Records `nonce` as used; throws `EPOCH_EXHAUSTED` past the limit and `NONCE_REUSE` on a repeat
   * (which only a broken random source can cause). Called by {@link seal} before it encrypts.
   * @param nonce the 12-byte nonce about to be used
   */
  claimNonce(nonce: Uint8Array): void {
    if (this.exhausted) {
      throw new EnvelopeError("EPOCH_EXHAUSTED", `epoch key already sealed ${this.maxMessages} messages`);
    }
    const id = toBase64Url(nonce);
    if (this.#usedNonces.has(id)) {
      throw new EnvelopeError("NONCE_REUSE", "random source repeated a nonce under one epoch key");
    }
    this.#usedNonces.add(id);
  }
}

/** Options for creating an epoch key. */
export interface EpochKeyOptions {
  /** Epoch length in messages (default 1: a fresh session key per message). */
  readonly maxMessages?: number;
}

/**
 * Draws a fresh 32-byte session key from `randomBytes` and wraps it to the recipient's RSA key.
 * @example
 * ```ts
 * const epoch = await newEpochKey(recipientPublicKey, (n) => crypto.getRandomValues(new Uint8Array(n)), {
 *   maxMessages: 100,
 * });
 * ```
 */
export async function newEpochKey(
  recipientRsaPublicKey: CryptoKey,
  randomBytes: RandomBytes,
  options: EpochKeyOptions = {},
): Promise<EpochKey> {
  const sessionKey = randomBytes(SESSION_KEY_BYTES);
  const wrappedKey = await wrapSessionKey(recipientRsaPublicKey, sessionKey);
  return await importEpochKey(sessionKey, wrappedKey, options);
}

/**
 * Builds an epoch key from a known session key and its wrapped form — for test vectors, or to resume
 * an epoch. The pairing is not checked here; a mismatch makes every envelope fail to decrypt.
 * @example
 * ```ts
 * const epoch = await importEpochKey(sessionKey32, wrapped256);
 * ```
 */
export async function importEpochKey(
  sessionKey: Uint8Array,
  wrappedKey: Uint8Array,
  options: EpochKeyOptions = {},
): Promise<EpochKey> {
  if (sessionKey.length !== SESSION_KEY_BYTES) {
    throw new EnvelopeError(
      "INVALID_INPUT",
      `expected a ${SESSION_KEY_BYTES}-byte session key, got ${sessionKey.length} bytes`,
    );
  }
  return new EpochKey(await importAesKey(sessionKey), wrappedKey, options.maxMessages ?? 1);
}

// ---------------------------------------------------------------------------------------------------
// seal

/** Everything {@link seal} needs. */
export interface SealInput {
  /** Topic the envelope will be published on (bound by signature and AAD, not sent). */
  readonly topic: string;
  /** Sender id, {@link SENDER_PATTERN}. */
  readonly sender: string;
  /** Counter, non-negative safe integer, strictly increasing per sender. */
  readonly counter: number;
  /** Sender's clock, ms since the Unix epoch. */
  readonly ts: number;
  /** Message id, {@link MSG_ID_PATTERN}. */
  readonly msgId: string;
  /** Payload, at most {@link MAX_PLAINTEXT_BYTES}. */
  readonly plaintext: Uint8Array;
  /** Suite; the signing key's scheme must match it. */
  readonly suite: Suite;
  /** Sender's private signing key. */
  readonly signingKey: SigningKey;
  /** Current epoch key (from {@link newEpochKey}); one nonce of it is used. */
  readonly epochKey: EpochKey;
  /** Random source for the nonce. */
  readonly randomBytes: RandomBytes;
  /** High-resolution clock for {@link sealMeasured}'s stage timings (default `performance.now`). */
  readonly perfNow?: () => number;
}

/** Milliseconds {@link sealMeasured} spent encrypting and signing. */
export interface SealStages {
  /** AES-GCM encryption. */
  readonly encrypt: number;
  /** Building the signed bytes and signing them. */
  readonly sign: number;
}

function sealInputProblem(input: SealInput): string | undefined {
  if (!isSuite(input.suite)) return `expected a supported suite, got ${JSON.stringify(input.suite)}`;
  if (input.signingKey.scheme !== SUITE_SIGNATURE_SCHEME[input.suite]) {
    return `suite ${input.suite} needs a ${
      SUITE_SIGNATURE_SCHEME[input.suite]
    } key, got ${input.signingKey.scheme}`;
  }
  const topic = topicProblem(input.topic);
  if (topic !== undefined) return topic;
  if (!SENDER_PATTERN.test(input.sender)) return "sender must match " + SENDER_PATTERN;
  if (!isCounterLike(input.counter)) return "counter must be a non-negative safe integer";
  if (!isCounterLike(input.ts)) return "ts must be a non-negative safe integer (ms)";
  if (!MSG_ID_PATTERN.test(input.msgId)) return "msg_id must match " + MSG_ID_PATTERN;
  if (input.plaintext.length > MAX_PLAINTEXT_BYTES) {
    return `plaintext must be at most ${MAX_PLAINTEXT_BYTES} bytes, got ${input.plaintext.length}`;
  }
  return undefined;
}

/**
 * Encrypts and signs one message; returns the envelope as UTF-8 JSON bytes, ready to publish.
 * Deterministic given the epoch key and the nonce `randomBytes` returns. Throws {@link EnvelopeError}
 * on unusable inputs or an exhausted epoch key.
 * @example
 * ```ts
 * const bytes = await seal({
 *   topic: "home/lamp/set", sender: "sensor-1", counter: 7, ts: clock.now(), msgId: "m-7",
 *   plaintext: utf8Encode("on"), suite: DEFAULT_SUITE, signingKey, epochKey, randomBytes,
 * });
 * ```
 */
export async function seal(input: SealInput): Promise<Uint8Array> {
  return (await sealMeasured(input)).envelope;
}

/**
 * {@link seal}, also reporting how long encryption and signing took (for the sensor's log).
 * @example
 * ```ts
 * const { envelope, stages } = await sealMeasured(input);
 * stages.sign; // ms
 * ```
 */
export async function sealMeasured(input: SealInput): Promise<{ envelope: Uint8Array; stages: SealStages }> {
  const perfNow = input.perfNow ?? (() => performance.now());
  const problem = sealInputProblem(input);
  if (problem !== undefined) throw new EnvelopeError("INVALID_INPUT", problem);

  const nonce = input.randomBytes(NONCE_BYTES);
  if (nonce.length !== NONCE_BYTES) {
    throw new EnvelopeError(
      "INVALID_INPUT",
      `randomBytes returned ${nonce.length} bytes, expected ${NONCE_BYTES}`,
    );
  }
  input.epochKey.claimNonce(nonce);

  const { suite, topic, sender, counter, ts, msgId } = input;
  const aad = envelopeAssociatedData({ suite, topic, sender, counter, ts });
  const t0 = perfNow();
  const ciphertext = await aesGcmEncrypt(input.epochKey.sessionKey, nonce, input.plaintext, aad);
  const t1 = perfNow();
  const wrappedKey = input.epochKey.wrappedKey;
  const signed = envelopeSignedBytes({
    suite,
    topic,
    sender,
    counter,
    ts,
    msgId,
    wrappedKey,
    nonce,
    ciphertext,
  });
  const sig = await signMessage(input.signingKey, signed);
  const t2 = perfNow();

  const envelope = utf8Encode(serializeEnvelope({
    v: ENVELOPE_VERSION,
    suite,
    sender,
    counter,
    ts,
    msg_id: msgId,
    wrapped_key: toBase64Url(wrappedKey),
    nonce: toBase64Url(nonce),
    ciphertext: toBase64Url(ciphertext),
    sig: toBase64Url(sig),
  }));
  return { envelope, stages: { encrypt: t1 - t0, sign: t2 - t1 } };
}

// ---------------------------------------------------------------------------------------------------
// Key cache (receiver side)

/**
 * Bounded LRU cache of unwrapped epoch keys, keyed by sender and wrapped-key bytes, so the RSA
 * private-key operation runs once per epoch. One cache per recipient RSA key.
 */
export class EpochKeyCache {
  /** Most entries kept; the least recently used is evicted first. */
  readonly maxEntries: number;
  readonly #entries = new Map<string, CryptoKey>();

  /**
   * Creates an empty cache.
   * @param maxEntries capacity, at least 1 (default {@link DEFAULT_KEY_CACHE_ENTRIES})
   */
  constructor(maxEntries: number = DEFAULT_KEY_CACHE_ENTRIES) {
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
      throw new EnvelopeError("INVALID_INPUT", `expected a cache size of at least 1, got ${maxEntries}`);
    }
    this.maxEntries = maxEntries;
  }

  /** Number of cached keys. */
  get size(): number {
    return this.#entries.size;
  }

  static #id(sender: string, wrappedKey: Uint8Array): string {
    // "\n" cannot occur in a sender id or in base64url, so the key is unambiguous.
    return `${sender}\n${toBase64Url(wrappedKey)}`;
  }

  /**
   * The cached session key, marked most recently used; `undefined` on a miss.
   * @param sender sender id
   * @param wrappedKey wrapped key bytes
   */
  get(sender: string, wrappedKey: Uint8Array): CryptoKey | undefined {
    const id = EpochKeyCache.#id(sender, wrappedKey);
    const key = this.#entries.get(id);
    if (key === undefined) return undefined;
    this.#entries.delete(id);
    this.#entries.set(id, key);
    return key;
  }

  /**
   * Stores a session key, evicting the least recently used entry when full.
   * @param sender sender id
   * @param wrappedKey wrapped key bytes
   * @param sessionKey the unwrapped AES key
   */
  set(sender: string, wrappedKey: Uint8Array, sessionKey: CryptoKey): void {
    const id = EpochKeyCache.#id(sender, wrappedKey);
    this.#entries.delete(id);
    this.#entries.set(id, sessionKey);
    while (this.#entries.size > this.maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// open

/** What the trust list knows about a sender. */
export interface TrustEntry {
  /** The sender's verifying key. */
  readonly publicKey: VerifyingKey;
  /** The one suite this sender may use. */
  readonly suite: Suite;
  /** `revoked` senders are refused even with a valid signature. */
  readonly status: "active" | "revoked";
}

/** Everything {@link open} consults; all state and time come from here. */
export interface OpenDeps {
  /** Receiver's clock. */
  readonly clock: { now(): number };
  /** Trust list. */
  readonly trust: { lookup(sender: string): TrustEntry | undefined | Promise<TrustEntry | undefined> };
  /** Read-only replay check; the caller commits the counter after `ok: true`. */
  readonly replay: { isFresh(sender: string, counter: number): boolean | Promise<boolean> };
  /** Recipient's RSA-OAEP private key. */
  readonly recipientPrivateKey: CryptoKey;
  /** Accepted |ts − now|, default {@link TIMESTAMP_WINDOW_MS}. */
  readonly timestampWindowMs?: number;
  /**
   * Envelopes with `ts` below this are `STALE` whatever the window says: the creation time of the replay
   * state, which knows no counter from before it (§8.3). Default: no such floor.
   */
  readonly notBeforeMs?: number;
  /** Cache of unwrapped epoch keys; without it every envelope costs one RSA private operation. */
  readonly keyCache?: EpochKeyCache;
  /** High-resolution clock for stage timings (e.g. `() => performance.now()`); timings are 0 without it. */
  readonly perfNow?: () => number;
}

/**
 * Milliseconds spent per stage; a stage is present only if {@link open} reached it. `parse` covers
 * shape, version/suite, sender and timestamp checks.
 */
export interface OpenStages {
  /** Shape, version/suite, trust and timestamp checks. */
  parse?: number;
  /** Signature verification. */
  verify?: number;
  /** Replay check. */
  replay?: number;
  /** RSA unwrap and key import; 0 when the key came from the cache. */
  unwrap?: number;
  /** True when the session key came from the cache and no RSA operation ran. */
  unwrapCached?: boolean;
  /** AES-GCM decryption. */
  decrypt?: number;
}

/** An authenticated, decrypted message. */
export interface OpenedMessage {
  /** Sender id. */
  readonly sender: string;
  /** Counter; commit it to the replay store. */
  readonly counter: number;
  /** Sender's timestamp, ms. */
  readonly ts: number;
  /** Message id. */
  readonly msg_id: string;
  /** Suite used. */
  readonly suite: Suite;
  /** Decrypted payload. */
  readonly plaintext: Uint8Array;
}

/** Result of {@link open}. */
export type OpenResult =
  | { readonly ok: true; readonly message: OpenedMessage; readonly stages: OpenStages }
  | { readonly ok: false; readonly code: ReasonCode; readonly detail: string; readonly stages: OpenStages };

interface ParsedEnvelope {
  v: number;
  suite: string;
  sender: string;
  counter: number;
  ts: number;
  msgId: string;
  wrappedKey: Uint8Array;
  nonce: Uint8Array;
  ciphertext: Uint8Array;
  sig: Uint8Array;
}

type ParseResult = { ok: true; envelope: ParsedEnvelope } | { ok: false; detail: string };

const FIELD_SET: ReadonlySet<string> = new Set(ENVELOPE_FIELDS);
const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);
const MAX_SIGNATURE_BYTES = Math.max(...Object.values(SIGNATURE_BYTES).map((r) => r.max));
const MIN_SIGNATURE_BYTES = Math.min(...Object.values(SIGNATURE_BYTES).map((r) => r.min));

function binaryField(
  record: Record<string, unknown>,
  field: string,
  min: number,
  max: number,
): Uint8Array | string {
  const value = record[field];
  if (typeof value !== "string") return `${field} must be a string`;
  // Bound the text before decoding: ceil(max × 4 / 3) characters of unpadded base64url.
  if (value.length > Math.ceil(max * 4 / 3)) return `${field} is too long`;
  let bytes: Uint8Array;
  try {
    bytes = fromBase64Url(value);
  } catch {
    return `${field} must be canonical unpadded base64url`;
  }
  if (bytes.length < min || bytes.length > max) {
    return min === max
      ? `${field} must decode to ${min} bytes`
      : `${field} must decode to ${min}..${max} bytes`;
  }
  return bytes;
}

/** Step 1: size and shape. Everything that does not depend on the suite. */
function parseEnvelope(bytes: Uint8Array, topic: string): ParseResult {
  if (!(bytes instanceof Uint8Array)) return { ok: false, detail: "envelope must be bytes" };
  if (bytes.length > ENVELOPE_MAX_BYTES) {
    return { ok: false, detail: `envelope is ${bytes.length} bytes, the cap is ${ENVELOPE_MAX_BYTES}` };
  }
  const topicError = topicProblem(topic);
  if (topicError !== undefined) return { ok: false, detail: topicError };
  let jsonText: string;
  try {
    jsonText = utf8Decode(bytes);
  } catch {
    return { ok: false, detail: "envelope is not valid UTF-8" };
  }
  let value: unknown;
  try {
    value = JSON.parse(jsonText);
  } catch {
    return { ok: false, detail: "envelope is not JSON" };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, detail: "envelope must be a JSON object" };
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (FORBIDDEN_KEYS.has(key)) return { ok: false, detail: `forbidden key ${JSON.stringify(key)}` };
    if (!FIELD_SET.has(key)) {
      return { ok: false, detail: `unknown field ${JSON.stringify(key.slice(0, 32))}` };
    }
  }
  for (const field of ENVELOPE_FIELDS) {
    if (!Object.hasOwn(record, field)) return { ok: false, detail: `missing field ${field}` };
  }
  if (!isCounterLike(record.v)) return { ok: false, detail: "v must be an integer from 0 to 2^53 - 1" };
  if (typeof record.suite !== "string" || !SUITE_PATTERN.test(record.suite)) {
    return {
      ok: false,
      detail: `suite must be 1..${SUITE_MAX_BYTES} printable ASCII characters other than space, '"' and '\\'`,
    };
  }
  if (typeof record.sender !== "string" || !SENDER_PATTERN.test(record.sender)) {
    return { ok: false, detail: "sender must match " + SENDER_PATTERN };
  }
  if (!isCounterLike(record.counter)) {
    return { ok: false, detail: "counter must be a non-negative safe integer" };
  }
  if (!isCounterLike(record.ts)) return { ok: false, detail: "ts must be a non-negative safe integer" };
  if (typeof record.msg_id !== "string" || !MSG_ID_PATTERN.test(record.msg_id)) {
    return { ok: false, detail: "msg_id must match " + MSG_ID_PATTERN };
  }
  const wrappedKey = binaryField(record, "wrapped_key", RSA_WRAPPED_KEY_BYTES, RSA_WRAPPED_KEY_BYTES);
  if (typeof wrappedKey === "string") return { ok: false, detail: wrappedKey };
  const nonce = binaryField(record, "nonce", NONCE_BYTES, NONCE_BYTES);
  if (typeof nonce === "string") return { ok: false, detail: nonce };
  const ciphertext = binaryField(record, "ciphertext", TAG_BYTES, MAX_PLAINTEXT_BYTES + TAG_BYTES);
  if (typeof ciphertext === "string") return { ok: false, detail: ciphertext };
  // A known suite fixes the signature length; an unknown one (UNSUPPORTED next) gets the widest range.
  const sigRange = isSuite(record.suite)
    ? SIGNATURE_BYTES[SUITE_SIGNATURE_SCHEME[record.suite]]
    : { min: MIN_SIGNATURE_BYTES, max: MAX_SIGNATURE_BYTES };
  const sig = binaryField(record, "sig", sigRange.min, sigRange.max);
  if (typeof sig === "string") return { ok: false, detail: sig };
  // One encoding per envelope: re-serialising must give back the input bytes exactly. This rejects
  // duplicate keys (JSON.parse keeps the last silently), whitespace, other field orders, escapes, number
  // forms, and a byte-order mark (which the UTF-8 decoder strips silently).
  if (!bytesEqual(utf8Encode(serializeEnvelope(record as unknown as EnvelopeJson)), bytes)) {
    return {
      ok: false,
      detail: "envelope is not canonical JSON (duplicate key, whitespace, order or escapes)",
    };
  }
  return {
    ok: true,
    envelope: {
      v: record.v,
      suite: record.suite,
      sender: record.sender,
      counter: record.counter,
      ts: record.ts,
      msgId: record.msg_id,
      wrappedKey,
      nonce,
      ciphertext,
      sig,
    },
  };
}

/** The checks of {@link authenticateEnvelope} need all of {@link OpenDeps} but the RSA key and the cache. */
export type AuthenticateDeps = Omit<OpenDeps, "recipientPrivateKey" | "keyCache">;
/** What {@link decryptEnvelope} needs: the recipient's key, the cache, a timer. */
export type DecryptDeps = Pick<OpenDeps, "recipientPrivateKey" | "keyCache" | "perfNow">;

// Only this module can make an AuthenticatedEnvelope: its constructor wants this value.
const MINT: unique symbol = Symbol("AuthenticatedEnvelope");

/**
 * An envelope that passed checks 1–6 of {@link open} (its signature verified, its counter was fresh) and is
 * not decrypted yet. Only {@link authenticateEnvelope} makes one, so {@link decryptEnvelope}, which takes
 * one, cannot run on an envelope whose signature did not verify.
 * @example
 * ```ts
 * const auth = await authenticateEnvelope(payload, topic, { clock, trust, replay });
 * if (auth.ok) auth.envelope.counter; // signed and fresh, not decrypted
 * ```
 */
export class AuthenticatedEnvelope {
  /** Sender id (signed). */
  readonly sender: string;
  /** Counter (signed); record it in the replay state. */
  readonly counter: number;
  /** Sender's timestamp, ms (signed). */
  readonly ts: number;
  /** Message id (signed). */
  readonly msg_id: string;
  /** Suite (signed, and the sender's registered one). */
  readonly suite: Suite;
  /** Topic the envelope arrived on (signed). */
  readonly topic: string;
  /** Wrapped session key bytes (signed). */
  readonly wrappedKey: Uint8Array;
  /** Nonce bytes (signed). */
  readonly nonce: Uint8Array;
  /** Ciphertext ‖ tag bytes (signed). */
  readonly ciphertext: Uint8Array;

  /**
   * Made by {@link authenticateEnvelope} only; any other caller gets a TypeError.
   * @param mint the module's private token
   * @param env the parsed envelope
   * @param suite its suite
   * @param topic the topic it arrived on
   */
  constructor(mint: typeof MINT, env: ParsedEnvelope, suite: Suite, topic: string) {
    if (mint !== MINT) throw new TypeError("an AuthenticatedEnvelope comes from authenticateEnvelope() only");
    this.sender = env.sender;
    this.counter = env.counter;
    this.ts = env.ts;
    this.msg_id = env.msgId;
    this.suite = suite;
    this.topic = topic;
    this.wrappedKey = env.wrappedKey;
    this.nonce = env.nonce;
    this.ciphertext = env.ciphertext;
  }
}

/** Result of {@link authenticateEnvelope}: stages `parse`, `verify`, `replay` as far as reached. */
export type AuthenticateResult =
  | { readonly ok: true; readonly envelope: AuthenticatedEnvelope; readonly stages: OpenStages }
  | { readonly ok: false; readonly code: ReasonCode; readonly detail: string; readonly stages: OpenStages };

/** Result of {@link decryptEnvelope}: stages `unwrap`, `unwrapCached`, `decrypt` as far as reached. */
export type DecryptResult =
  | { readonly ok: true; readonly message: OpenedMessage; readonly stages: OpenStages }
  | {
    readonly ok: false;
    readonly code: "BAD_KEY" | "BAD_CIPHERTEXT";
    readonly detail: string;
    readonly stages: OpenStages;
  };

/** A stopwatch of consecutive laps (all 0 without a timer). */
function stopwatch(perfNow: (() => number) | undefined): () => number {
  const now = perfNow ?? (() => 0);
  let started = now();
  return () => {
    const t = now();
    const elapsed = t - started;
    started = t;
    return elapsed;
  };
}

/**
 * Checks 1–6 of {@link open}: shape, version and suite, sender, time window, signature, counter freshness.
 * Never throws on hostile input; nothing here touches RSA or AES. A receiver that wants to start
 * recording the counter while it decrypts (docs/PROTOCOL.md §8.2 rule 1) calls this, then
 * {@link decryptEnvelope}; everyone else calls {@link open}.
 * @example
 * ```ts
 * const auth = await authenticateEnvelope(payload, "home/lamp/set", { clock, trust, replay });
 * if (auth.ok) {
 *   const [decrypted] = await Promise.all([decryptEnvelope(auth.envelope, { recipientPrivateKey }), record(auth.envelope)]);
 * }
 * ```
 */
export async function authenticateEnvelope(
  bytes: Uint8Array,
  topic: string,
  deps: AuthenticateDeps,
): Promise<AuthenticateResult> {
  const stages: OpenStages = {};
  const fail = (code: ReasonCode, detail: string): AuthenticateResult => ({
    ok: false,
    code,
    detail,
    stages,
  });
  const lap = stopwatch(deps.perfNow);
  // 1. Size and shape.
  const parsed = parseEnvelope(bytes, topic);
  if (!parsed.ok) {
    stages.parse = lap();
    return fail("MALFORMED", parsed.detail);
  }
  const env = parsed.envelope;

  // 2. Version and suite: no downgrade, the sender's trusted suite must be the envelope's.
  if (env.v !== ENVELOPE_VERSION) {
    stages.parse = lap();
    return fail("UNSUPPORTED", `version ${env.v} is not supported`);
  }
  if (!isSuite(env.suite)) {
    stages.parse = lap();
    return fail("UNSUPPORTED", "suite is not supported");
  }
  const suite = env.suite;
  const trusted = await deps.trust.lookup(env.sender);
  if (trusted !== undefined && trusted.suite !== suite) {
    stages.parse = lap();
    return fail("UNSUPPORTED", `sender ${env.sender} is trusted for ${trusted.suite}, not ${suite}`);
  }

  // 3. Known, unrevoked sender.
  if (trusted === undefined) {
    stages.parse = lap();
    return fail("UNKNOWN_SENDER", `sender ${env.sender} is not in the trust list`);
  }
  if (trusted.status !== "active") {
    stages.parse = lap();
    return fail("REVOKED", `sender ${env.sender} is revoked`);
  }

  // 4. Timestamp window.
  const now = deps.clock.now();
  const windowMs = deps.timestampWindowMs ?? TIMESTAMP_WINDOW_MS;
  if (env.ts < now - windowMs) {
    stages.parse = lap();
    return fail("STALE", `ts is ${now - env.ts} ms old, the window is ${windowMs} ms`);
  }
  if (deps.notBeforeMs !== undefined && env.ts < deps.notBeforeMs) {
    stages.parse = lap();
    return fail("STALE", `ts is ${deps.notBeforeMs - env.ts} ms older than the replay state`);
  }
  if (env.ts > now + windowMs) {
    stages.parse = lap();
    return fail("FUTURE", `ts is ${env.ts - now} ms ahead, the window is ${windowMs} ms`);
  }
  stages.parse = lap();

  // 5. Signature, over every field plus the topic.
  const { sender, counter } = env;
  const signed = envelopeSignedBytes({ ...env, suite, topic });
  // A trust entry whose key is of another scheme than its suite can verify nothing.
  const authentic = trusted.publicKey.scheme === SUITE_SIGNATURE_SCHEME[suite] &&
    await verifySignature(trusted.publicKey, signed, env.sig);
  stages.verify = lap();
  if (!authentic) return fail("BAD_SIGNATURE", `signature does not verify for sender ${sender}`);

  // 6. Counter freshness (read-only).
  const fresh = await deps.replay.isFresh(sender, counter);
  stages.replay = lap();
  if (!fresh) return fail("REPLAY", `counter ${counter} is not fresh for sender ${sender}`);

  return { ok: true, envelope: new AuthenticatedEnvelope(MINT, env, suite, topic), stages };
}

/**
 * Checks 7–8 of {@link open} on an envelope {@link authenticateEnvelope} passed: the session key (from
 * the cache, or one RSA private operation), then AES-GCM decryption. Never throws; a key enters the
 * cache only after it decrypted this authentic envelope.
 * @example
 * ```ts
 * const decrypted = await decryptEnvelope(auth.envelope, { recipientPrivateKey, keyCache });
 * if (decrypted.ok) console.log(decrypted.message.plaintext);
 * ```
 */
export async function decryptEnvelope(
  envelope: AuthenticatedEnvelope,
  deps: DecryptDeps,
): Promise<DecryptResult> {
  const stages: OpenStages = {};
  const fail = (code: "BAD_KEY" | "BAD_CIPHERTEXT", detail: string): DecryptResult => ({
    ok: false,
    code,
    detail,
    stages,
  });
  const lap = stopwatch(deps.perfNow);
  const { sender, counter, ts, msg_id, suite, topic, wrappedKey, nonce, ciphertext } = envelope;

  // 7. Session key: from the cache, or one RSA private operation.
  let sessionKey = deps.keyCache?.get(sender, wrappedKey);
  if (sessionKey !== undefined) {
    stages.unwrap = 0;
    stages.unwrapCached = true;
    lap();
  } else {
    try {
      sessionKey = await importAesKey(await unwrapSessionKey(deps.recipientPrivateKey, wrappedKey));
    } catch {
      stages.unwrap = lap();
      return fail("BAD_KEY", "wrapped_key does not unwrap with this recipient's key");
    }
    stages.unwrap = lap();
    stages.unwrapCached = false;
  }

  // 8. Decrypt.
  let plaintext: Uint8Array;
  try {
    const aad = envelopeAssociatedData({ suite, topic, sender, counter, ts });
    plaintext = await aesGcmDecrypt(sessionKey, nonce, ciphertext, aad);
  } catch {
    stages.decrypt = lap();
    return fail("BAD_CIPHERTEXT", "ciphertext does not authenticate under the session key");
  }
  stages.decrypt = lap();
  // Only keys that opened an authentic message are cached.
  deps.keyCache?.set(sender, wrappedKey, sessionKey);

  return { ok: true, message: { sender, counter, ts, msg_id, suite, plaintext }, stages };
}

/**
 * Checks, authenticates and decrypts one envelope that arrived on `topic`: {@link authenticateEnvelope}
 * then {@link decryptEnvelope}. Never throws on hostile input; the checks run in this order, each an early
 * return: MALFORMED → UNSUPPORTED → UNKNOWN_SENDER → REVOKED → STALE / FUTURE → BAD_SIGNATURE → REPLAY →
 * BAD_KEY → BAD_CIPHERTEXT. Nothing reaches RSA or AES before the signature verified. The replay store is
 * only read; commit the counter after `ok: true`.
 * @example
 * ```ts
 * const result = await open(payload, "home/lamp/set", { clock, trust, replay, recipientPrivateKey, keyCache });
 * if (result.ok) replayStore.accept(result.message.sender, result.message.counter);
 * else log.event("rejected", { code: result.code, detail: result.detail });
 * ```
 */
export async function open(bytes: Uint8Array, topic: string, deps: OpenDeps): Promise<OpenResult> {
  const authenticated = await authenticateEnvelope(bytes, topic, deps);
  if (!authenticated.ok) return authenticated;
  const decrypted = await decryptEnvelope(authenticated.envelope, deps);
  return { ...decrypted, stages: { ...authenticated.stages, ...decrypted.stages } };
}
