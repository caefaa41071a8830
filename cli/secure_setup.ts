/**
 * Phase II wiring for the CLI roles: reads the home made by `secmqtt keygen` (keys, trust list,
 * credentials, counter and replay state) and builds the sealer and opener the roles run with.
 * Missing or unreadable files surface as one-line errors (exit 2); corrupt state as exit 1.
 * @module
 */

import type { Clock } from "../core/clock.ts";
import type { Log } from "../log/jsonl.ts";
import type { MessageOpener } from "../roles/actuator.ts";
import { CommitBatcher } from "../roles/commit_batcher.ts";
import { keyCacheFor, secureOpener, trustResolver } from "../roles/secure_actuator.ts";
import { secureSealer } from "../roles/secure_sensor.ts";
import type { ReadingSealer } from "../roles/sensor.ts";
import { CounterStore } from "../store/counter.ts";
import { DEFAULT_ACTUATOR_ID, DEFAULT_KEYS_DIR, homePaths } from "../store/home.ts";
import { loadActuatorIdentity, loadSensorIdentity } from "../store/identity.ts";
import { ReplayStore } from "../store/replay.ts";
import type { ConnectionOptions } from "./common.ts";
import { flag, type FlagValues } from "./flags.ts";

/** Flags that name a secure home. */
export const SECURE_IDENTITY_FLAGS = {
  keys: flag.string({
    placeholder: "DIR",
    help: "--secure: the home made by 'secmqtt keygen'",
    default: DEFAULT_KEYS_DIR,
  }),
};

/** The flag values the setup functions read: the home, and the role's own `--actuator` and `--state`. */
export type SecureFlagValues = Partial<FlagValues<typeof SECURE_IDENTITY_FLAGS>> & {
  actuator?: string;
  state?: string;
};

function keysDir(values: SecureFlagValues): string {
  return (values.keys as string | undefined) ?? DEFAULT_KEYS_DIR;
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
  values: SecureFlagValues,
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
  values: SecureFlagValues,
  sensorId: string,
  epochLength: number,
  topic: string,
): Promise<{ seal: ReadingSealer; nextCounter: () => number; close(): void }> {
  const paths = homePaths(keysDir(values));
  const actuatorId = (values.actuator as string | undefined) ?? DEFAULT_ACTUATOR_ID;
  const { suite, signingKey, recipientPublicKey } = await loadSensorIdentity(paths, sensorId, actuatorId);
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
  values: SecureFlagValues,
  actuatorId: string,
  options: { windowMs: number; log: Log; clock: Clock; batchMs?: number },
): Promise<{ open: MessageOpener; close(): void }> {
  const paths = homePaths(keysDir(values));
  const { trust, recipientPrivateKey, keyMode } = await loadActuatorIdentity(paths, actuatorId);
  if (!keyMode.ok) options.log.event("error", { code: keyMode.code, detail: keyMode.detail });
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
      keyCache: keyCacheFor(trust),
      batcher,
    }),
    close: () => replay.close(),
  };
}
