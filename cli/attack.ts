/**
 * `secmqtt attack`: the attacker, against plaintext MQTT (Phase I) or the secure home (`--secure`, Phase II).
 * @module
 */

import { systemClock } from "../core/clock.ts";
import {
  DEFAULT_INSECURE_ATTACK,
  INSECURE_ATTACK_CLASSES,
  type InsecureAttackClass,
  runInsecureAttacks,
} from "../roles/attacker.ts";
import { type CliIO, defineCommand } from "./command.ts";
import { CONNECTION_FLAGS, connectionFromFlags, openLogFromFlags } from "./common.ts";
import { flag, type FlagValues, UsageError } from "./flags.ts";
import { connectRole } from "./runtime.ts";
import { SECURE_IDENTITY_FLAGS } from "./secure_setup.ts";
import {
  DEFAULT_SECURE_ATTACK,
  openBrokerStream,
  type Relay,
  runSecureAttacks,
  SECURE_ATTACK_CLASSES,
  type SecureAttackClass,
  startRelay,
} from "../roles/secure_attacker.ts";
import { secureTopicFor } from "../roles/door.ts";
import { DEFAULT_ACTUATOR_ID, homePaths } from "../store/home.ts";
import { loadAttackerKnowledge } from "../store/attacker_knowledge.ts";
import { connectMqtt } from "../transport/client.ts";

/** The broker account `attack --secure` logs in as when no --username is given (keygen --attacker NAME). */
export const DEFAULT_ATTACKER_USERNAME = "mallory";

/** The `attack` subcommand's flags. */
export const ATTACK_FLAGS = {
  secure: flag.boolean({
    help: "attack the Phase II home: the attacker holds broker credentials of its own (--username, " +
      `default ${DEFAULT_ATTACKER_USERNAME}, password from <keys>/credentials/) and reads only public files ` +
      "of the home (the actuator's public key, the DSA domain)",
  }),
  ...SECURE_IDENTITY_FLAGS,
  attacks: flag.string({
    placeholder: "LIST",
    help: `comma-separated classes; Phase I: ${INSECURE_ATTACK_CLASSES.join(", ")}; Phase II: ` +
      SECURE_ATTACK_CLASSES.join(", "),
    defaultText: "all",
  }),
  attempts: flag.int({
    min: 1,
    max: 100_000,
    help: "malicious messages per class",
    defaultText: String(DEFAULT_INSECURE_ATTACK.attempts),
  }),
  "capture-timeout-ms": flag.int({
    placeholder: "MS",
    min: 0,
    max: 3_600_000,
    help: "how long to wait for traffic to capture",
    defaultText: String(DEFAULT_INSECURE_ATTACK.captureTimeoutMs),
  }),
  topic: flag.string({
    placeholder: "T",
    help: "the victim's topic",
    defaultText: `${DEFAULT_INSECURE_ATTACK.topic}, or the victim's ${
      secureTopicFor("<victim>")
    } with --secure`,
  }),
  "victim-username": flag.string({
    placeholder: "U",
    help: "--secure: whose password 'wrong-password' guesses",
    default: DEFAULT_SECURE_ATTACK.victimUsername,
  }),
  actuator: flag.string({
    placeholder: "ID",
    help: "--secure: the actuator whose public key the attacker uses",
    default: DEFAULT_ACTUATOR_ID,
  }),
  "relay-port": flag.int({
    placeholder: "PORT",
    min: 1,
    max: 65_535,
    help: "--secure: listen on 127.0.0.1:PORT as an on-path relay to the broker, for 'credential-sniff' " +
      "(point a device's --broker at it)",
    defaultText: "no relay; credential-sniff is skipped",
  }),
  ...CONNECTION_FLAGS,
};

type AttackFlags = FlagValues<typeof ATTACK_FLAGS>;

/**
 * Parses a comma-separated class list against the known classes.
 * @example
 * ```ts
 * parseClassList("inject,replay", ["inject", "replay", "tamper"]); // ["inject", "replay"]
 * ```
 */
export function parseClassList<T extends string>(raw: string | undefined, known: readonly T[]): T[] {
  if (raw === undefined || raw === "all") return [...known];
  const names = raw.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
  const classes = names.filter((name): name is T => (known as readonly string[]).includes(name));
  const unknown = names.find((name) => !classes.includes(name as T));
  if (unknown !== undefined) {
    throw new UsageError(`--attacks: unknown class '${unknown}' (known: ${known.join(", ")})`);
  }
  if (classes.length === 0) throw new UsageError("--attacks needs at least one class");
  return classes;
}

