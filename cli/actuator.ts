/**
 * `secmqtt actuator`: the door actuator, trusting (Phase I) or verifying envelopes (`--secure`, Phase II).
 * @module
 */

import { systemClock } from "../core/clock.ts";
import { ENVELOPE_MAX_BYTES, TIMESTAMP_WINDOW_MS } from "../crypto/envelope.ts";
import {
  DEFAULT_FAIR_QUEUE,
  DEFAULT_QUEUE_LIMIT,
  plaintextOpener,
  startActuator,
} from "../roles/actuator.ts";
import { DEFAULT_ALERT_POLICY } from "../roles/alerts.ts";
import { DEFAULT_THROTTLE_POLICY } from "../roles/publisher_throttle.ts";
import { DEFAULT_SENDER_RATE } from "../roles/secure_actuator.ts";
import { INSECURE_TOPIC, SECURE_TOPIC_FILTER } from "../roles/door.ts";
import { DEFAULT_ACTUATOR_ID } from "../store/home.ts";
import { defineCommand } from "./command.ts";
import { CONNECTION_FLAGS, connectionFromFlags, openLogFromFlags } from "./common.ts";
import { flag, UsageError } from "./flags.ts";
import { connectRole, untilAborted } from "./runtime.ts";
import { SECURE_IDENTITY_FLAGS, secureActuatorSetup, withHomeCredentials } from "./secure_setup.ts";

/** Messages judged at once when group commit is on: enough to fill a batch while the previous one syncs. */
const BATCH_CONCURRENCY = 256;

/** The `actuator` subcommand's flags. */
export const ACTUATOR_FLAGS = {
  secure: flag.boolean({ help: "Phase II: accept only valid envelopes from trusted senders" }),
  id: flag.string({
    placeholder: "NAME",
    default: DEFAULT_ACTUATOR_ID,
    help: "actuator id; with --secure also the broker username (password from " +
      "<keys>/credentials/NAME.password) unless --username is given",
  }),
  topic: flag.string({
    placeholder: "T",
    help: "topic",
    defaultText: `${INSECURE_TOPIC}, or ${SECURE_TOPIC_FILTER} with --secure`,
  }),
  state: flag.string({
    placeholder: "FILE|URL",
    help: "--secure: replay state: a SQLite file (several processes on one machine may share it) or a " +
      "postgres://USER@HOST/DB URL (instances on several machines); password from PGPASSWORD",
    defaultText: "<keys>/<id>.replay.sqlite, made by keygen",
  }),
  "init-state": flag.boolean({
    requires: ["secure"],
    help: "--secure: create the replay state if it is missing (else a missing state stops the actuator)",
  }),
  "overlap-commit": flag.boolean({
    requires: ["secure"],
    help: "--secure: record a message's counter while it is decrypted instead of after (lower latency; a " +
      "crash in between leaves the counter recorded and the message not acted on, so its redelivery is REPLAY)",
  }),
  share: flag.string({
    placeholder: "GROUP",
    requires: ["secure"],
    help: "--secure: subscribe through $share/GROUP/<topic>, so the broker spreads messages over every " +
      "instance of GROUP (Mosquitto, EMQX, HiveMQ; not the embedded broker)",
  }),
  "window-ms": flag.int({
    placeholder: "MS",
    min: 1,
    max: 86_400_000,
    default: TIMESTAMP_WINDOW_MS,
    help: "--secure: accepted clock skew of message timestamps",
  }),
  "batch-ms": flag.int({
    placeholder: "MS",
    min: 0,
    max: 1000,
    requires: ["secure"],
    help: `--secure: group commit: judge up to ${BATCH_CONCURRENCY} messages at once and record their ` +
      "counters in one durable transaction per MS ms",
    defaultText: "one transaction per message",
  }),
  "queue-limit": flag.int({
    min: 1,
    max: 1_000_000,
    default: DEFAULT_QUEUE_LIMIT,
    help: "messages waiting beyond N are rejected as OVERLOADED (without --secure; --secure queues per " +
      "publisher, see --queue-per-publisher)",
  }),
  "queue-per-publisher": flag.int({
    placeholder: "N",
    min: 1,
    max: 1_000_000,
    default: DEFAULT_FAIR_QUEUE.perKey,
    help: "--secure: messages one publisher (topic) may have waiting; its overflow is rejected as " +
      "OVERLOADED while the other publishers' queues are served in turn",
  }),
  "sender-rate": flag.int({
    placeholder: "N|off",
    min: 1,
    max: 1_000_000,
    words: ["off"],
    default: DEFAULT_SENDER_RATE.ratePerS,
    help: "--secure: authentic messages per second one sender may have acted on; beyond it (and " +
      "--sender-burst) they are rejected as RATE_LIMITED",
  }),
  "sender-burst": flag.int({
    placeholder: "N",
    min: 1,
    max: 10_000_000,
    default: DEFAULT_SENDER_RATE.burst,
    help: "--secure: authentic messages one sender may have acted on at once after a quiet spell",
  }),
  "failure-rate": flag.int({
    placeholder: "N|off",
    min: 1,
    max: 1_000_000,
    words: ["off"],
    default: DEFAULT_THROTTLE_POLICY.failures.ratePerS,
    help: "--secure: rejections per second a publisher (topic) may earn once its --failure-burst is spent; " +
      "its messages beyond that are shed unjudged as OVERLOADED",
  }),
  "failure-burst": flag.int({
    placeholder: "N",
    min: 1,
    max: 10_000_000,
    default: DEFAULT_THROTTLE_POLICY.failures.burst,
    help: "--secure: rejections a publisher may earn at once before --failure-rate applies",
  }),
  ...SECURE_IDENTITY_FLAGS,
  ...CONNECTION_FLAGS,
};

