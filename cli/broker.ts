/**
 * `secmqtt broker`: the embedded MQTT broker.
 * @module
 */

import { DEFAULT_PUBLISH_RATE, startBroker } from "../transport/broker.ts";
import { defineCommand } from "./command.ts";
import { DEFAULT_BROKER_URL, LOG_FLAGS, openLogFromFlags } from "./common.ts";
import { flag } from "./flags.ts";
import { untilAborted } from "./runtime.ts";
import { loadBrokerPolicy } from "../auth/policy.ts";

/** The broker listens where the other roles connect by default. */
const DEFAULT_LISTEN = new URL(DEFAULT_BROKER_URL);

/** The `broker` subcommand's flags. */
export const BROKER_FLAGS = {
  host: flag.string({ placeholder: "H", help: "interface to bind", default: DEFAULT_LISTEN.hostname }),
  port: flag.int({
    placeholder: "P",
    min: 0,
    max: 65535,
    default: Number(DEFAULT_LISTEN.port),
    help: "TCP port; 0 picks any free port",
  }),
  secure: flag.boolean({
    help: "refuse anonymous clients; enforce --password-file and --acl-file",
    requires: ["password-file", "acl-file"],
  }),
  "password-file": flag.string({
    placeholder: "F",
    requires: ["secure"],
    help: "Mosquitto password file (as written by mosquitto_passwd or secmqtt keygen)",
  }),
  "acl-file": flag.string({ placeholder: "F", requires: ["secure"], help: "Mosquitto ACL file" }),
  "publish-rate": flag.int({
    placeholder: "N|off",
    min: 1,
    max: 1_000_000,
    words: ["off"],
    default: DEFAULT_PUBLISH_RATE.ratePerS,
    requires: ["secure"],
    help: "--secure: PUBLISH packets per second per account; beyond it (and --publish-burst) they are " +
      "acknowledged but delivered to no one, counted, and logged once per episode",
  }),
  "publish-burst": flag.int({
    placeholder: "N",
    min: 1,
    max: 10_000_000,
    default: DEFAULT_PUBLISH_RATE.burst,
    requires: ["secure"],
    help: "--secure: publishes an account may send at once after a quiet spell",
  }),
  ...LOG_FLAGS,
};

/** The `broker` subcommand. */
export const brokerCommand = defineCommand({
  name: "broker",
  summary: "run the embedded MQTT broker (add --secure for passwords and ACL)",
  description: "Runs the embedded MQTT 3.1.1 broker (aedes) until SIGINT/SIGTERM.",
  flags: BROKER_FLAGS,
  async run(flags, io) {
    const passwordFile = flags["password-file"];
    const aclFile = flags["acl-file"];
    const policy = passwordFile !== undefined && aclFile !== undefined
      ? loadBrokerPolicy(passwordFile, aclFile)
      : undefined;
    const log = openLogFromFlags(flags, "broker");
    const rate = flags["publish-rate"];
    const publishRate = rate === "off" ? undefined : { ratePerS: rate, burst: flags["publish-burst"] };
    const broker = await startBroker({
      host: flags.host,
      port: flags.port,
      log,
      policy,
      limits: { publishRate },
    });
    io.err(
      `secmqtt broker listening on ${broker.url}${
        policy ? " (secure: passwords + ACL)" : " (insecure: anonymous allowed)"
      }`,
    );
    await untilAborted(io.signal);
    await broker.close();
    log.event("role_stopped", { reason: "signal", rate_limited: { ...broker.rateLimited } });
    log.close();
    return 0;
  },
});
