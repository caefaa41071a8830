/**
 * Phase II wiring for the CLI roles: reads the home made by `secmqtt keygen` (keys, trust list,
 * credentials, counter and replay state) and builds the sealer and opener the roles run with.
 * Missing or unreadable files surface as one-line errors (exit 2); corrupt state as exit 1.
 * @module
 */

import type { Clock } from "../core/clock.ts";
import {
  DEFAULT_KEY_CACHE_ENTRIES,
  EpochKeyCache,
  type Suite,
  SUITE_SIGNATURE_SCHEME,
  SUITES,
} from "../crypto/envelope.ts";
import { importRsaPrivateKeyPem, importRsaPublicKeyPem } from "../crypto/rsa.ts";
import { importSigningKeyPem } from "../crypto/signature.ts";
import type { Log } from "../log/jsonl.ts";
import type { MessageOpener } from "../roles/actuator.ts";
import { CommitBatcher } from "../roles/commit_batcher.ts";
import { secureOpener, trustResolver } from "../roles/secure_actuator.ts";
import { secureSealer } from "../roles/secure_sensor.ts";
import type { ReadingSealer } from "../roles/sensor.ts";
import { CounterStore } from "../store/counter.ts";
import { DEFAULT_ACTUATOR_ID, DEFAULT_KEYS_DIR, homePaths } from "../store/home.ts";
import { checkPrivateKeyMode, readKeyFileText } from "../store/keyfiles.ts";
import { ReplayStore } from "../store/replay.ts";
import { loadTrustList, lookup } from "../store/trust.ts";
import { type ConnectionOptions, type FlagSpec, type ParsedFlags, UsageError } from "./common.ts";

/** Flags that name a secure identity. */
export const SECURE_IDENTITY_FLAGS: FlagSpec = {
  keys: { type: "string" },
  id: { type: "string" },
};

/** Help lines for {@link SECURE_IDENTITY_FLAGS}. */
export const SECURE_IDENTITY_HELP =
  `  --keys DIR             --secure: the home made by 'secmqtt keygen' (default ${DEFAULT_KEYS_DIR}/)`;

function keysDir(values: ParsedFlags["values"]): string {
  return (values.keys as string | undefined) ?? DEFAULT_KEYS_DIR;
}

function asSuite(value: string, source: string): Suite {
  if (!(SUITES as readonly string[]).includes(value)) {
    throw new UsageError(`${source}: unsupported suite '${value}'`);
  }
  return value as Suite;
}

/**
 * In a secure home, a device with no explicit broker credentials logs in as itself with the password
 * keygen wrote to `credentials/<id>.password`.
 * @example
 * ```ts
 * const conn = withHomeCredentials(await connectionFromFlags(flags.values), flags.values, "door-sensor-1");
 * ```
 */
export function withHomeCredentials(
  conn: ConnectionOptions,
  values: ParsedFlags["values"],
  username: string,
): ConnectionOptions {
  if (conn.username !== undefined) return conn;
  const path = homePaths(keysDir(values)).credential(username);
  let password: string;
  try {
    password = Deno.readTextFileSync(path).split(/\r?\n/)[0];
  } catch {
    return conn; // no such account: connect as given (the broker decides)
  }
  return { ...conn, username, password: conn.password ?? password };
}

/**
 * Sensor-side Phase II setup: signing key, the actuator's public key, the persistent counter.
 * @example
 * ```ts
 * const setup = await secureSensorSetup(flags.values, "door-sensor-1", 1, "home/secure/door");
 * ```
 */
export async function secureSensorSetup(
  values: ParsedFlags["values"],
  sensorId: string,
  epochLength: number,
  topic: string,
): Promise<{ seal: ReadingSealer; nextCounter: () => number; close(): void }> {
  const paths = homePaths(keysDir(values));
  const trust = loadTrustList(paths.trust);
  const entry = lookup(trust, sensorId);
  if (!entry) throw new UsageError(`sensor '${sensorId}' is not in ${paths.trust} (see secmqtt keygen)`);
  const suite = asSuite(entry.suite, paths.trust);
  const signingKey = await importSigningKeyPem(
    SUITE_SIGNATURE_SCHEME[suite],
    readKeyFileText(paths.privateKey(sensorId)),
  );
  const actuatorId = (values.actuator as string | undefined) ?? DEFAULT_ACTUATOR_ID;
  const recipientPublicKey = await importRsaPublicKeyPem(readKeyFileText(paths.publicKey(actuatorId)));
  const counter = CounterStore.open(paths.counter(sensorId));
  return {
    seal: secureSealer({ topic, sensorId, suite, signingKey, recipientPublicKey, epochLength }),
    nextCounter: () => counter.next(),
    close: () => counter.close(),
  };
}

/**
 * Actuator-side Phase II setup: RSA private key, trust list, replay database, key cache, and with
 * `batchMs` a group-commit batcher for the replay database.
 * A corrupt replay database throws (the actuator refuses to start; the file is left untouched).
 * @example
 * ```ts
 * const setup = await secureActuatorSetup(flags.values, "door-actuator", { windowMs: 30_000, log, clock });
 * ```
 */
export async function secureActuatorSetup(
  values: ParsedFlags["values"],
  actuatorId: string,
  options: { windowMs: number; log: Log; clock: Clock; batchMs?: number },
): Promise<{ open: MessageOpener; close(): void }> {
  const paths = homePaths(keysDir(values));
  const trust = loadTrustList(paths.trust);
  const keyPath = paths.privateKey(actuatorId);
  const keyText = readKeyFileText(keyPath);
  const mode = checkPrivateKeyMode(keyPath);
  if (!mode.ok) options.log.event("error", { code: mode.code, detail: mode.detail });
  const recipientPrivateKey = await importRsaPrivateKeyPem(keyText);
  const replay = ReplayStore.open((values.state as string | undefined) ?? paths.replayDb(actuatorId));
  const batcher = options.batchMs === undefined
    ? undefined
    : new CommitBatcher({ replay, clock: options.clock }, { maxDelayMs: options.batchMs });
  return {
    open: secureOpener({
      clock: options.clock,
      trust: trustResolver(trust),
      replay,
      recipientPrivateKey,
      timestampWindowMs: options.windowMs,
      // One live epoch key per sender, and room for the next during a change-over: an LRU smaller than
      // the fleet evicts every key before its reuse, and each message would cost an RSA private operation.
      keyCache: new EpochKeyCache(Math.max(DEFAULT_KEY_CACHE_ENTRIES, 2 * Object.keys(trust.senders).length)),
      batcher,
    }),
    close: () => replay.close(),
  };
}