/** The `actuator` subcommand. */
export const actuatorCommand = defineCommand({
  name: "actuator",
  summary: "act on door events (trusting, or --secure verifying)",
  description: `Subscribes to door events and acts on them, logging every action and every rejection with a
reason code. Phase I trusts any well-formed JSON; with --secure it opens envelopes (signature, replay,
decryption) and keeps a crash-safe replay database. Runs until SIGINT/SIGTERM.`,
  flags: ACTUATOR_FLAGS,
  async run(flags, io) {
    const secure = flags.secure;
    const filter = flags.topic ?? (secure ? SECURE_TOPIC_FILTER : INSECURE_TOPIC);
    const topic = flags.share === undefined ? filter : sharedFilter(flags.share, filter);
    const batchMs = flags["batch-ms"];
    const actuatorId = flags.id;
    const given = await connectionFromFlags(flags);
    // Secure: a stable client id and a persistent session, so QoS 1 messages wait at the broker while
    // the actuator restarts (they are then checked against the replay database like any other). An
    // instance with its own account (-u door-actuator-2) takes that account's password from the home and
    // its name as client id, which the broker's client-id rule (auth/client_id.ts) gives to it alone.
    const account = given.username ?? actuatorId;
    const conn = secure
      ? { ...withHomeCredentials(given, flags, account), clientId: given.clientId ?? account }
      : given;
    const log = openLogFromFlags(flags, "actuator");
    const setup = secure
      ? await secureActuatorSetup(flags, actuatorId, {
        windowMs: flags["window-ms"],
        log,
        clock: systemClock,
        batchMs,
        initState: flags["init-state"],
        overlapCommit: flags["overlap-commit"],
        senderRate: flags["sender-rate"] === "off"
          ? "off"
          : { ratePerS: flags["sender-rate"], burst: flags["sender-burst"] },
      })
      : undefined;
    const transport = await connectRole(conn, "actuator", { clean: !secure }, { io, log });
    try {
      const actuator = await startActuator(
        {
          topic,
          qos: conn.qos,
          phase: secure ? "secure" : "insecure",
          queueLimit: flags["queue-limit"],
          concurrency: batchMs === undefined ? 1 : BATCH_CONCURRENCY,
          ...(secure
            ? {
              fairQueue: { ...DEFAULT_FAIR_QUEUE, perKey: flags["queue-per-publisher"] },
              maxPayloadBytes: ENVELOPE_MAX_BYTES,
              alerts: DEFAULT_ALERT_POLICY,
              ...(flags["failure-rate"] === "off" ? {} : {
                throttle: { failures: { ratePerS: flags["failure-rate"], burst: flags["failure-burst"] } },
              }),
            }
            : {}),
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
      await setup?.close();
      await transport.close();
      log.close();
    }
    return 0;
  },
});

/**
 * The MQTT 5 / Mosquitto shared-subscription filter: `$share/<group>/<filter>`.
 * @example
 * ```ts
 * sharedFilter("doors", "home/secure/#"); // "$share/doors/home/secure/#"
 * ```
 */
export function sharedFilter(group: string, filter: string): string {
  if (group === "" || /[/+#]/.test(group)) {
    throw new UsageError(`--share ${JSON.stringify(group)}: a group name cannot be empty or hold / + #`);
  }
  return `$share/${group}/${filter}`;
}
