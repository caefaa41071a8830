/**
 * The Phase II actuator's judgement of one message: authenticate the envelope (crypto/envelope.ts checks
 * shape, version, sender, time window, signature, freshness), then unwrap, decrypt and check the reading
 * while the counter is made durable in the replay store, and say yes only when both are done. Anything else is a
 * rejection with a stable code; a byte-identical copy of a remembered accepted message (a QoS 1
 * redelivery) is reported as a duplicate. docs/PROTOCOL.md §6 and §8.2 are the rules followed here.
 * @module
 */

import {
  type AuthenticatedEnvelope,
  authenticateEnvelope,
  decryptEnvelope,
  DEFAULT_KEY_CACHE_ENTRIES,
  ENVELOPE_MAX_BYTES,
  EpochKeyCache,
  type OpenedMessage,
  REASON_CODES,
  type Suite,
  SUITE_SIGNATURE_SCHEME,
  SUITES,
  type TrustEntry,
} from "../crypto/envelope.ts";
import { importVerifyingKeyPem } from "../crypto/signature.ts";
import { lookup, type TrustList } from "../store/trust.ts";
import { utf8Decode } from "../crypto/codec.ts";
import { payloadDigest } from "../core/digest.ts";
import type { RateLimit } from "../core/token_bucket.ts";
import type { AcceptResult, ReplayState } from "../store/replay.ts";
import type { MessageOpener, Verdict } from "./actuator.ts";
import type { CommitBatcher } from "./commit_batcher.ts";
import { checkSecureReading, deviceIdOfTopic, type DoorReading } from "./door.ts";

/** Reason code for a QoS 1 redelivery of a message already acted on (logged as `duplicate`). */
export const DUPLICATE_CODE = "DUPLICATE";
/**
 * The duplicate memory (docs/PROTOCOL.md §8.2 rule 4): digests of the last this many accepted envelopes,
 * all senders together, oldest forgotten first; a byte-identical copy of one of them is a duplicate. Kept
 * in memory only, so it is empty after a restart.
 */
export const RECENT_ACCEPTED_LIMIT = 4096;

/**
 * Every code the secure receiver can reject a message with: {@link REASON_CODES} of `open()` (§6 checks
 * 1–8), then the receiver's own (checks 9–10, its queue, the topic binding and the per-sender rate). The
 * closed table of docs/PROTOCOL.md §6.
 */
export const RECEIVER_REASON_CODES = [
  ...REASON_CODES,
  "BAD_READING",
  "STATE_WRITE_FAILED",
  "OVERLOADED",
  "TOPIC_MISMATCH",
  "RATE_LIMITED",
] as const;
/**
 * The per-sender rate of authentic messages the actuator acts on: 50 a second, 500 at once. A door sensor
 * sends a few a minute; a compromised but trusted device flooding valid envelopes is cut to 50 a second
 * and the rest refused as RATE_LIMITED (docs/RELIABILITY.md, "Flood").
 */
export const DEFAULT_SENDER_RATE: RateLimit = { ratePerS: 50, burst: 500 };

/** A code of {@link RECEIVER_REASON_CODES}. */
export type ReceiverReasonCode = typeof RECEIVER_REASON_CODES[number];

/** What the secure opener needs. */
export interface SecureOpenerDeps {
  clock: { now(): number };
  /** Sender id → trust entry (public key imported, suite, status). */
  trust: { lookup(sender: string): TrustEntry | undefined | Promise<TrustEntry | undefined> };
  /** Durable replay state. */
  replay: ReplayState;
  /** The actuator's RSA-OAEP private key. */
  recipientPrivateKey: CryptoKey;
  /** Accepted clock skew, ms. */
  timestampWindowMs: number;
  /** Unwrapped epoch keys. */
  keyCache: EpochKeyCache;
  /** High-resolution timer for stage costs (default performance.now). */
  perfNow?: () => number;
  /**
   * Group commit: counters are recorded in batches (one durable transaction each) instead of one
   * transaction per message; a verdict still waits until its counter is durable. Default: none.
   */
  batcher?: Pick<CommitBatcher, "submit">;
  /**
   * Per-sender rate of authentic messages (§6 check 9b): false refuses the message as RATE_LIMITED,
   * before its counter is recorded. Default: no limit.
   */
  senderLimit?: { take(sender: string, nowMs: number): boolean };
  /**
   * Start recording the counter (check 10) as soon as the signature and freshness checks passed, while the
   * session key is unwrapped and the message decrypted and checked (default false). The message is still
   * acted on only after both finished and the counter is durable; a message refused by check 7, 8 or 9 has
   * then consumed its counter (docs/PROTOCOL.md §8.2 rule 1). Off by default: the overlap widens the
   * window in which a crash leaves a counter recorded and its message not acted on (a kill -9 between the
   * two turns the broker's redelivery into REPLAY; tests/integration/faults_test.ts found it).
   */
  overlapCommit?: boolean;
}

