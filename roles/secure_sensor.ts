/**
 * The Phase II sensor's sealing: each reading becomes an envelope (docs/PROTOCOL.md) under the current
 * key epoch, with the crypto cost of each stage reported for the log.
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
}

/** Default random source: WebCrypto's CSPRNG. */
export const webCryptoRandom: RandomBytes = (n) => crypto.getRandomValues(new Uint8Array(n));

/**
 * A {@link ReadingSealer} that seals each reading into an envelope and reports
 * `stages = { sign_ms, wrap_ms, encrypt_ms, seal_ms }` (wrap_ms is 0 when the epoch key was reused).
 * @example
 * ```ts
 * const seal = secureSealer({ topic, sensorId, suite, signingKey, recipientPublicKey, epochLength: 1 });
 * const { payload } = await seal(reading);
 * ```
 */
export function secureSealer(options: SecureSealerOptions): ReadingSealer {
  const randomBytes = options.randomBytes ?? webCryptoRandom;
  const perfNow = options.perfNow ?? (() => performance.now());
  let epoch: EpochKey | undefined;
  return async (reading) => {
    const start = perfNow();
    let wrapMs = 0;
    if (!epoch || epoch.exhausted) {
      epoch = await newEpochKey(options.recipientPublicKey, randomBytes, {
        maxMessages: options.epochLength,
      });
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
      },
    };
  };
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
