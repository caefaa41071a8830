/**
 * The Phase II sensor's sealing: each reading becomes an envelope (docs/PROTOCOL.md) under the current
 * key epoch, with the crypto cost of each stage reported for the log. The next epoch's key is made ahead
 * of use (roles/key_prefetch.ts), so a seal that opens an epoch does not wait for an RSA wrap.
 * @module
 */

import { utf8Encode } from "../crypto/codec.ts";
import {
  type EpochKey,
  newEpochKey,
  type RandomBytes,
  sealMeasured,
  type Suite,
} from "../crypto/envelope.ts";
import type { SigningKey } from "../crypto/signature.ts";
import { KeyPrefetch, type KeySource } from "./key_prefetch.ts";
import type { ReadingSealer } from "./sensor.ts";

/** What the secure sealer needs. */
export interface SecureSealerOptions {
  /** Topic the envelopes are published on (it is signed). */
  topic: string;
  /** The sensor's id (the envelope's `sender`). */
  sensorId: string;
  /** The sensor's suite. */
  suite: Suite;
  /** The sensor's signing key. */
  signingKey: SigningKey;
  /** The actuator's RSA-OAEP public key, to wrap each epoch's session key to. */
  recipientPublicKey: CryptoKey;
  /** Messages per key epoch; 1 = a fresh AES key per message. */
  epochLength: number;
  /** Randomness for session keys and nonces (default WebCrypto). */
  randomBytes?: RandomBytes;
  /** High-resolution timer for stage costs (default performance.now). */
  perfNow?: () => number;
  /**
   * Make each epoch's key ahead of use: the first when the sealer is made, the next as soon as a seal used
   * up the current one (default true). `false` makes it inside the seal that needs it, as before.
   */
  prefetchKeys?: boolean;
}

/** A {@link ReadingSealer} that may be making a key in the background. */
export interface SecureSealer extends ReadingSealer {
  /** Resolves once no key is being made in the background (call before shutting down). */
  idle(): Promise<void>;
}

/** Default random source: WebCrypto's CSPRNG. */
export const webCryptoRandom: RandomBytes = (n) => crypto.getRandomValues(new Uint8Array(n));

/**
 * A {@link ReadingSealer} that seals each reading into an envelope and reports
 * `stages = { sign_ms, wrap_ms, encrypt_ms, seal_ms }` and `key_source`: `wrap_ms` is the time this seal
 * spent getting a new epoch key (0 when the epoch key was reused, near 0 when it was prepared ahead), and
 * `key_source` says where the key came from (`reused`, or a {@link KeySource}).
 * @example
 * ```ts
 * const seal = secureSealer({ topic, sensorId, suite, signingKey, recipientPublicKey, epochLength: 1 });
 * const { payload } = await seal(reading);
 * await seal.idle(); // before shutting down
 * ```
 */
export function secureSealer(options: SecureSealerOptions): SecureSealer {
  const randomBytes = options.randomBytes ?? webCryptoRandom;
  const perfNow = options.perfNow ?? (() => performance.now());
  const makeEpochKey = () =>
    newEpochKey(options.recipientPublicKey, randomBytes, { maxMessages: options.epochLength });
  const prefetch = options.prefetchKeys === false ? undefined : new KeyPrefetch(makeEpochKey);
  prefetch?.prepare();
  let epoch: EpochKey | undefined;
  const seal = async (reading: Parameters<ReadingSealer>[0]) => {
    const start = perfNow();
    let wrapMs = 0;
    let keySource: KeySource | "reused" = "reused";
    if (!epoch || epoch.exhausted) {
      // A prepared key is taken only here, to open a new epoch, and the prefetcher hands each out once:
      // no key is shared between epochs.
      const taken = prefetch
        ? await prefetch.take()
        : { key: await makeEpochKey(), source: "on_demand" as const };
      epoch = taken.key;
      keySource = taken.source;
      wrapMs = perfNow() - start;
    }
    const { envelope, stages } = await sealMeasured({
      topic: options.topic,
      sender: options.sensorId,
      counter: reading.counter,
      ts: reading.timestamp,
      msgId: reading.msg_id,
      plaintext: utf8Encode(JSON.stringify(reading)),
      suite: options.suite,
      signingKey: options.signingKey,
      epochKey: epoch,
      randomBytes,
      perfNow,
    });
    // This seal used the epoch up: the next one will need a key, so start making it now.
    if (epoch.exhausted) prefetch?.prepare();
    return {
      payload: envelope,
      fields: {
        suite: options.suite,
        epoch_length: options.epochLength,
        stages: {
          sign_ms: round(stages.sign),
          wrap_ms: round(wrapMs),
          encrypt_ms: round(stages.encrypt),
          seal_ms: round(perfNow() - start),
        },
        key_source: keySource,
      },
    };
  };
  return Object.assign(seal, { idle: async () => await prefetch?.idle() });
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
