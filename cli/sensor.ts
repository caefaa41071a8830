/**
 * `secmqtt sensor`: the door sensor, plaintext (Phase I) or sealed envelopes (`--secure`, Phase II).
 * @module
 */

import { systemClock } from "../core/clock.ts";
import { INSECURE_TOPIC, secureTopicFor } from "../roles/door.ts";
import { memoryCounter, plaintextSealer, runSensor } from "../roles/sensor.ts";
import { DEFAULT_ACTUATOR_ID, DEFAULT_SENSOR_ID } from "../store/home.ts";
import { defineCommand } from "./command.ts";
import { CONNECTION_FLAGS, connectionFromFlags, openLogFromFlags } from "./common.ts";
import { flag } from "./flags.ts";
import { connectRole } from "./runtime.ts";
import { SECURE_IDENTITY_FLAGS, secureSensorSetup, withHomeCredentials } from "./secure_setup.ts";

/** Time between readings when `--interval-ms` is not given, ms. */
export const DEFAULT_SENSOR_INTERVAL_MS = 2000;
/** Messages per AES key epoch when `--rekey-every` is not given: a fresh key per message. */
export const DEFAULT_REKEY_EVERY = 1;

/** The `sensor` subcommand's flags. */
export const SENSOR_FLAGS = {
  secure: flag.boolean({ help: "Phase II: seal every reading (needs keys from 'secmqtt keygen')" }),
  id: flag.string({
    placeholder: "NAME",
    default: DEFAULT_SENSOR_ID,
    help: "sensor id; with --secure also the broker username (password from " +
      "<keys>/credentials/NAME.password) unless --username is given",
  }),
  "interval-ms": flag.int({
    placeholder: "MS",
    min: 0,
    max: 3_600_000,
    default: DEFAULT_SENSOR_INTERVAL_MS,
    help: "time between messages",
  }),
  count: flag.int({ min: 1, help: "stop after N messages", defaultText: "until stopped" }),
  topic: flag.string({
    placeholder: "T",
    help: "topic",
    defaultText: `${INSECURE_TOPIC}, or ${secureTopicFor("<id>")} with --secure`,
  }),
  "rekey-every": flag.int({
    min: 1,
    max: 1_000_000,
    default: DEFAULT_REKEY_EVERY,
    help: "--secure: messages per AES key epoch; 1 means a fresh key per message",
  }),
  actuator: flag.string({
    placeholder: "ID",
    help: "--secure: the actuator whose RSA key wraps the session keys",
    defaultText: DEFAULT_ACTUATOR_ID,
  }),
  ...SECURE_IDENTITY_FLAGS,
  ...CONNECTION_FLAGS,
};

/** The `sensor` subcommand. */
export const sensorCommand = defineCommand({
  name: "sensor",
  summary: "publish door events (plaintext, or --secure envelopes)",
  description: `Publishes door events: plaintext JSON on ${INSECURE_TOPIC} (Phase I), or with --secure signed,
encrypted envelopes on ${secureTopicFor("<id>")} (Phase II; see docs/PROTOCOL.md).`,
  flags: SENSOR_FLAGS,
  async run(flags, io) {
    const secure = flags.secure;
    const sensorId = flags.id;
    const topic = flags.topic ?? (secure ? secureTopicFor(sensorId) : INSECURE_TOPIC);
    const given = await connectionFromFlags(flags);
    const conn = secure ? withHomeCredentials(given, flags, sensorId) : given;
    const setup = secure ? await secureSensorSetup(flags, sensorId, flags["rekey-every"], topic) : undefined;
    const log = openLogFromFlags(flags, "sensor");
    const transport = await connectRole(conn, "sensor", {}, { io, log });
    try {
      const { sent } = await runSensor(
        {
          sensorId,
          topic,
          intervalMs: flags["interval-ms"],
          count: flags.count,
          qos: conn.qos,
          phase: secure ? "secure" : "insecure",
        },
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
});
