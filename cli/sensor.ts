/**
 * `secmqtt sensor`: the door sensor, plaintext (Phase I) or sealed envelopes (`--secure`, Phase II).
 * @module
 */

import { systemClock } from "../core/clock.ts";
import { INSECURE_TOPIC, SECURE_TOPIC } from "../roles/door.ts";
import { memoryCounter, plaintextSealer, runSensor } from "../roles/sensor.ts";
import {
  type Command,
  CONNECTION_FLAGS,
  CONNECTION_HELP,
  connectionFromFlags,
  intFlag,
  openLogFromFlags,
  parseFlags,
} from "./common.ts";
import { connectRole } from "./runtime.ts";
import {
  SECURE_IDENTITY_FLAGS,
  SECURE_IDENTITY_HELP,
  secureSensorSetup,
  withHomeCredentials,
} from "./secure_setup.ts";

const HELP = `Usage: secmqtt sensor [--secure] [options]

Publishes door events: plaintext JSON on ${INSECURE_TOPIC} (Phase I), or with --secure signed, encrypted
envelopes on ${SECURE_TOPIC} (Phase II; see docs/PROTOCOL.md).

  --secure               Phase II: seal every reading (needs keys from 'secmqtt keygen')
  --id NAME              sensor id (default door-sensor-1); with --secure also the broker username
                         (password from <keys>/credentials/NAME.password) unless --username is given
  --interval-ms MS       time between messages (default 2000)
  --count N              stop after N messages (default: until stopped)
  --topic T              topic (default ${INSECURE_TOPIC}, or ${SECURE_TOPIC} with --secure)
  --rekey-every N        --secure: messages per AES key epoch (default 1: a fresh key per message)
  --actuator ID          --secure: the actuator whose RSA key wraps the session keys (default door-actuator)
${SECURE_IDENTITY_HELP}
${CONNECTION_HELP}`;

/** The `sensor` subcommand. */
export const sensorCommand: Command = {
  name: "sensor",
  summary: "publish door events (plaintext, or --secure envelopes)",
  help: HELP,
  async run(argv, io) {
    const flags = parseFlags(argv, {
      ...CONNECTION_FLAGS,
      ...SECURE_IDENTITY_FLAGS,
      secure: { type: "boolean" },
      "interval-ms": { type: "string" },
      count: { type: "string" },
      topic: { type: "string" },
      "rekey-every": { type: "string" },
      actuator: { type: "string" },
    });
    if (flags.help) {
      io.out(HELP);
      return 0;
    }
    const secure = flags.values.secure === true;
    const intervalMs = intFlag(flags.values, "interval-ms", { min: 0, max: 3_600_000, default: 2000 })!;
    const count = intFlag(flags.values, "count", { min: 1 });
    const rekeyEvery = intFlag(flags.values, "rekey-every", { min: 1, max: 1_000_000, default: 1 })!;
    const sensorId = (flags.values.id as string | undefined) ?? "door-sensor-1";
    const topic = (flags.values.topic as string | undefined) ?? (secure ? SECURE_TOPIC : INSECURE_TOPIC);
    const given = await connectionFromFlags(flags.values);
    const conn = secure ? withHomeCredentials(given, flags.values, sensorId) : given;
    const setup = secure ? await secureSensorSetup(flags.values, sensorId, rekeyEvery, topic) : undefined;
    const log = openLogFromFlags(flags.values, "sensor");
    const transport = await connectRole(conn, "sensor", {}, { io, log });
    try {
      const { sent } = await runSensor(
        { sensorId, topic, intervalMs, count, qos: conn.qos, phase: secure ? "secure" : "insecure" },
        {
          clock: systemClock,
          log,
          transport,
          seal: setup?.seal ?? plaintextSealer,
          nextCounter: setup?.nextCounter ?? memoryCounter(),
          signal: io.signal,
        },
      );
      io.err(`sensor ${sensorId}: sent ${sent} message(s) on ${topic}`);
    } finally {
      setup?.close();
      await transport.close();
      log.close();
    }
    return 0;
  },
};
