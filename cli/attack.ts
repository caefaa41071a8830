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
  type Command,
  CONNECTION_FLAGS,
  CONNECTION_HELP,
  connectionFromFlags,
  intFlag,
  openLogFromFlags,
  parseFlags,
  UsageError,
} from "./common.ts";
import { connectRole } from "./runtime.ts";

const HELP = `Usage: secmqtt attack [--secure] [--attacks LIST] [--attempts N] [options]

Eavesdrops on the broker, then sends malicious messages. Success is never claimed here: every message's
digest is logged, and 'secmqtt metrics' decides from the actuator's log what was acted on.

  --attacks LIST         comma-separated classes (default all): ${INSECURE_ATTACK_CLASSES.join(", ")}
  --attempts N           malicious messages per class (default ${DEFAULT_INSECURE_ATTACK.attempts})
  --capture-timeout-ms MS  how long to wait for traffic to capture (default ${DEFAULT_INSECURE_ATTACK.captureTimeoutMs})
  --topic T              the victim's topic (default ${DEFAULT_INSECURE_ATTACK.topic})
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
    });
    if (flags.help) {
      io.out(HELP);
      return 0;
    }
    if (flags.values.secure === true) throw new UsageError("--secure is not available yet");
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
    const transport = await connectRole(conn, "attacker");
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
