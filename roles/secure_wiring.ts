/**
 * Phase II wiring: builds a secure sensor's sealer (identity, persistent counter, sealer with key epochs)
 * and a secure actuator's opener (identity, trust list, replay database, opener) from a home made by
 * keygen. The one place that assembles them, for the CLI roles, the in-process home of the demo and the
 * load role. Arguments are typed (ids, paths, options), never command-line flags.
 * @module
 */

import type { Clock } from "../core/clock.ts";
import { KeyedTokenBuckets, type RateLimit } from "../core/token_bucket.ts";
import type { Suite } from "../crypto/envelope.ts";
import type { Log } from "../log/jsonl.ts";
import { CounterStore } from "../store/counter.ts";
import { homePaths } from "../store/home.ts";
import { loadActuatorIdentity, loadSensorIdentities } from "../store/identity.ts";
import { type ReplayState, ReplayStore } from "../store/replay.ts";
import { isPostgresUrl, PgReplayStore } from "../store/replay_pg.ts";
import type { MessageOpener } from "./actuator.ts";
import { CommitBatcher } from "./commit_batcher.ts";
import { DEFAULT_SENDER_RATE, keyCacheFor, secureOpener, trustResolver } from "./secure_actuator.ts";
import { secureTopicFor } from "./door.ts";
import { type SecureSealer, secureSealer } from "./secure_sensor.ts";

/** Default accepted clock skew of message timestamps, ms (the actuator's `--window-ms`). */
export const DEFAULT_TIMESTAMP_WINDOW_MS = 30_000;

/** Which sensors of which home seal, for which actuator, on which topic. */
export interface SecureSensorsSpec {
  /** The home made by keygen. */
  keysDir: string;
  /** The sensors; each must be in the home's trust list. */
  sensorIds: readonly string[];
  /** The actuator whose RSA public key wraps the session keys. */
  actuatorId: string;
  /** Topic the envelopes are published on (it is signed); default each sensor's own, `secureTopicFor(id)`. */
  topic?: string;
  /** Messages per AES key epoch; 1 = a fresh key per message. */
  epochLength: number;
  /** Make each epoch's key ahead of use, off the critical path (default true; see secureSealer). */
  prefetchKeys?: boolean;
}

/** One sensor of a {@link SecureSensorsSpec}, as {@link wireSecureSensor} takes it. */
export type SecureSensorSpec = Omit<SecureSensorsSpec, "sensorIds"> & { sensorId: string };

/** A sensor ready to seal: its sealer and its persistent counter. */
export interface SecureSensorWiring {
  sensorId: string;
  /** The topic its envelopes are sealed for (and must be published on). */
  topic: string;
  suite: Suite;
  /** Seals a reading; `seal.idle()` waits for a key being made in the background. */
  seal: SecureSealer;
  /** The next counter value, durable before it is returned. */
  nextCounter(): number;
  /** Closes the counter file. */
  close(): void;
}

/**
 * Builds one secure sensor: its signing key and suite, the actuator's public key, its persistent
 * counter and a sealer that rekeys every `epochLength` messages.
 * @example
 * ```ts
 * const sensor = await wireSecureSensor({ keysDir: "keys", sensorId: "door-sensor-1", actuatorId: "door-actuator", topic: "home/secure/door-sensor-1/door", epochLength: 1 });
 * const { payload } = await sensor.seal(makeReading("door-sensor-1", sensor.nextCounter(), Date.now(), 21));
 * sensor.close();
 * ```
 */
export async function wireSecureSensor(spec: SecureSensorSpec): Promise<SecureSensorWiring> {
  const [sensor] = await wireSecureSensors({ ...spec, sensorIds: [spec.sensorId] });
  return sensor;
}

/**
 * Builds many secure sensors of one home (the load role's fleet), loading the trust list and the
 * actuator's public key once. Returned in the order of `sensorIds`; if one fails, the counters already
 * opened are closed before the error is thrown.
 * @example
 * ```ts
 * const fleet = await wireSecureSensors({ keysDir: "keys", sensorIds: ["sensor-0001", "sensor-0002"], actuatorId: "door-actuator", epochLength: 100 });
 * ```
 */
