/**
 * Phase II flags for the CLI roles: turns `--keys`, `--actuator`, `--state` and the role's options into
 * the typed arguments of roles/secure_wiring.ts, which reads the home made by `secmqtt keygen` and builds
 * the sealer and opener the roles run with. Missing or unreadable files, and a missing replay state,
 * surface as one-line errors (exit 2); corrupt state as exit 1.
 * @module
 */

import type { RateLimit } from "../core/token_bucket.ts";
import type { Clock } from "../core/clock.ts";
import type { Log } from "../log/jsonl.ts";
import type { MessageOpener } from "../roles/actuator.ts";
import { wireSecureActuator, wireSecureSensor } from "../roles/secure_wiring.ts";
import type { ReadingSealer } from "../roles/sensor.ts";
import { findCredential } from "../store/credentials.ts";
import { DEFAULT_ACTUATOR_ID, DEFAULT_KEYS_DIR, homePaths } from "../store/home.ts";
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
  return values.keys ?? DEFAULT_KEYS_DIR;
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
  // A username given without a password (an actuator instance's -u door-actuator-2) is looked up too.
  if (conn.username !== undefined && (conn.username !== username || conn.password !== undefined)) return conn;
  const own = findCredential(homePaths(keysDir(values)), username);
  if (own === undefined) return conn; // no such account: connect as given (the broker decides)
  return { ...conn, username, password: conn.password ?? own.password };
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
  return await wireSecureSensor({
    keysDir: keysDir(values),
    sensorId,
    actuatorId: values.actuator ?? DEFAULT_ACTUATOR_ID,
    topic,
    epochLength,
  });
}

/**
 * Actuator-side Phase II setup: RSA private key, trust list, replay state (`--state`: a SQLite file or a
 * `postgres://` URL), key cache, and with `batchMs` a group-commit batcher for it.
 * A corrupt replay state throws (the actuator refuses to start; the file is left untouched); so does a
 * missing one unless `initState`.
 * @example
 * ```ts
 * const setup = await secureActuatorSetup(flags.values, "door-actuator", { windowMs: 30_000, log, clock });
 * ```
 */
export async function secureActuatorSetup(
  values: SecureFlagValues,
  actuatorId: string,
  options: {
    windowMs: number;
    log: Log;
    clock: Clock;
    batchMs?: number;
    initState?: boolean;
    senderRate?: RateLimit | "off";
    /** Record each counter while the message is decrypted (see secureOpener; default false). */
    overlapCommit?: boolean;
  },
): Promise<{ open: MessageOpener; close(): Promise<void> }> {
  return await wireSecureActuator(
    {
      keysDir: keysDir(values),
      actuatorId,
      replayDb: values.state,
      windowMs: options.windowMs,
      batchMs: options.batchMs,
      initState: options.initState,
      senderRate: options.senderRate,
      overlapCommit: options.overlapCommit,
    },
    { clock: options.clock, log: options.log },
  );
}