/**
 * Builds the Phase II {@link MessageOpener}.
 * @example
 * ```ts
 * const openMessage = secureOpener({ clock, trust, replay, recipientPrivateKey, timestampWindowMs: 30_000, keyCache });
 * const verdict = await openMessage("home/secure/door-sensor-1/door", bytes);
 * ```
 */
export function secureOpener(deps: SecureOpenerDeps): MessageOpener {
  const perfNow = deps.perfNow ?? (() => performance.now());
  const overlapCommit = deps.overlapCommit ?? false;
  const recent = new Map<string, string>();
  const remember = (key: string, digest: string) => {
    recent.set(key, digest);
    if (recent.size > RECENT_ACCEPTED_LIMIT) recent.delete(recent.keys().next().value!);
  };
  const commit = async (sender: string, counter: number): Promise<AcceptResult> => {
    if (!deps.batcher) return deps.replay.accept(sender, counter);
    const outcome = await deps.batcher.submit(sender, counter);
    if (outcome.ok || outcome.code === "REPLAY") return outcome;
    throw new Error(outcome.detail);
  };
  // Counters reach the replay store in the order messages were handed to the opener, even when several
  // are opened at once and finish out of order: a sender's counter 6 committed before its 5 would turn
  // the 5 into a false REPLAY.
  let previousCommit: Promise<void> = Promise.resolve();

  return async (topic, payload): Promise<Verdict> => {
    const myTurn = previousCommit;
    let releaseTurn!: () => void;
    // The next message's turn comes when this one released it AND its own turn came: a message that
    // returns early (a bad signature) must not let a later one commit before an earlier one still opening.
    previousCommit = new Promise((resolve) => releaseTurn = () => resolve(myTurn));
    try {
      return await judge(topic, payload, myTurn, releaseTurn);
    } finally {
      releaseTurn();
    }
  };

  /**
   * Check 10: waits for this message's turn, submits its counter, lets the next message submit, and
   * resolves once the counter is durable (or refused, or failed). Never rejects.
   */
  async function commitInTurn(
    sender: string,
    counter: number,
    myTurn: Promise<void>,
    releaseTurn: () => void,
  ): Promise<Commitment> {
    await myTurn;
    const commitStart = perfNow();
    try {
      const committed = commit(sender, counter);
      releaseTurn(); // submitted (or, unbatched, already written): the next message may queue its counter
      const accepted = await committed;
      return { ok: true, accepted, ms: perfNow() - commitStart };
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      return { ok: false, detail, ms: perfNow() - commitStart };
    }
  }

  /** Checks 7–9: the session key, the decryption, and the reading in the plaintext. Never rejects. */
  async function readContent(
    envelope: AuthenticatedEnvelope,
    stages: JudgeStages,
  ): Promise<
    { ok: true; message: OpenedMessage; reading: DoorReading; keyCached: boolean } | {
      ok: false;
      verdict: Verdict;
    }
  > {
    const decrypted = await decryptEnvelope(envelope, {
      recipientPrivateKey: deps.recipientPrivateKey,
      keyCache: deps.keyCache,
      perfNow,
    });
    stages.unwrap_ms = round(decrypted.stages.unwrap);
    stages.decrypt_ms = round(decrypted.stages.decrypt);
    if (!decrypted.ok) {
      return {
        ok: false,
        verdict: { ok: false, code: decrypted.code, detail: decrypted.detail, fields: { stages } },
      };
    }
    const { message } = decrypted;
    // Check 9: an authentic envelope whose content is not a reading from that very sender is not acted on.
    const reading = checkSecureReading(message.plaintext, message);
    if (!reading.ok) {
      return {
        ok: false,
        verdict: {
          ok: false,
          code: "BAD_READING",
          detail: reading.detail,
          fields: { stages, sensor_id: message.sender, msg_id: message.msg_id },
        },
      };
    }
    return { ok: true, message, reading: reading.reading, keyCached: decrypted.stages.unwrapCached === true };
  }

  async function judge(
    topic: string,
    payload: Uint8Array,
    myTurn: Promise<void>,
    releaseTurn: () => void,
  ): Promise<Verdict> {
    const start = perfNow();
    // Check 0b, before any expensive work: on a device topic (home/secure/<id>/door) the envelope must be
    // that device's. The topic is signed too, but this refuses a flood in another's name for one JSON parse.
    const mismatch = topicMismatch(topic, payload);
    if (mismatch) {
      return {
        ok: false,
        code: "TOPIC_MISMATCH",
        detail: `envelope of sender ${
          JSON.stringify(mismatch.sender.slice(0, 64))
        } on the topic of ${mismatch.device}`,
        fields: { sensor_id: mismatch.device },
      };
    }
    // Checks 1–6: nothing past here runs for an envelope whose signature did not verify.
    const auth = await authenticateEnvelope(payload, topic, {
      clock: deps.clock,
      trust: deps.trust,
      replay: deps.replay,
      timestampWindowMs: deps.timestampWindowMs,
      // The state knows no counter from before it was created: older envelopes cannot be judged fresh.
      notBeforeMs: deps.replay.createdAtMs,
      perfNow,
    });
    const stages: JudgeStages = {
      parse_ms: round(auth.stages.parse),
      verify_ms: round(auth.stages.verify),
      replay_ms: round(auth.stages.replay),
      unwrap_ms: 0,
      decrypt_ms: 0,
    };
    if (!auth.ok) {
      if (auth.code === "REPLAY") {
        const { sender, counter } = claimedIdentity(payload);
        if (sender !== undefined && recent.get(`${sender}\0${counter}`) === payloadDigest(payload)) {
          return {
            ok: false,
            code: DUPLICATE_CODE,
            detail: "QoS 1 redelivery of a message already acted on",
            fields: { sensor_id: sender, counter },
          };
        }
      }
      return { ok: false, code: auth.code, detail: auth.detail, fields: { stages } };
    }
    const { envelope } = auth;
    const withinRate = () => !deps.senderLimit || deps.senderLimit.take(envelope.sender, deps.clock.now());

    let content: Awaited<ReturnType<typeof readContent>>;
    let commitment: Commitment | undefined;
    let rateLimited: boolean;
    if (overlapCommit) {
      // The signature authenticated the counter, so the durable write need not wait for the decryption:
      // both run at once (docs/PROTOCOL.md §8.2 rule 1). Check 9b is taken first, so a rate-limited
      // message never reaches the store and its counter is not consumed. The decryption is started first:
      // an unbatched commit is a synchronous write, and the RSA and AES work then runs beside it.
      rateLimited = !withinRate();
      const reading = readContent(envelope, stages);
      const committing = rateLimited
        ? undefined
        : commitInTurn(envelope.sender, envelope.counter, myTurn, releaseTurn);
      [content, commitment] = await Promise.all([reading, committing]);
      // A failure of checks 7–9 keeps its code (the first failing check), though the counter is consumed:
      // only the holder of the sender's key could have signed this counter, so burning it denies nothing
      // but that sender's own broken message.
      if (!content.ok) return content.verdict;
    } else {
      content = await readContent(envelope, stages);
      if (!content.ok) return content.verdict;
      // Check 9b: refused before the commit, so the counter is not consumed.
      rateLimited = !withinRate();
      if (!rateLimited) {
        commitment = await commitInTurn(envelope.sender, envelope.counter, myTurn, releaseTurn);
      }
    }
    const { message } = content;
    // Check 9b: a trusted sender (perhaps a compromised device) cannot monopolise the actuator.
    if (rateLimited || commitment === undefined) {
      return {
        ok: false,
        code: "RATE_LIMITED",
        detail: `sender ${message.sender} is over its rate`,
        fields: { stages, sensor_id: message.sender, msg_id: message.msg_id },
      };
    }
    stages.commit_ms = round(commitment.ms);
    if (!commitment.ok) {
      // Never act without recording: a failed commit is a rejection, and says why.
      return {
        ok: false,
        code: "STATE_WRITE_FAILED",
        detail: commitment.detail,
        fields: { stages, sensor_id: message.sender },
      };
    }
    if (!commitment.accepted.ok) {
      // Two copies of one message opened side by side both look fresh until the first is committed.
      if (recent.get(`${message.sender}\0${message.counter}`) === payloadDigest(payload)) {
        return {
          ok: false,
          code: DUPLICATE_CODE,
          detail: "QoS 1 redelivery of a message already acted on",
          fields: { sensor_id: message.sender, counter: message.counter },
        };
      }
      return {
        ok: false,
        code: "REPLAY",
        detail: "counter was accepted meanwhile",
        fields: { stages, sensor_id: message.sender },
      };
    }
    // Only here, with the counter durable and every check passed, is the message acted on.
    remember(`${message.sender}\0${message.counter}`, payloadDigest(payload));
    stages.total_ms = round(perfNow() - start);
    return {
      ok: true,
      reading: { ...content.reading, timestamp: message.ts },
      fields: {
        suite: message.suite,
        key_cached: content.keyCached,
        commit_overlapped: overlapCommit,
        stages,
      },
    };
  }
}

