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
import {
  type CliIO,
  type Command,
  CONNECTION_FLAGS,
  CONNECTION_HELP,
  connectionFromFlags,
  intFlag,
  openLogFromFlags,
  type ParsedFlags,
  parseFlags,
  UsageError,
} from "./common.ts";
import { connectRole } from "./runtime.ts";
import {
  DEFAULT_SECURE_ATTACK,
  runSecureAttacks,
  SECURE_ATTACK_CLASSES,
  type SecureAttackClass,
} from "../roles/secure_attacker.ts";
import { SECURE_TOPIC } from "../roles/door.ts";
import { DEFAULT_ACTUATOR_ID, DEFAULT_KEYS_DIR, homePaths } from "../store/home.ts";
import { loadAttackerKnowledge } from "../store/attacker_knowledge.ts";
import { connectMqtt } from "../transport/client.ts";

const HELP = `Usage: secmqtt attack [--secure] [--attacks LIST] [--attempts N] [options]

Eavesdrops on the broker, then sends malicious messages. Success is never claimed here: every message's
digest is logged, and 'secmqtt metrics' decides from the actuator's log what was acted on.

  --secure               attack the Phase II home: the attacker holds broker credentials of its own
                         (--username, default mallory, password from <keys>/credentials/) and reads
                         only public files of the home (the actuator's public key, the DSA domain)
  --keys DIR             --secure: the home made by 'secmqtt keygen' (default keys/)
  --attacks LIST         comma-separated classes (default all)
                         Phase I:  ${INSECURE_ATTACK_CLASSES.join(", ")}
                         Phase II: ${SECURE_ATTACK_CLASSES.join(", ")}
  --attempts N           malicious messages per class (default ${DEFAULT_INSECURE_ATTACK.attempts})
  --capture-timeout-ms MS  how long to wait for traffic to capture (default ${DEFAULT_INSECURE_ATTACK.captureTimeoutMs})
  --topic T              the victim's topic (default ${DEFAULT_INSECURE_ATTACK.topic}, --secure ${SECURE_TOPIC})
  --victim-username U    --secure: whose password 'wrong-password' guesses (default door-sensor-1)
  --actuator ID          --secure: the actuator whose public key the attacker uses (default door-actuator)
${CONNECTION_HELP}`;

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
  for (const name of names) {
    if (!(known as readonly string[]).includes(name)) {
      throw new UsageError(`unknown attack class '${name}' (known: ${known.join(", ")})`);
    }
  }
  if (names.length === 0) throw new UsageError("--attacks needs at least one class");
  return names as T[];
}

/** The `attack` subcommand. */
export const attackCommand: Command = {
  name: "attack",
  summary: "eavesdrop, inject, replay, tamper (and with --secure, every Phase II attack class)",
  help: HELP,
  async run(argv, io) {
    const flags = parseFlags(argv, {
      ...CONNECTION_FLAGS,
      secure: { type: "boolean" },
      attacks: { type: "string" },
      attempts: { type: "string" },
      "capture-timeout-ms": { type: "string" },
      topic: { type: "string" },
      keys: { type: "string" },
      "victim-username": { type: "string" },
      actuator: { type: "string" },
    });
    if (flags.help) {
      io.out(HELP);
      return 0;
    }
    if (flags.values.secure === true) return await runSecureAttackCommand(flags.values, io);
    const classes = parseClassList<InsecureAttackClass>(
      flags.values.attacks as string | undefined,
      INSECURE_ATTACK_CLASSES,
    );
    const attempts = intFlag(flags.values, "attempts", {
      min: 1,
      max: 100_000,
      default: DEFAULT_INSECURE_ATTACK.attempts,
    })!;
    const captureTimeoutMs = intFlag(flags.values, "capture-timeout-ms", {
      min: 0,
      max: 3_600_000,
      default: DEFAULT_INSECURE_ATTACK.captureTimeoutMs,
    })!;
    const conn = await connectionFromFlags(flags.values);
    const log = openLogFromFlags(flags.values, "attacker");
    const transport = await connectRole(conn, "attacker", {}, { io, log });
    try {
      const result = await runInsecureAttacks(
        {
          ...DEFAULT_INSECURE_ATTACK,
          classes,
          attempts,
          captureTimeoutMs,
          topic: (flags.values.topic as string | undefined) ?? DEFAULT_INSECURE_ATTACK.topic,
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
};

async function runSecureAttackCommand(values: ParsedFlags["values"], io: CliIO): Promise<number> {
  const classes = parseClassList<SecureAttackClass>(
    values.attacks as string | undefined,
    SECURE_ATTACK_CLASSES,
  );
  const attempts = intFlag(values, "attempts", {
    min: 1,
    max: 100_000,
    default: DEFAULT_SECURE_ATTACK.attempts,
  })!;
  const captureTimeoutMs = intFlag(values, "capture-timeout-ms", {
    min: 0,
    max: 3_600_000,
    default: DEFAULT_SECURE_ATTACK.captureTimeoutMs,
  })!;
  const given = await connectionFromFlags(values);
  // The attacker's own account: --username (default mallory), its password as given or from the home.
  const knowledge = await loadAttackerKnowledge(
    homePaths((values.keys as string | undefined) ?? DEFAULT_KEYS_DIR),
    {
      username: given.username ?? "mallory",
      password: given.password,
      actuatorId: (values.actuator as string | undefined) ?? DEFAULT_ACTUATOR_ID,
    },
  );
  const conn = { ...given, ...knowledge.ownCredentials };
  const log = openLogFromFlags(values, "attacker");
  const transport = await connectRole(conn, "attacker", {}, { io, log });
  try {
    const result = await runSecureAttacks({
      ...DEFAULT_SECURE_ATTACK,
      classes,
      attempts,
      captureTimeoutMs,
      topic: (values.topic as string | undefined) ?? SECURE_TOPIC,
      qos: conn.qos,
      brokerUrl: conn.url,
      victimUsername: (values["victim-username"] as string | undefined) ??
        DEFAULT_SECURE_ATTACK.victimUsername,
    }, {
      clock: systemClock,
      log,
      transport,
      connect: (o) => connectMqtt({ url: conn.url, reconnectPeriodMs: 0, connectTimeoutMs: 2000, ...o }),
      ...knowledge,
      signal: io.signal,
    });
    io.err(
      `attacker: captured ${result.captured}, sent ${result.sent} malicious message(s), ${result.refused} refused by the broker`,
    );
  } finally {
    await transport.close();
    log.close();
  }
  return 0;
}