export async function wireSecureSensors(spec: SecureSensorsSpec): Promise<SecureSensorWiring[]> {
  const paths = homePaths(spec.keysDir);
  const identities = await loadSensorIdentities(paths, spec.sensorIds, spec.actuatorId);
  const wired: SecureSensorWiring[] = [];
  try {
    for (const [i, sensorId] of spec.sensorIds.entries()) {
      const { suite, signingKey, recipientPublicKey } = identities[i];
      const counter = CounterStore.open(paths.counter(sensorId));
      const topic = spec.topic ?? secureTopicFor(sensorId);
      wired.push({
        sensorId,
        topic,
        suite,
        seal: secureSealer({
          topic,
          sensorId,
          suite,
          signingKey,
          recipientPublicKey,
          epochLength: spec.epochLength,
          prefetchKeys: spec.prefetchKeys,
        }),
        nextCounter: () => counter.next(),
        close: () => counter.close(),
      });
    }
  } catch (error) {
    for (const sensor of wired) sensor.close();
    throw error;
  }
  return wired;
}

/** Which actuator of which home opens, and how. */
export interface SecureActuatorSpec {
  /** The home made by keygen. */
  keysDir: string;
  actuatorId: string;
  /**
   * Replay state: a SQLite file (default: the home's `<actuator>.replay.sqlite`, which keygen creates) or
   * a `postgres://` URL shared by several instances.
   */
  replayDb?: string;
  /** Create the replay state when it is missing (`--init-state`); default: a missing state is refused. */
  initState?: boolean;
  /** Accepted clock skew of message timestamps, ms (default {@link DEFAULT_TIMESTAMP_WINDOW_MS}). */
  windowMs?: number;
  /** Group commit: record counters in one durable transaction per `batchMs` ms (default: one per message). */
  batchMs?: number;
  /** Authentic messages a sender may have acted on, per second (default {@link DEFAULT_SENDER_RATE}). */
  senderRate?: RateLimit | "off";
  /** Record the counter while the message is decrypted, not after (default false; see secureOpener). */
  overlapCommit?: boolean;
}

/** An actuator ready to open: its opener over the replay database. */
export interface SecureActuatorWiring {
  open: MessageOpener;
  /** Closes the replay database. */
  close(): Promise<void>;
}

/**
 * Opens the replay state a `--state` value names: PostgreSQL for a `postgres://` URL, else a SQLite file.
 * Without `init`, a missing state throws {@link StateError} `STATE_MISSING` (fail closed, issue 11).
 * @example
 * ```ts
 * const replay = await openReplayState("keys/door-actuator.replay.sqlite", { init: false });
 * ```
 */
export async function openReplayState(state: string, options: { init: boolean }): Promise<ReplayState> {
  if (isPostgresUrl(state)) return await PgReplayStore.open(state, { init: options.init });
  return ReplayStore.open(state, { create: options.init });
}

/**
 * Builds the secure actuator's opener: RSA private key and trust list, replay database, epoch key cache
 * sized for the home, and with `batchMs` a group-commit batcher. A private key file readable by others
 * is logged as an `error` event with `KEY_FILE_PERMISSIVE` (the actuator still starts). A corrupt replay
 * database throws: the actuator refuses to start and the file is left untouched; so does a missing one
 * unless `initState` is set.
 * @example
 * ```ts
 * const actuator = await wireSecureActuator({ keysDir: "keys", actuatorId: "door-actuator" }, { clock: systemClock, log });
 * const verdict = await actuator.open("home/secure/door-sensor-1/door", payload);
 * await actuator.close();
 * ```
 */
export async function wireSecureActuator(
  spec: SecureActuatorSpec,
  deps: { clock: Clock; log: Log },
): Promise<SecureActuatorWiring> {
  const paths = homePaths(spec.keysDir);
  const { trust, recipientPrivateKey, keyMode } = await loadActuatorIdentity(paths, spec.actuatorId);
  if (!keyMode.ok) deps.log.event("error", { code: keyMode.code, detail: keyMode.detail });
  const replay = await openReplayState(spec.replayDb ?? paths.replayDb(spec.actuatorId), {
    init: spec.initState ?? false,
  });
  const batcher = spec.batchMs === undefined
    ? undefined
    : new CommitBatcher({ replay, clock: deps.clock }, { maxDelayMs: spec.batchMs });
  return {
    open: secureOpener({
      clock: deps.clock,
      trust: trustResolver(trust),
      replay,
      recipientPrivateKey,
      timestampWindowMs: spec.windowMs ?? DEFAULT_TIMESTAMP_WINDOW_MS,
      keyCache: keyCacheFor(trust),
      batcher,
      senderLimit: spec.senderRate === "off"
        ? undefined
        : new KeyedTokenBuckets(spec.senderRate ?? DEFAULT_SENDER_RATE),
      overlapCommit: spec.overlapCommit,
    }),
    close: async () => {
      await batcher?.flush();
      await replay.close();
    },
  };
}