/** The per-stage milliseconds a verdict reports (docs/LOG.md, `action.stages`). */
interface JudgeStages {
  parse_ms: number;
  verify_ms: number;
  replay_ms: number;
  unwrap_ms: number;
  decrypt_ms: number;
  commit_ms?: number;
  total_ms?: number;
}

/** The outcome of check 10, with the time it took from this message's turn. */
type Commitment =
  | { ok: true; accepted: AcceptResult; ms: number }
  | { ok: false; detail: string; ms: number };

/**
 * Check 0b of docs/PROTOCOL.md §6: on a device topic (`home/secure/<id>/door`), a message of at most the
 * envelope cap that parses as JSON with a string `sender` other than `<id>`. Returns the two ids, or
 * undefined when the check passes (or does not apply). Costs one JSON parse, no key and no signature.
 * @example
 * ```ts
 * topicMismatch("home/secure/door-sensor-2/door", bytesClaimingDoorSensor1); // { device: "door-sensor-2", sender: "door-sensor-1" }
 * ```
 */
export function topicMismatch(
  topic: string,
  payload: Uint8Array,
): { device: string; sender: string } | undefined {
  const device = deviceIdOfTopic(topic);
  if (device === undefined || payload.length > ENVELOPE_MAX_BYTES) return undefined;
  const { sender } = claimedIdentity(payload);
  return sender !== undefined && sender !== device ? { device, sender } : undefined;
}

