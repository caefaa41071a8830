/**
 * The layout of a secure home's directory, as `secmqtt keygen` writes it and the secure roles read it.
 * The one place that knows file names.
 *
 * ```
 * keys/
 *   dsa-params.pem              the home's DSA domain (public)
 *   <device>.key.pem            private key, mode 0600 (sensor: DSA/Ed25519 signing; actuator: RSA-OAEP)
 *   <device>.pub.pem            public key
 *   trust.json                  sender id → public key, suite, status (the actuator's trust list)
 *   passwd                      Mosquitto password file ($7$ PBKDF2-SHA512)
 *   acl                         Mosquitto ACL file
 *   credentials/<user>.password the device's broker password, mode 0600
 *   tls/ca.crt                  the home's certificate authority (public; clients verify the broker with it)
 *   tls/broker.crt              the broker's TLS certificate, signed by ca.crt
 *   tls/broker.key              the broker's TLS private key, mode 0600
 *   mosquitto.conf              a Mosquitto 2 config for this home: one TLS listener on 8883
 *   mosquitto-data/             Mosquitto's persistence directory (runtime state)
 *   <sensor>.counter            the sensor's persistent counter (runtime state)
 *   <actuator>.replay.sqlite    the actuator's replay database (runtime state)
 * ```
 * @module
 */

import { join } from "node:path";

/** Default directory of the secure home. */
export const DEFAULT_KEYS_DIR = "keys";
/** Default actuator id. */
export const DEFAULT_ACTUATOR_ID = "door-actuator";
/** Default sensor id. */
export const DEFAULT_SENSOR_ID = "door-sensor-1";

/** Paths inside one home directory. */
export interface HomePaths {
  dir: string;
  dsaParams: string;
  trust: string;
  passwd: string;
  acl: string;
  credentialsDir: string;
  tlsDir: string;
  caCert: string;
  brokerCert: string;
  brokerKey: string;
  mosquittoConf: string;
  mosquittoDataDir: string;
  privateKey(device: string): string;
  publicKey(device: string): string;
  credential(username: string): string;
  counter(sensor: string): string;
  replayDb(actuator: string): string;
}

/**
 * The paths of a home directory.
 * @example
 * ```ts
 * homePaths("keys").privateKey("door-sensor-1"); // "keys/door-sensor-1.key.pem"
 * ```
 */
export function homePaths(dir: string): HomePaths {
  return {
    dir,
    dsaParams: join(dir, "dsa-params.pem"),
    trust: join(dir, "trust.json"),
    passwd: join(dir, "passwd"),
    acl: join(dir, "acl"),
    credentialsDir: join(dir, "credentials"),
    tlsDir: join(dir, "tls"),
    caCert: join(dir, "tls", "ca.crt"),
    brokerCert: join(dir, "tls", "broker.crt"),
    brokerKey: join(dir, "tls", "broker.key"),
    mosquittoConf: join(dir, "mosquitto.conf"),
    mosquittoDataDir: join(dir, "mosquitto-data"),
    privateKey: (device) => join(dir, `${device}.key.pem`),
    publicKey: (device) => join(dir, `${device}.pub.pem`),
    credential: (username) => join(dir, "credentials", `${username}.password`),
    counter: (sensor) => join(dir, `${sensor}.counter`),
    replayDb: (actuator) => join(dir, `${actuator}.replay.sqlite`),
  };
}

/**
 * The fix to print when a file keygen writes is missing: the command that (re)makes the home, with any
 * extra flags the missing file needs (an attacker account, say).
 * @example
 * ```ts
 * keygenFix("keys"); // "run secmqtt keygen --out keys"
 * keygenFix("keys", "--attacker eve --force"); // "run secmqtt keygen --out keys --attacker eve --force"
 * ```
 */
export function keygenFix(dir: string, extraFlags?: string): string {
  return `run secmqtt keygen --out ${dir}${extraFlags ? ` ${extraFlags}` : ""}`;
}
