/**
 * Loads a device's identity from a secure home: a sensor's signing key and suite (from the trust list)
 * with the actuator's public key it wraps to, or the actuator's RSA private key with the trust list.
 * Shared by the CLI roles and the in-process home of the demo and tests.
 * @module
 */

import { type Suite, SUITE_SIGNATURE_SCHEME, SUITES } from "../crypto/envelope.ts";
import { importRsaPrivateKeyPem, importRsaPublicKeyPem } from "../crypto/rsa.ts";
import { importSigningKeyPem, type SigningKey } from "../crypto/signature.ts";
import type { HomePaths } from "./home.ts";
import { checkPrivateKeyMode, type KeyModeCheck, readKeyFileText } from "./keyfiles.ts";
import { loadTrustList, lookup, type TrustList } from "./trust.ts";
import { SecmqttError } from "../core/errors.ts";

/** The home does not describe the device asked for; the CLI prints it as one line and exits 2. */
export class IdentityError extends SecmqttError {
  /** Exit-status kind: the home does not describe the device the user named. */
  readonly kind = "input";
  /** Stable code. */
  readonly code: "CONFIG_UNKNOWN_SENSOR" | "CONFIG_UNSUPPORTED_SUITE";
  /** @param code stable code @param message one line naming the file */
  constructor(code: "CONFIG_UNKNOWN_SENSOR" | "CONFIG_UNSUPPORTED_SUITE", message: string) {
    super(message);
    this.name = "IdentityError";
    this.code = code;
  }
}

/** What a secure sensor needs to seal. */
export interface SensorIdentity {
  suite: Suite;
  signingKey: SigningKey;
  /** The actuator's RSA-OAEP public key. */
  recipientPublicKey: CryptoKey;
}

/** What a secure actuator needs to open. */
export interface ActuatorIdentity {
  trust: TrustList;
  recipientPrivateKey: CryptoKey;
  /** Whether the private key file is 0600 (a warning to log when not). */
  keyMode: KeyModeCheck;
}

/**
 * Loads a sensor's signing key (suite from the trust list) and the actuator's public key.
 * @example
 * ```ts
 * const id = await loadSensorIdentity(homePaths("keys"), "door-sensor-1", "door-actuator");
 * ```
 */
export async function loadSensorIdentity(
  paths: HomePaths,
  sensorId: string,
  actuatorId: string,
): Promise<SensorIdentity> {
  const entry = lookup(loadTrustList(paths.trust), sensorId);
  if (!entry) {
    throw new IdentityError(
      "CONFIG_UNKNOWN_SENSOR",
      `sensor '${sensorId}' is not in ${paths.trust} (see secmqtt keygen)`,
    );
  }
  if (!(SUITES as readonly string[]).includes(entry.suite)) {
    throw new IdentityError("CONFIG_UNSUPPORTED_SUITE", `${paths.trust}: unsupported suite '${entry.suite}'`);
  }
  const suite = entry.suite as Suite;
  const signingKey = await importSigningKeyPem(
    SUITE_SIGNATURE_SCHEME[suite],
    readKeyFileText(paths.privateKey(sensorId)),
  );
  const recipientPublicKey = await importRsaPublicKeyPem(readKeyFileText(paths.publicKey(actuatorId)));
  return { suite, signingKey, recipientPublicKey };
}

/**
 * Loads the actuator's RSA private key and the home's trust list.
 * @example
 * ```ts
 * const { trust, recipientPrivateKey } = await loadActuatorIdentity(homePaths("keys"), "door-actuator");
 * ```
 */
export async function loadActuatorIdentity(paths: HomePaths, actuatorId: string): Promise<ActuatorIdentity> {
  const trust = loadTrustList(paths.trust);
  const keyPath = paths.privateKey(actuatorId);
  const keyText = readKeyFileText(keyPath);
  return {
    trust,
    recipientPrivateKey: await importRsaPrivateKeyPem(keyText),
    keyMode: checkPrivateKeyMode(keyPath),
  };
}
