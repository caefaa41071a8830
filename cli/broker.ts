/**
 * `secmqtt broker`: the embedded MQTT broker.
 * @module
 */

import { DEFAULT_PUBLISH_RATE, startBroker } from "../transport/broker.ts";
import { defineCommand } from "./command.ts";
import { DEFAULT_BROKER_URL, DEFAULT_SECURE_BROKER_URL, LOG_FLAGS, openLogFromFlags } from "./common.ts";
import { flag, UsageError } from "./flags.ts";
import { untilAborted } from "./runtime.ts";
import { loadBrokerPolicy } from "../auth/policy.ts";
import { homePaths } from "../store/home.ts";
import { readBrokerTls } from "../store/tls.ts";

/** The broker listens where the other roles connect by default. */
const DEFAULT_LISTEN = new URL(DEFAULT_BROKER_URL);
/** With a home's TLS files, where the secure roles connect by default (mqtts, 8883). */
const DEFAULT_SECURE_LISTEN = new URL(DEFAULT_SECURE_BROKER_URL);

/** The `broker` subcommand's flags. */
export const BROKER_FLAGS = {
  host: flag.string({ placeholder: "H", help: "interface to bind", default: DEFAULT_LISTEN.hostname }),
  port: flag.int({
    placeholder: "P",
    min: 0,
    max: 65535,
    defaultText: `${DEFAULT_LISTEN.port}, or ${DEFAULT_SECURE_LISTEN.port} (TLS) with --secure --keys`,
    help: "TCP port; 0 picks any free port",
  }),
  secure: flag.boolean({
    help: "refuse anonymous clients; enforce the home's passwd and acl (--keys, with TLS) or " +
      "--password-file and --acl-file (plaintext)",
  }),
  keys: flag.string({
    placeholder: "DIR",
    requires: ["secure"],
    help: "--secure: serve TLS only with DIR/tls/broker.crt and broker.key, and enforce DIR/passwd " +
      "and DIR/acl (the home made by 'secmqtt keygen')",
  }),
  "password-file": flag.string({
    placeholder: "F",
    requires: ["secure"],
    help: "Mosquitto password file (as written by mosquitto_passwd or secmqtt keygen); overrides DIR/passwd",
  }),
  "acl-file": flag.string({
    placeholder: "F",
    requires: ["secure"],
    help: "Mosquitto ACL file; overrides DIR/acl",
  }),
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
  summary: "run the embedded MQTT broker (add --secure --keys DIR for TLS, passwords and ACL)",
  description: `Runs the embedded MQTT 3.1.1 broker (aedes) until SIGINT/SIGTERM.

With --secure --keys DIR it serves the home made by 'secmqtt keygen' as Mosquitto does with
DIR/mosquitto.conf: TLS only (plaintext MQTT is refused at the handshake) with the home's broker
certificate, on port ${DEFAULT_SECURE_LISTEN.port} unless --port is given, enforcing DIR/passwd and DIR/acl.
Clients connect with --broker mqtts://127.0.0.1:${DEFAULT_SECURE_LISTEN.port} and verify it with DIR/tls/ca.crt.`,
  flags: BROKER_FLAGS,
  async run(flags, io) {
    const keys = flags.keys !== undefined ? homePaths(flags.keys) : undefined;
    const passwordFile = flags["password-file"] ?? keys?.passwd;
    const aclFile = flags["acl-file"] ?? keys?.acl;
    if (flags.secure && (passwordFile === undefined || aclFile === undefined)) {
      throw new UsageError(
        "--secure needs --keys DIR (the home's TLS certificate, passwd and acl), " +
          "or both --password-file and --acl-file",
      );
    }
    const policy = passwordFile !== undefined && aclFile !== undefined
      ? loadBrokerPolicy(passwordFile, aclFile)
      : undefined;
    const tls = keys ? readBrokerTls(keys) : undefined;
    const port = flags.port ?? Number(tls ? DEFAULT_SECURE_LISTEN.port : DEFAULT_LISTEN.port);
    const log = openLogFromFlags(flags, "broker");
    const rate = flags["publish-rate"];
    const publishRate = rate === "off" ? undefined : { ratePerS: rate, burst: flags["publish-burst"] };
    const broker = await startBroker({ host: flags.host, port, log, policy, tls, limits: { publishRate } });
    io.err(
      `secmqtt broker listening on ${broker.url}${
        policy ? ` (secure: ${tls ? "TLS, " : ""}passwords + ACL)` : " (insecure: anonymous allowed)"
      }`,
    );
    await untilAborted(io.signal);
    await broker.close();
    log.event("role_stopped", { reason: "signal", rate_limited: { ...broker.rateLimited } });
    log.close();
    return 0;
  },
});
