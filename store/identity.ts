/**
 * Loads a device's identity from a secure home: a sensor's signing key and suite (from the trust list)
 * with the actuator's public key it wraps to, or the actuator's RSA private key with the trust list.
 * The one loader of identities: the CLI roles, the in-process home of the demo and tests, and the load
 * role all come through here (via roles/secure_wiring.ts). A missing or corrupt file is a typed error
 * whose one-line message names the file and the fix.
 * @module
 */

import { type Suite, SUITE_SIGNATURE_SCHEME, SUITES } from "../crypto/envelope.ts";
import { importRsaPrivateKeyPem, importRsaPublicKeyPem } from "../crypto/rsa.ts";
import { importSigningKeyPem, type SigningKey } from "../crypto/signature.ts";
import { type HomePaths, keygenFix } from "./home.ts";
import { checkPrivateKeyMode, importKeyFile, type KeyModeCheck } from "./keyfiles.ts";
import { loadTrustList, lookup, type TrustList } from "./trust.ts";
import { CodedError } from "../core/errors.ts";

/** The home does not describe the device asked for; the CLI prints it as one line and exits 2. */
export class IdentityError extends CodedError<"CONFIG_UNKNOWN_SENSOR" | "CONFIG_UNSUPPORTED_SUITE"> {
  /** Exit-status kind: the home does not describe the device the user named. */
  readonly kind = "input";
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
  const [identity] = await loadSensorIdentities(paths, [sensorId], actuatorId);
  return identity;
}

/**
 * Loads many sensors of one home at once (the load role's fleet): the trust list is read and the
 * actuator's public key imported once for all of them. Identities come back in the order of `sensorIds`.
 * @example
 * ```ts
 * const fleet = await loadSensorIdentities(homePaths("keys"), ["sensor-0001", "sensor-0002"], "door-actuator");
 * ```
 */
export async function loadSensorIdentities(
  paths: HomePaths,
  sensorIds: readonly string[],
  actuatorId: string,
): Promise<SensorIdentity[]> {
  const trust = loadTrustList(paths.trust);
  const fix = keygenFix(paths.dir);
  const recipientPublicKey = await importKeyFile(paths.publicKey(actuatorId), importRsaPublicKeyPem, {
    label: "actuator public key",
    fix,
  });
  const identities: SensorIdentity[] = [];
  for (const sensorId of sensorIds) {
    const suite = sensorSuite(trust, sensorId, paths.trust);
    const signingKey = await importKeyFile(
      paths.privateKey(sensorId),
      (pem) => importSigningKeyPem(SUITE_SIGNATURE_SCHEME[suite], pem),
      { label: "sensor private key", fix },
    );
    identities.push({ suite, signingKey, recipientPublicKey });
  }
  return identities;
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
  const recipientPrivateKey = await importKeyFile(keyPath, importRsaPrivateKeyPem, {
    label: "actuator private key",
    fix: keygenFix(paths.dir),
  });
  return { trust, recipientPrivateKey, keyMode: checkPrivateKeyMode(keyPath) };
}

/** The suite a listed sensor signs with; an unlisted sensor or an unknown suite is an {@link IdentityError}. */
function sensorSuite(trust: TrustList, sensorId: string, trustPath: string): Suite {
  const entry = lookup(trust, sensorId);
  if (!entry) {
    throw new IdentityError(
      "CONFIG_UNKNOWN_SENSOR",
      `sensor '${sensorId}' is not in ${trustPath} (see secmqtt keygen)`,
    );
  }
  if (!(SUITES as readonly string[]).includes(entry.suite)) {
    throw new IdentityError("CONFIG_UNSUPPORTED_SUITE", `${trustPath}: unsupported suite '${entry.suite}'`);
  }
  return entry.suite as Suite;
}
