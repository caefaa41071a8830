/**
 * The Mosquitto 2 configuration keygen writes into a home (`<home>/mosquitto.conf`): one TLS listener with
 * the home's certificate, the home's password and ACL files, and the hardening options of
 * broker-config/mosquitto.secure.conf, every path absolute so that `mosquitto -c <home>/mosquitto.conf`
 * runs from any directory. Pure: paths and names in, text out.
 * @module
 */

/** The port of the home's TLS listener: IANA's `secure-mqtt` (8883/tcp). */
export const MQTTS_PORT = 8883;

/**
 * The hardening options every Phase II Mosquitto runs with, as broker-config/mosquitto.secure.conf sets
 * them (tests/auth/mosquitto_conf_test.ts keeps the two in step). Why each is there is explained in that
 * file; the short reason is repeated in the generated config.
 */
export const MOSQUITTO_HARDENING: readonly (readonly [option: string, value: string, why: string])[] = [
  ["allow_anonymous", "false", "every client logs in with an account of passwd"],
  ["use_username_as_clientid", "true", "a client id belongs to its account: no session takeover"],
  ["retain_available", "false", "no retained message can wait for the actuator's next subscription"],
  ["max_packet_size", "65536", "an envelope is at most 8 KiB; bigger packets close the connection"],
  ["max_inflight_messages", "20", "bounded QoS 1 messages in flight per client"],
  ["max_queued_messages", "100000", "bounded queue for an offline persistent session"],
  ["max_keepalive", "300", "no client may ask for more than a 5 min keepalive"],
  ["persistence", "true", "QoS 1 sessions and in-flight messages survive a broker restart"],
  ["autosave_interval", "60", "seconds between persistence saves"],
  ["connection_messages", "true", "log connects, disconnects and refused logins"],
];

/** What {@link formatHomeMosquittoConf} needs: absolute paths of the home's files. */
export interface HomeMosquittoConf {
  /** Absolute path of the home (for the header comment). */
  homeDir: string;
  certFile: string;
  keyFile: string;
  passwordFile: string;
  aclFile: string;
  /** Persistence directory; must exist and be writable by {@link HomeMosquittoConf.user}. */
  dataDir: string;
  /**
   * The user Mosquitto runs as when started as root: the home's owner, the only user besides root that
   * can read its 0600 files. Undefined when that user has no name (no `user` line is written).
   */
  user?: string;
}

/**
 * A complete Mosquitto 2 configuration for a home: exactly one listener, `listener 8883`, TLS only.
 * @example
 * ```ts
 * const text = formatHomeMosquittoConf({ homeDir: "/srv/keys", certFile: "/srv/keys/tls/broker.crt", keyFile: "/srv/keys/tls/broker.key", passwordFile: "/srv/keys/passwd", aclFile: "/srv/keys/acl", dataDir: "/srv/keys/mosquitto-data/", user: "alice" });
 * text.includes("listener 8883\n"); // true
 * ```
 */
export function formatHomeMosquittoConf(conf: HomeMosquittoConf): string {
  const dataDir = conf.dataDir.endsWith("/") ? conf.dataDir : `${conf.dataDir}/`;
  const lines = [
    `# Mosquitto 2 configuration of the secmqtt home ${conf.homeDir}, written by 'secmqtt keygen'.`,
    "# Run it with: mosquitto -c " + `${conf.homeDir}/mosquitto.conf`,
    "# Clients: --broker mqtts://<host>:8883 --cafile <home>/tls/ca.crt (the roles default to that CA).",
    "",
    "# Privileges: started as root, Mosquitto 2 switches to `user` before it reads the certificate, the",
    "# key, passwd and acl. Those files are 0600 in a 0700 home, so only their owner can read them: the",
    "# broker runs as the home's owner, never as the `mosquitto` user (which could not read them) and",
    "# never as root unless root owns the home. Started as any other user, this line is ignored.",
    conf.user !== undefined
      ? `user ${conf.user}`
      : "# (no `user` line: the home's owner has no name; start Mosquitto as that user, not as root)",
    "",
    "# The only listener: TLS on all interfaces with the home's certificate (SANs: localhost, 127.0.0.1",
    "# and every keygen --broker-host). There is no plaintext listener; a plaintext client fails the",
    "# handshake before it can send a password.",
    `listener ${MQTTS_PORT}`,
    `certfile ${conf.certFile}`,
    `keyfile ${conf.keyFile}`,
    "tls_version tlsv1.2",
    "",
    "# Accounts and rights: keygen's passwd ($7$ PBKDF2-SHA512) and acl (each device only its topics).",
    `password_file ${conf.passwordFile}`,
    `acl_file ${conf.aclFile}`,
    "",
    "# Hardening, as broker-config/mosquitto.secure.conf (its comments explain each choice).",
    ...MOSQUITTO_HARDENING.flatMap(([option, value, why]) => [`# ${why}`, `${option} ${value}`]),
    `persistence_location ${dataDir}`,
    "",
    "log_dest stdout",
    "log_type error",
    "log_type warning",
    "log_type notice",
    "log_type information",
    "log_timestamp true",
    "log_timestamp_format %Y-%m-%dT%H:%M:%S",
    "",
  ];
  return lines.join("\n");
}
