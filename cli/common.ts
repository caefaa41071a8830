/**
 * Flag groups several subcommands share: the connection flags in the conventions of mosquitto_pub/sub
 * and MQTT.js, and the log flag; with the functions that turn their values into settings.
 * @module
 */

import { fileLogWriter, Log, LogFileError, newRunId, nullLogWriter } from "../log/jsonl.ts";
import { DEFAULT_CONNECT_POLICY } from "../transport/connect_policy.ts";
import { systemClock } from "../core/clock.ts";
import { flag, type FlagValues, UsageError } from "./flags.ts";
import { DEFAULT_KEYS_DIR, homePaths } from "../store/home.ts";

/** Default broker URL (Phase I, and the plaintext embedded broker). */
export const DEFAULT_BROKER_URL = "mqtt://127.0.0.1:1883";
/**
 * Default broker URL of the `--secure` roles: TLS on 8883, where `secmqtt broker --secure --keys DIR`
 * and `mosquitto -c DIR/mosquitto.conf` listen.
 */
export const DEFAULT_SECURE_BROKER_URL = "mqtts://127.0.0.1:8883";

/** QoS levels the roles use (MQTT 3.1.1 §4.3: at most once, at least once). */
export const QOS_LEVELS = ["0", "1"] as const;

/** The `--log` flag. */
export const LOG_FLAGS = {
  log: flag.string({ placeholder: "FILE", help: "append JSON Lines events to FILE (schema: docs/LOG.md)" }),
};

/** Connection flags shared by every role that talks MQTT (mosquitto_pub/sub conventions), and `--log`. */
export const CONNECTION_FLAGS = {
  broker: flag.string({
    placeholder: "URL",
    help: "mqtt://host:port, or mqtts://host:port for TLS (the broker's certificate is verified)",
    defaultText: `${DEFAULT_BROKER_URL}, or ${DEFAULT_SECURE_BROKER_URL} with --secure`,
  }),
  cafile: flag.string({
    placeholder: "FILE",
    help: "PEM of the CA that signed the broker's TLS certificate (mosquitto_pub's --cafile)",
    defaultText: "<keys>/tls/ca.crt with --secure, else the system's CAs",
  }),
  "connect-wait-s": flag.int({
    placeholder: "S",
    min: 0,
    max: 3600,
    default: Math.round(DEFAULT_CONNECT_POLICY.firstConnectWindowMs / 1000),
    help: "how long to wait for a broker that is not up yet, retrying with backoff; 0 = one attempt",
  }),
  username: flag.string({ short: "u", placeholder: "NAME", help: "broker username (env SECMQTT_USERNAME)" }),
  password: flag.string({
    short: "P",
    placeholder: "PASS",
    help: "broker password (env SECMQTT_PASSWORD; prefer --password-file)",
    conflicts: "password-file",
  }),
  "password-file": flag.string({
    placeholder: "FILE",
    help: "read the broker password from FILE (first line)",
  }),
  "client-id": flag.string({
    short: "i",
    placeholder: "ID",
    help: "MQTT client id",
    defaultText: "username, else role name, plus a random suffix",
  }),
  qos: flag.choice({ short: "q", choices: QOS_LEVELS, default: "1", help: "QoS for publish and subscribe" }),
  ...LOG_FLAGS,
};

/** Connection settings resolved from flags and environment. */
export interface ConnectionOptions {
  url: string;
  username?: string;
  password?: string;
  clientId?: string;
  qos: 0 | 1;
  /** PEM of the CA the broker's certificate must chain to (mqtts://). */
  ca?: string;
  /** The file `ca` was read from, for messages. */
  caFile?: string;
  /** How long the first connect may wait for the broker, ms. */
  connectWaitMs: number;
}

/**
 * The role flags besides the connection flags that change its defaults: with `--secure` the broker is
 * {@link DEFAULT_SECURE_BROKER_URL} and an mqtts:// broker is verified with the home's `tls/ca.crt`.
 */
export interface SecureDefaults {
  secure?: boolean;
  keys?: string;
}

/**
 * Resolves connection flags (flags win over SECMQTT_USERNAME / SECMQTT_PASSWORD). With `--secure`, the
 * broker defaults to {@link DEFAULT_SECURE_BROKER_URL}, and for an mqtts:// broker without `--cafile`
 * the CA is the home's `<keys>/tls/ca.crt`: a secure role never falls back to the system's CAs, which
 * would trust any public certificate for the broker's name.
 * @example
 * ```ts
 * const conn = await connectionFromFlags(flags);
 * ```
 */
export async function connectionFromFlags(
  values: FlagValues<typeof CONNECTION_FLAGS> & SecureDefaults,
): Promise<ConnectionOptions> {
  const url = values.broker ?? (values.secure ? DEFAULT_SECURE_BROKER_URL : DEFAULT_BROKER_URL);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--broker expects mqtt://host:port, got '${url}'`);
  }
  if ((parsed.protocol !== "mqtt:" && parsed.protocol !== "mqtts:") || !parsed.hostname) {
    throw new UsageError(`--broker expects mqtt://host:port or mqtts://host:port, got '${url}'`);
  }
  let password = values.password;
  const passwordFile = values["password-file"];
  if (passwordFile !== undefined) {
    try {
      password = (await Deno.readTextFile(passwordFile)).split(/\r?\n/)[0];
    } catch (error) {
      throw new UsageError(`--password-file ${passwordFile}: cannot read it: ${reasonOf(error)}`);
    }
  }
  let ca: string | undefined;
  let caFile = values.cafile;
  if (caFile !== undefined) {
    try {
      ca = await Deno.readTextFile(caFile);
    } catch (error) {
      throw new UsageError(`--cafile ${caFile}: cannot read it: ${reasonOf(error)}`);
    }
    if (!ca.includes("-----BEGIN CERTIFICATE-----")) {
      throw new UsageError(
        `--cafile ${caFile}: not a PEM certificate (expected -----BEGIN CERTIFICATE-----)`,
      );
    }
  } else if (values.secure && parsed.protocol === "mqtts:") {
    const keysDir = values.keys ?? DEFAULT_KEYS_DIR;
    caFile = homePaths(keysDir).caCert;
    try {
      ca = await Deno.readTextFile(caFile);
    } catch (error) {
      throw new UsageError(
        `--broker ${url}: cannot read the home's CA ${caFile} (${reasonOf(error)}); ` +
          `run secmqtt keygen --out ${keysDir}, or give --cafile FILE`,
      );
    }
  }
  return {
    url,
    username: values.username ?? Deno.env.get("SECMQTT_USERNAME"),
    password: password ?? Deno.env.get("SECMQTT_PASSWORD"),
    clientId: values["client-id"],
    qos: values.qos === "1" ? 1 : 0,
    ca,
    caFile,
    connectWaitMs: values["connect-wait-s"] * 1000,
  };
}

/** The OS's reason from an error, for one-line messages. */
function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Opens the log named by `--log` (or a log that drops everything) for a role.
 * @example
 * ```ts
 * const log = openLogFromFlags(flags, "sensor");
 * ```
 */
export function openLogFromFlags(values: { log?: string }, role: string): Log {
  const path = values.log;
  const run = Deno.env.get("SECMQTT_RUN") ?? newRunId();
  try {
    const writer = path ? fileLogWriter(path) : nullLogWriter;
    return new Log(writer, { role, run, clock: systemClock });
  } catch (error) {
    if (!(error instanceof LogFileError)) throw error;
    throw new UsageError(`--log ${path}: ${error.message} (choose a path you can write)`);
  }
}