/** The `attack` subcommand. */
export const attackCommand = defineCommand({
  name: "attack",
  summary: "eavesdrop, inject, replay, tamper (and with --secure, every Phase II attack class)",
  description: `Eavesdrops on the broker, then sends malicious messages. Success is never claimed here: every
message's digest is logged, and 'secmqtt metrics' decides from the actuator's log what was acted on.`,
  flags: ATTACK_FLAGS,
  async run(flags, io) {
    if (flags.secure) return await runSecureAttackCommand(flags, io);
    const classes = parseClassList<InsecureAttackClass>(flags.attacks, INSECURE_ATTACK_CLASSES);
    const conn = await connectionFromFlags(flags);
    const log = openLogFromFlags(flags, "attacker");
    const transport = await connectRole(conn, "attacker", {}, { io, log });
    try {
      const result = await runInsecureAttacks(
        {
          ...DEFAULT_INSECURE_ATTACK,
          classes,
          attempts: flags.attempts ?? DEFAULT_INSECURE_ATTACK.attempts,
          captureTimeoutMs: flags["capture-timeout-ms"] ?? DEFAULT_INSECURE_ATTACK.captureTimeoutMs,
          topic: flags.topic ?? DEFAULT_INSECURE_ATTACK.topic,
          qos: conn.qos,
        },
        { clock: systemClock, log, transport, signal: io.signal },
      );
      io.err(`attacker: captured ${result.captured} message(s), sent ${result.sent} malicious message(s)`);
    } finally {
      await transport.close();
      log.close();
    }
    return 0;
  },
});

async function runSecureAttackCommand(flags: AttackFlags, io: CliIO): Promise<number> {
  const classes = parseClassList<SecureAttackClass>(flags.attacks, SECURE_ATTACK_CLASSES);
  const given = await connectionFromFlags(flags);
  // The attacker's own account: --username (default the home's attacker account), its password as given
  // or the one keygen wrote for it; and only the home's public files.
  const knowledge = await loadAttackerKnowledge(homePaths(flags.keys), {
    username: given.username ?? DEFAULT_ATTACKER_USERNAME,
    password: given.password,
    actuatorId: flags.actuator,
  });
  const conn = { ...given, ...knowledge.ownCredentials };
  const log = openLogFromFlags(flags, "attacker");
  const brokerAddress = new URL(conn.url);
  const relay = flags["relay-port"] === undefined
    ? undefined
    : listenAsRelay(flags["relay-port"], brokerAddress, conn.url.startsWith("mqtts:") ? 8883 : 1883);
  const transport = await connectRole(conn, "attacker", {}, { io, log }).catch(async (error) => {
    await relay?.close();
    throw error;
  });
  try {
    const result = await runSecureAttacks({
      ...DEFAULT_SECURE_ATTACK,
      classes,
      attempts: flags.attempts ?? DEFAULT_SECURE_ATTACK.attempts,
      captureTimeoutMs: flags["capture-timeout-ms"] ?? DEFAULT_SECURE_ATTACK.captureTimeoutMs,
      topic: flags.topic ?? secureTopicFor(flags["victim-username"]),
      // The attacker's own device topic: one the actuator hears and any device account may write.
      crossTopic: secureTopicFor(conn.username ?? DEFAULT_ATTACKER_USERNAME),
      qos: conn.qos,
      brokerUrl: conn.url,
      victimUsername: flags["victim-username"],
    }, {
      clock: systemClock,
      log,
      transport,
      connect: (o) =>
        connectMqtt({ url: conn.url, ca: conn.ca, reconnectPeriodMs: 0, connectTimeoutMs: 2000, ...o }),
      openStream: () => openBrokerStream(conn.url, conn.ca),
      relay,
      ...knowledge,
      signal: io.signal,
    });
    io.err(
      `attacker: captured ${result.captured}, sent ${result.sent} malicious message(s), ${result.refused} refused by the broker, ${result.succeeded} probe(s) succeeded`,
    );
  } finally {
    await relay?.close();
    await transport.close();
    log.close();
  }
  return 0;
}

/** The on-path relay of `--relay-port`, in front of the broker; a port it cannot take is a usage error. */
function listenAsRelay(port: number, broker: URL, defaultPort: number): Relay {
  try {
    return startRelay({
      target: { hostname: broker.hostname, port: Number(broker.port || defaultPort) },
      port,
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new UsageError(
      `--relay-port ${port}: cannot listen on 127.0.0.1:${port} (${reason}); pick a free port`,
    );
  }
}
