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
} from "./common.ts";
import { connectRole, untilAborted } from "./runtime.ts";
import {
  SECURE_IDENTITY_FLAGS,
  SECURE_IDENTITY_HELP,
  secureActuatorSetup,
  withHomeCredentials,
} from "./secure_setup.ts";

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
    const actuatorId = (flags.values.id as string | undefined) ?? "door-actuator";
    const given = await connectionFromFlags(flags.values);
    const conn = secure ? withHomeCredentials(given, flags.values, actuatorId) : given;
    const log = openLogFromFlags(flags.values, "actuator");
    const setup = secure
      ? await secureActuatorSetup(flags.values, actuatorId, { windowMs, log, clock: systemClock })
      : undefined;
    const transport = await connectRole(conn, "actuator", { clean: !secure });
    try {
      const actuator = await startActuator(
        { topic, qos: conn.qos, phase: secure ? "secure" : "insecure", queueLimit },
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
