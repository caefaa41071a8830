/**
 * `secmqtt actuator`: the door actuator, trusting (Phase I) or verifying envelopes (`--secure`, Phase II).
 * @module
 */

import { systemClock } from "../core/clock.ts";
import { plaintextOpener, startActuator } from "../roles/actuator.ts";
import { INSECURE_TOPIC, SECURE_TOPIC_FILTER } from "../roles/door.ts";
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
import { connectRole, untilAborted } from "./runtime.ts";
import {
  SECURE_IDENTITY_FLAGS,
  SECURE_IDENTITY_HELP,
  secureActuatorSetup,
  withHomeCredentials,
} from "./secure_setup.ts";

/** Messages judged at once when group commit is on: enough to fill a batch while the previous one syncs. */
const BATCH_CONCURRENCY = 256;

const HELP = `Usage: secmqtt actuator [--secure] [options]

Subscribes to door events and acts on them, logging every action and every rejection with a reason code.
Phase I trusts any well-formed JSON; with --secure it opens envelopes (signature, replay, decryption) and
keeps a crash-safe replay database. Runs until SIGINT/SIGTERM.

  --secure               Phase II: accept only valid envelopes from trusted senders
  --id NAME              actuator id (default door-actuator); with --secure also the broker username
                         (password from <keys>/credentials/NAME.password) unless --username is given
  --topic T              topic (default ${INSECURE_TOPIC}, or home/secure/# with --secure)
  --state FILE           --secure: replay database (default <keys>/<id>.replay.sqlite)
  --window-ms MS         --secure: accepted clock skew of message timestamps (default 30000)
  --batch-ms MS          --secure: group commit: judge up to ${BATCH_CONCURRENCY} messages at once and record their
                         counters in one durable transaction per MS ms (default: one transaction per message)
  --queue-limit N        messages waiting beyond N are rejected as OVERLOADED (default 1024)
${SECURE_IDENTITY_HELP}
${CONNECTION_HELP}`;

/** The `actuator` subcommand. */
export const actuatorCommand: Command = {
  name: "actuator",
  summary: "act on door events (trusting, or --secure verifying)",
  help: HELP,
  async run(argv, io) {
    const flags = parseFlags(argv, {
      ...CONNECTION_FLAGS,
      ...SECURE_IDENTITY_FLAGS,
      secure: { type: "boolean" },
      topic: { type: "string" },
      state: { type: "string" },
      "window-ms": { type: "string" },
      "queue-limit": { type: "string" },
      "batch-ms": { type: "string" },
    });
    if (flags.help) {
      io.out(HELP);
      return 0;
    }
    const secure = flags.values.secure === true;
    const topic = (flags.values.topic as string | undefined) ??
      (secure ? SECURE_TOPIC_FILTER : INSECURE_TOPIC);
    const queueLimit = intFlag(flags.values, "queue-limit", { min: 1, max: 1_000_000, default: 1024 })!;
    const windowMs = intFlag(flags.values, "window-ms", { min: 1, max: 86_400_000, default: 30_000 })!;
    const batchMs = intFlag(flags.values, "batch-ms", { min: 0, max: 1000 });
    if (batchMs !== undefined && !secure) throw new UsageError("--batch-ms needs --secure");
    const actuatorId = (flags.values.id as string | undefined) ?? "door-actuator";
    const given = await connectionFromFlags(flags.values);
    // Secure: a stable client id and a persistent session, so QoS 1 messages wait at the broker while
    // the actuator restarts (they are then checked against the replay database like any other).
    const conn = secure
      ? { ...withHomeCredentials(given, flags.values, actuatorId), clientId: given.clientId ?? actuatorId }
      : given;
    const log = openLogFromFlags(flags.values, "actuator");
    const setup = secure
      ? await secureActuatorSetup(flags.values, actuatorId, { windowMs, log, clock: systemClock, batchMs })
      : undefined;
    const transport = await connectRole(conn, "actuator", { clean: !secure });
    try {
      const actuator = await startActuator(
        {
          topic,
          qos: conn.qos,
          phase: secure ? "secure" : "insecure",
          queueLimit,
          concurrency: batchMs === undefined ? 1 : BATCH_CONCURRENCY,
        },
        { clock: systemClock, log, transport, open: setup?.open ?? plaintextOpener },
      );
      io.err(
        `actuator ${actuatorId} listening on ${topic} (${secure ? "secure" : "insecure: trusts everything"})`,
      );
      await untilAborted(io.signal);
      await actuator.idle();
      log.event("role_stopped", { reason: "signal", ...actuator.stats });
    } finally {
      setup?.close();
      await transport.close();
      log.close();
    }
    return 0;
  },
};
