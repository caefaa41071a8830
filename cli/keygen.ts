/**
 * `secmqtt keygen`: create a secure home, or revoke a sender.
 * @module
 */

import { createHome, readDomainFile, revokeSender, SUITE_BY_NAME } from "../roles/keygen.ts";
import { DEFAULT_ACTUATOR_ID, DEFAULT_KEYS_DIR, DEFAULT_SENSOR_ID } from "../store/home.ts";
import { choiceFlag, type Command, intFlag, parseFlags, UsageError } from "./common.ts";

const HELP =
  `Usage: secmqtt keygen [--out DIR] [--sensors N | --sensor ID…] [--suite dsa|ed25519] [--attacker NAME] [--force]
       secmqtt keygen --revoke SENSOR_ID [--out DIR]

Creates a secure home in DIR (default ${DEFAULT_KEYS_DIR}/): a signing key per sensor (DSA-2048/SHA-256 by
default, or Ed25519), the actuator's RSA-OAEP-2048 key, trust.json, and broker credentials: a Mosquitto
password file (passwd, $7$ PBKDF2-SHA512 as mosquitto_passwd writes it), an ACL file (acl) that gives
each device only its topics, and credentials/<user>.password. Private keys and passwords are mode 0600.

  --out DIR              the home directory (default ${DEFAULT_KEYS_DIR})
  --sensor ID            a sensor id (repeatable; default ${DEFAULT_SENSOR_ID})
  --sensors N            N sensors named sensor-0001 … (for load tests)
  --actuator ID          the actuator id (default ${DEFAULT_ACTUATOR_ID})
  --suite dsa|ed25519    the sensors' signature suite (default dsa: rsa-oaep-2048+aes-256-gcm+dsa-2048)
  --dsa-params FILE      reuse a DSA domain (PEM "DSA PARAMETERS") instead of generating one
  --attacker NAME        also create a broker account NAME with its own credentials (for 'attack --secure')
  --force                replace an existing home
  --revoke SENSOR_ID     mark SENSOR_ID revoked in DIR/trust.json`;

/** The `keygen` subcommand. */
export const keygenCommand: Command = {
  name: "keygen",
  summary: "create a secure home (keys, trust list, broker passwords and ACL), or --revoke a sender",
  help: HELP,
  async run(argv, io) {
    const flags = parseFlags(argv, {
      out: { type: "string" },
      sensor: { type: "string", multiple: true },
      sensors: { type: "string" },
      actuator: { type: "string" },
      suite: { type: "string" },
      "dsa-params": { type: "string" },
      attacker: { type: "string" },
      force: { type: "boolean" },
      revoke: { type: "string" },
    });
    if (flags.help) {
      io.out(HELP);
      return 0;
    }
    const outDir = (flags.values.out as string | undefined) ?? DEFAULT_KEYS_DIR;
    if (flags.values.revoke !== undefined) {
      revokeSender(outDir, flags.values.revoke as string);
      io.out(`revoked ${flags.values.revoke} in ${outDir}/trust.json (restart the actuator to apply)`);
      return 0;
    }
    const named = flags.values.sensor as string[] | undefined;
    const count = intFlag(flags.values, "sensors", { min: 1, max: 100_000 });
    if (named && count !== undefined) throw new UsageError("give --sensor or --sensors, not both");
    const sensors = named ??
      (count !== undefined
        ? Array.from({ length: count }, (_, i) => `sensor-${String(i + 1).padStart(4, "0")}`)
        : [DEFAULT_SENSOR_ID]);
    const suite = SUITE_BY_NAME[choiceFlag(flags.values, "suite", ["dsa", "ed25519"] as const, "dsa")];
    const paramsFile = flags.values["dsa-params"] as string | undefined;
    const started = performance.now();
    const home = await createHome({
      outDir,
      sensors,
      actuatorId: (flags.values.actuator as string | undefined) ?? DEFAULT_ACTUATOR_ID,
      suite,
      attacker: flags.values.attacker as string | undefined,
      force: flags.values.force === true,
      dsaDomain: paramsFile ? readDomainFile(paramsFile) : undefined,
    });
    io.out(
      `created home ${home.dir}: ${home.sensors.length} sensor(s), actuator ${home.actuatorId}, suite ${home.suite}, ` +
        `broker accounts ${home.accounts.length <= 6 ? home.accounts.join(", ") : home.accounts.length} ` +
        `(${home.files} files, ${Math.round(performance.now() - started)} ms)`,
    );
    return 0;
  },
};
