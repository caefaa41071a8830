/**
 * `secmqtt keygen`: create a secure home, or revoke a sender.
 * @module
 */

import { createHome, readDomainFile, revokeSender, SUITE_BY_NAME } from "../roles/keygen.ts";
import { DEFAULT_ACTUATOR_ID, DEFAULT_KEYS_DIR, DEFAULT_SENSOR_ID } from "../store/home.ts";
import { defineCommand } from "./command.ts";
import { flag } from "./flags.ts";

/** Names of the signature suites a home can use, as `--suite` takes them (keys of SUITE_BY_NAME). */
export const SUITE_NAMES = ["dsa", "ed25519"] as const;

/** The `keygen` subcommand's flags. */
export const KEYGEN_FLAGS = {
  out: flag.string({ placeholder: "DIR", default: DEFAULT_KEYS_DIR, help: "the home directory" }),
  sensor: flag.list({
    placeholder: "ID",
    help: "a sensor id; repeat for several",
    defaultText: DEFAULT_SENSOR_ID,
    conflicts: "sensors",
  }),
  sensors: flag.int({ min: 1, max: 100_000, help: "N sensors named sensor-0001 … (for load tests)" }),
  actuator: flag.string({ placeholder: "ID", default: DEFAULT_ACTUATOR_ID, help: "the actuator id" }),
  suite: flag.choice({
    choices: SUITE_NAMES,
    default: "dsa",
    help: "the sensors' signature suite; dsa is rsa-oaep-2048+aes-256-gcm+dsa-2048",
  }),
  "dsa-params": flag.string({
    placeholder: "FILE",
    help: 'reuse a DSA domain (PEM "DSA PARAMETERS") instead of generating one',
  }),
  attacker: flag.string({
    placeholder: "NAME",
    help: "also create a broker account NAME with its own credentials (for 'attack --secure')",
  }),
  "broker-host": flag.list({
    placeholder: "NAME",
    help: "another DNS name or IP address of the broker for its TLS certificate; repeat for several",
    defaultText: "localhost and 127.0.0.1 only",
  }),
  "actuator-accounts": flag.int({
    placeholder: "N",
    min: 1,
    max: 64,
    default: 1,
    help: "broker accounts for N actuator instances (--share): ID, ID-2 … ID-N, each with its own password",
  }),
  force: flag.boolean({ help: "replace an existing home" }),
  revoke: flag.string({ placeholder: "SENSOR_ID", help: "mark SENSOR_ID revoked in DIR/trust.json" }),
};

/** The `keygen` subcommand. */
export const keygenCommand = defineCommand({
  name: "keygen",
  summary: "create a secure home (keys, trust list, broker passwords, ACL and TLS), or --revoke a sender",
  description:
    `Creates a secure home in DIR (--out): a signing key per sensor (DSA-2048/SHA-256 by default, or
Ed25519), the actuator's RSA-OAEP-2048 key, trust.json, and broker credentials: a Mosquitto password file
(passwd, $7$ PBKDF2-SHA512 as mosquitto_passwd writes it), an ACL file (acl) that gives each device only its
topics, and credentials/<user>.password. Private keys and passwords are mode 0600. It also creates the
actuator's replay database (<id>.replay.sqlite): the actuator refuses to start without it.

TLS: a certificate authority of the home (tls/ca.crt; its key is not kept) and the broker's certificate
(tls/broker.crt, tls/broker.key 0600) for localhost, 127.0.0.1 and every --broker-host. And mosquitto.conf:
a complete Mosquitto 2 config with one listener, TLS on 8883, the home's passwd and acl and the hardening
of broker-config/mosquitto.secure.conf: 'mosquitto -c DIR/mosquitto.conf' runs the home's broker, and
'secmqtt broker --secure --keys DIR' does the same with the embedded one.

With --revoke SENSOR_ID it only marks that sender revoked in DIR/trust.json.`,
  flags: KEYGEN_FLAGS,
  async run(flags, io) {
    const outDir = flags.out;
    if (flags.revoke !== undefined) {
      revokeSender(outDir, flags.revoke);
      io.out(`revoked ${flags.revoke} in ${outDir}/trust.json (restart the actuator to apply)`);
      return 0;
    }
    const count = flags.sensors;
    const sensors = flags.sensor.length > 0
      ? flags.sensor
      : count !== undefined
      ? Array.from({ length: count }, (_, i) => `sensor-${String(i + 1).padStart(4, "0")}`)
      : [DEFAULT_SENSOR_ID];
    const paramsFile = flags["dsa-params"];
    const started = performance.now();
    const home = await createHome({
      outDir,
      sensors,
      actuatorId: flags.actuator,
      suite: SUITE_BY_NAME[flags.suite],
      attacker: flags.attacker,
      actuatorAccounts: flags["actuator-accounts"],
      force: flags.force,
      dsaDomain: paramsFile ? readDomainFile(paramsFile) : undefined,
      brokerHosts: flags["broker-host"],
    });
    io.out(
      `created home ${home.dir}: ${home.sensors.length} sensor(s), actuator ${home.actuatorId}, suite ${home.suite}, ` +
        `broker accounts ${home.accounts.length <= 6 ? home.accounts.join(", ") : home.accounts.length} ` +
        `(${home.files} files, ${Math.round(performance.now() - started)} ms)`,
    );
    return 0;
  },
});
