/**
 * The fixed home the fuzzer attacks: the committed RSA, DSA and Ed25519 keys of `tests/fixtures/envelope_v1/`,
 * a trust list with one DSA, one Ed25519 and one revoked sender, and genuine seed envelopes for both suites
 * over several key epochs. The regression corpus's expected codes hold under {@link fuzzOpenDeps}.
 * @module
 */

import { FakeClock } from "../../core/clock.ts";
import { fromBase64Url, utf8Encode } from "../../crypto/codec.ts";
import {
  EpochKeyCache,
  importEpochKey,
  MAX_PLAINTEXT_BYTES,
  type OpenDeps,
  seal,
  type Suite,
  SUITE_DSA,
  SUITE_ED25519,
} from "../../crypto/envelope.ts";
import { generateRsaKeyPair, wrapSessionKey } from "../../crypto/rsa.ts";
import type { SigningKey } from "../../crypto/signature.ts";
import { encodeReading, makeReading } from "../../roles/door.ts";
import { trustResolver } from "../../roles/secure_actuator.ts";
import { MemoryReplayStore } from "../../store/replay.ts";
import { addSender, emptyTrustList, revoke, type TrustList } from "../../store/trust.ts";
import { loadEnvelopeFixtureKeys } from "../fixture_keys.ts";
import type { FuzzRng } from "./rng.ts";

/** The receiver's clock during fuzzing and corpus replay (2023-11-14T22:13:20Z). */
export const FUZZ_NOW_MS = 1_700_000_000_000;
/** A case whose handling takes longer than this counts as a hang. */
export const FUZZ_HANG_MS = 1_000;
/** The DSA-suite sender. */
export const FUZZ_SENDER_DSA = "sensor-dsa";
/** The Ed25519-suite sender. */
export const FUZZ_SENDER_ED = "sensor-ed";
/** A listed but revoked sender (Ed25519 suite, the Ed25519 fixture key). */
export const FUZZ_SENDER_REVOKED = "sensor-revoked";
/**
 * Highest counter accepted per sender once the seeds went through: the replay state under which the
 * corpus's expected codes hold. Every seed's counter is at or below it, so no seed can be accepted again.
 */
export const FUZZ_ACCEPTED_HIGHEST: Readonly<Record<string, number>> = {
  [FUZZ_SENDER_DSA]: 6,
  [FUZZ_SENDER_ED]: 6,
  [FUZZ_SENDER_REVOKED]: 1,
};
/** Queue bound of the fuzzed actuator: small, so bursts reach `OVERLOADED`. */
export const FUZZ_QUEUE_LIMIT = 8;

/** The epochs of the seed envelopes: one array of counters per epoch key. */
const SEED_EPOCHS: Readonly<Record<string, readonly (readonly number[])[]>> = {
  [FUZZ_SENDER_DSA]: [[1, 2], [3], [4, 5, 6]],
  [FUZZ_SENDER_ED]: [[1, 2, 3], [4], [5, 6]],
  [FUZZ_SENDER_REVOKED]: [[1]],
};
/**
 * The topic most seeds are sealed for. Not a device topic (`home/secure/<id>/door`), so the receiver's
 * topic binding (TOPIC_MISMATCH) does not apply and every mutation reaches the envelope's own checks.
 */
export const SEED_TOPIC = "home/secure/door";
/** The second topic the seeds are sealed for, beside {@link SEED_TOPIC} (some mutations swap them). */
export const OTHER_SEED_TOPIC = "home/secure/garage";

/** A sender of the fuzz home with its private key. */
export interface FuzzSigner {
  readonly sender: string;
  readonly suite: Suite;
  readonly signingKey: SigningKey;
}

/** The fixed keys and trust list; enough to replay the corpus. */
export interface FuzzKeys {
  readonly recipientPrivateKey: CryptoKey;
  readonly recipientPublicKey: CryptoKey;
  readonly trustList: TrustList;
  /** Active and revoked senders, by id. */
  readonly signers: Readonly<Record<string, FuzzSigner>>;
  /** q of the DSA sender's domain, for signature malleation. */
  readonly dsaQ: bigint;
}

/** One genuine envelope the mutations start from. */
export interface SeedEnvelope {
  readonly sender: string;
  readonly suite: Suite;
  readonly counter: number;
  readonly ts: number;
  readonly topic: string;
  readonly bytes: Uint8Array;
  /** The epoch's raw session key and its wrapped form (signed mutations reuse them). */
  readonly sessionKey: Uint8Array;
  readonly wrappedKey: Uint8Array;
  readonly nonce: Uint8Array;
  readonly ciphertext: Uint8Array;
  readonly msgId: string;
}

/** A home with its seeds. */
export interface FuzzHome extends FuzzKeys {
  readonly seeds: readonly SeedEnvelope[];
  /** An RSA key that is not the recipient's, to wrap session keys nobody here can unwrap. */
  readonly foreignRsaPublicKey: CryptoKey;
}

/**
 * Loads the committed fixture keys and builds the trust list of the fuzz home.
 * @example
 * ```ts
 * const keys = await loadFuzzKeys();
 * const deps = fuzzOpenDeps(keys);
 * ```
 */