function round(ms: number | undefined): number {
  return ms === undefined ? 0 : Math.round(ms * 1000) / 1000;
}

/** The sender and counter an (already rejected as replay) envelope claims, for duplicate detection. */
function claimedIdentity(payload: Uint8Array): { sender?: string; counter?: number } {
  try {
    const value = JSON.parse(utf8Decode(payload));
    return {
      sender: typeof value?.sender === "string" ? value.sender : undefined,
      counter: typeof value?.counter === "number" ? value.counter : undefined,
    };
  } catch {
    return {};
  }
}

/**
 * An in-memory view of the trust list whose verifying keys are imported once, on first use.
 * @example
 * ```ts
 * const trust = trustResolver(loadTrustList("keys/trust.json"));
 * await trust.lookup("door-sensor-1");
 * ```
 */
export function trustResolver(list: TrustList): { lookup(sender: string): Promise<TrustEntry | undefined> } {
  const imported = new Map<string, Promise<TrustEntry | undefined>>();
  return {
    lookup(sender) {
      let entry = imported.get(sender);
      if (!entry) {
        const listed = lookup(list, sender);
        entry = listed === undefined ? Promise.resolve(undefined) : (async () => {
          const suite = listed.suite as Suite;
          if (!(SUITES as readonly string[]).includes(suite)) return undefined;
          const publicKey = await importVerifyingKeyPem(SUITE_SIGNATURE_SCHEME[suite], listed.publicKeyPem);
          return { publicKey, suite, status: listed.status };
        })();
        // Only listed senders are cached, so a flood of invented sender ids cannot grow this map.
        if (listed !== undefined) imported.set(sender, entry);
      }
      return entry;
    },
  };
}

/**
 * An epoch-key cache sized for the home: one live key per trusted sender and room for the next during a
 * change-over. An LRU smaller than the fleet would evict every key before its reuse, and each message
 * would then cost an RSA private-key operation.
 * @example
 * ```ts
 * const keyCache = keyCacheFor(loadTrustList("keys/trust.json"));
 * ```
 */
export function keyCacheFor(trust: TrustList): EpochKeyCache {
  return new EpochKeyCache(Math.max(DEFAULT_KEY_CACHE_ENTRIES, 2 * Object.keys(trust.senders).length));
}
