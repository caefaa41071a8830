/**
 * `secmqtt broker`: the embedded MQTT broker.
 * @module
 */

import { startBroker } from "../transport/broker.ts";
import { type Command, intFlag, openLogFromFlags, parseFlags, UsageError } from "./common.ts";
import { untilAborted } from "./runtime.ts";
import { loadBrokerPolicy } from "../auth/policy.ts";

const HELP =
  `Usage: secmqtt broker [--host H] [--port P] [--secure --password-file F --acl-file F] [--log FILE]

Runs the embedded MQTT 3.1.1 broker (aedes) until SIGINT/SIGTERM.

  --host H               interface to bind (default 127.0.0.1)
  --port P               TCP port (default 1883; 0 = any free port)
  --secure               refuse anonymous clients; enforce --password-file and --acl-file
  --password-file F      Mosquitto password file (as written by mosquitto_passwd or secmqtt keygen)
  --acl-file F           Mosquitto ACL file
  --log FILE             append JSON Lines events to FILE`;

/** The `broker` subcommand. */
export const brokerCommand: Command = {
  name: "broker",
  summary: "run the embedded MQTT broker (add --secure for passwords and ACL)",
  help: HELP,
  async run(argv, io) {
    const flags = parseFlags(argv, {
      host: { type: "string" },
      port: { type: "string" },
      secure: { type: "boolean" },
      "password-file": { type: "string" },
      "acl-file": { type: "string" },
      log: { type: "string" },
    });
    if (flags.help) {
      io.out(HELP);
      return 0;
    }
    const port = intFlag(flags.values, "port", { min: 0, max: 65535, default: 1883 })!;
    const secure = flags.values.secure === true;
    const passwordFile = flags.values["password-file"] as string | undefined;
    const aclFile = flags.values["acl-file"] as string | undefined;
    if (!secure && (passwordFile || aclFile)) {
      throw new UsageError("--password-file and --acl-file need --secure");
    }
    if (secure && (!passwordFile || !aclFile)) {
      throw new UsageError("--secure needs --password-file and --acl-file");
    }
    const policy = secure ? loadBrokerPolicy(passwordFile!, aclFile!) : undefined;
    const log = openLogFromFlags(flags.values, "broker");
    const broker = await startBroker({ host: flags.values.host as string | undefined, port, log, policy });
    io.err(
      `secmqtt broker listening on ${broker.url}${
        secure ? " (secure: passwords + ACL)" : " (insecure: anonymous allowed)"
      }`,
    );
    await untilAborted(io.signal);
    await broker.close();
    log.event("role_stopped", { reason: "signal" });
    log.close();
    return 0;
  },
};