export async function loadFuzzKeys(): Promise<FuzzKeys> {
  const { rsaPublic, rsaPrivate, senders } = await loadEnvelopeFixtureKeys();
  const dsa = senders[SUITE_DSA];
  const ed = senders[SUITE_ED25519];
  let trustList = addSender(emptyTrustList(), FUZZ_SENDER_DSA, {
    suite: SUITE_DSA,
    publicKeyPem: dsa.publicKeyPem,
  });
  trustList = addSender(trustList, FUZZ_SENDER_ED, { suite: SUITE_ED25519, publicKeyPem: ed.publicKeyPem });
  trustList = addSender(trustList, FUZZ_SENDER_REVOKED, {
    suite: SUITE_ED25519,
    publicKeyPem: ed.publicKeyPem,
  });
  trustList = revoke(trustList, FUZZ_SENDER_REVOKED);
  const dsaKey = dsa.signingKey;
  const edKey = ed.signingKey;
  const dsaVerifying = dsa.publicKey;
  if (dsaVerifying.scheme !== "dsa-2048") throw new Error("expected a DSA verifying key");
  return {
    recipientPrivateKey: rsaPrivate,
    recipientPublicKey: rsaPublic,
    trustList,
    signers: {
      [FUZZ_SENDER_DSA]: { sender: FUZZ_SENDER_DSA, suite: SUITE_DSA, signingKey: dsaKey },
      [FUZZ_SENDER_ED]: { sender: FUZZ_SENDER_ED, suite: SUITE_ED25519, signingKey: edKey },
      [FUZZ_SENDER_REVOKED]: { sender: FUZZ_SENDER_REVOKED, suite: SUITE_ED25519, signingKey: edKey },
    },
    dsaQ: dsaVerifying.key.domain.q,
  };
}

/**
 * A clock frozen at {@link FUZZ_NOW_MS}.
 * @example
 * ```ts
 * fuzzClock().now(); // 1_700_000_000_000
 * ```
 */
export function fuzzClock(): FakeClock {
  return new FakeClock(FUZZ_NOW_MS);
}

/**
 * `open()` dependencies of the fixed home after its seeds were accepted: fixed clock, trust list, and a
 * replay state holding {@link FUZZ_ACCEPTED_HIGHEST}. The corpus's expected codes hold under these.
 * @example
 * ```ts
 * const result = await open(payload, topic, fuzzOpenDeps(await loadFuzzKeys()));
 * ```
 */
export function fuzzOpenDeps(
  keys: FuzzKeys,
  keyCache?: EpochKeyCache,
): OpenDeps & { replay: MemoryReplayStore } {
  const replay = new MemoryReplayStore();
  for (const [sender, highest] of Object.entries(FUZZ_ACCEPTED_HIGHEST)) replay.accept(sender, highest);
  return {
    clock: fuzzClock(),
    trust: trustResolver(keys.trustList),
    replay,
    recipientPrivateKey: keys.recipientPrivateKey,
    keyCache,
  };
}

/** The reading a seed carries; the Ed25519 sender's 5th is padded to a large (~6 KB) envelope. */
function seedPlaintext(sender: string, counter: number, ts: number): Uint8Array {
  const reading = makeReading(sender, counter, ts, 21.5);
  if (sender === FUZZ_SENDER_ED && counter === 5) {
    // A reading has exactly its seven members (PROTOCOL.md §9) but may hold JSON whitespace; this much
    // brings the envelope near its 8 KiB cap.
    return utf8Encode("{" + " ".repeat(MAX_PLAINTEXT_BYTES - 200) + JSON.stringify(reading).slice(1));
  }
  return encodeReading(reading);
}

/**
 * Loads the keys and seals the seed envelopes: both suites, several epochs, two topics.
 * @example
 * ```ts
 * const home = await buildFuzzHome(new FuzzRng(1));
 * home.seeds.length; // 13
 * ```
 */
export async function buildFuzzHome(rng: FuzzRng): Promise<FuzzHome> {
  const keys = await loadFuzzKeys();
  const foreign = await generateRsaKeyPair();
  const seeds: SeedEnvelope[] = [];
  for (const [sender, epochs] of Object.entries(SEED_EPOCHS)) {
    const signer = keys.signers[sender];
    for (const counters of epochs) {
      const sessionKey = rng.bytes(32);
      const wrappedKey = await wrapSessionKey(keys.recipientPublicKey, sessionKey);
      const epochKey = await importEpochKey(sessionKey, wrappedKey, { maxMessages: counters.length });
      for (const counter of counters) {
        // Spread over the window: counter 1 is 18 s old, counter 6 is 17 s ahead of the receiver's clock.
        const ts = FUZZ_NOW_MS - 25_000 + counter * 7_000;
        const topic = counter === 3 ? OTHER_SEED_TOPIC : SEED_TOPIC;
        const msgId = `${sender}-${counter}`;
        const bytes = await seal({
          topic,
          sender,
          counter,
          ts,
          msgId,
          plaintext: seedPlaintext(sender, counter, ts),
          suite: signer.suite,
          signingKey: signer.signingKey,
          epochKey,
          randomBytes: (n) => rng.bytes(n),
        });
        const json = JSON.parse(new TextDecoder().decode(bytes));
        seeds.push({
          sender,
          suite: signer.suite,
          counter,
          ts,
          topic,
          bytes,
          sessionKey,
          wrappedKey,
          nonce: fromBase64Url(json.nonce),
          ciphertext: fromBase64Url(json.ciphertext),
          msgId,
        });
      }
    }
  }
  return { ...keys, seeds, foreignRsaPublicKey: foreign.publicKey };
}

/**
 * The seeds of the active (not revoked) senders: the ones the actuator acts on.
 * @example
 * ```ts
 * activeSeeds(home).length; // 12
 * ```
 */
export function activeSeeds(home: FuzzHome): SeedEnvelope[] {
  return home.seeds.filter((s) => s.sender !== FUZZ_SENDER_REVOKED);
}
