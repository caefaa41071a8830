/**
 * What every subcommand shares: flag parsing with one-line usage errors, the connection flags in the
 * conventions of mosquitto_pub/sub and MQTT.js, and the log flag.
 * @module
 */

import { parseArgs } from "node:util";
import { fileLogWriter, Log, newRunId, nullLogWriter } from "../log/jsonl.ts";
import { systemClock } from "../core/clock.ts";

/** A bad flag, value or missing argument: main.ts prints `secmqtt: <message>` and exits 2. */
export class UsageError extends Error {
  /** Stable code. */
  readonly code = "USAGE";
  /** @param message one line saying what was expected and what came */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Output for a subcommand: the only place anything reaches stdout/stderr. */
export interface CliIO {
  /** Writes one line to stdout. */
  out(line: string): void;
  /** Writes one line to stderr. */
  err(line: string): void;
  /** True when stdout is a terminal (progress lines are shown only then). */
  isTerminal: boolean;
  /** Aborted on SIGINT/SIGTERM so long-running roles stop cleanly. */
  signal: AbortSignal;
}

/** A subcommand: its name, one-line summary, help text and entry point returning an exit code. */
export interface Command {
  /** The word after `secmqtt`. */
  name: string;
  /** One line for `secmqtt --help`. */
  summary: string;
  /** Full `--help` text. */
  help: string;
  /** Runs with the arguments after the subcommand name; resolves to the exit code. */
  run(argv: string[], io: CliIO): Promise<number>;
}

/** Flag types understood by {@link parseFlags}. */
export type FlagSpec = Record<string, { type: "string" | "boolean"; multiple?: boolean; short?: string }>;

/** The result of {@link parseFlags}: flag values by name, positionals, and whether help was asked. */
export interface ParsedFlags {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
  help: boolean;
}

/**
 * Parses argv strictly: an unknown flag or a missing value is a {@link UsageError}.
 * `--help`/`-h` is always accepted.
 * @example
 * ```ts
 * parseFlags(["--count", "3"], { count: { type: "string" } }).values.count; // "3"
 * ```
 */
export function parseFlags(argv: string[], spec: FlagSpec, allowPositionals = false): ParsedFlags {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { ...spec, help: { type: "boolean", short: "h" } },
      strict: true,
      allowPositionals,
    });
    const { help, ...rest } = values as Record<string, string | boolean | string[] | undefined>;
    return { values: rest, positionals, help: help === true };
  } catch (error) {
    throw new UsageError(cleanParseError(error));
  }
}

function cleanParseError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const unknown = message.match(/Unknown option '([^']+)'/);
  if (unknown) return `unknown flag ${unknown[1]} (see --help)`;
  const missing = message.match(/Option '([^']+?)(?: <value>)?' argument missing/);
  if (missing) return `flag ${missing[1].split(",").pop()!.trim()} needs a value`;
  const positional = message.match(/Unexpected argument '([^']+)'/);
  if (positional) return `unexpected argument '${positional[1]}' (see --help)`;
  return message.split("\n")[0].replace(/\. To specify.*$/, "");
}

/**
 * Reads an integer flag within bounds, or throws a {@link UsageError} naming the flag.
 * @example
 * ```ts
 * intFlag({ count: "5" }, "count", { min: 1 }); // 5
 * ```
 */
export function intFlag(
  values: ParsedFlags["values"],
  name: string,
  bounds: { min?: number; max?: number; default?: number } = {},
): number | undefined {
  const raw = values[name];
  if (raw === undefined) return bounds.default;
  if (typeof raw !== "string" || !/^-?\d+$/.test(raw)) {
    throw new UsageError(`--${name} expects a whole number, got '${raw}'`);
  }
  const n = Number(raw);
  if ((bounds.min !== undefined && n < bounds.min) || (bounds.max !== undefined && n > bounds.max)) {
    throw new UsageError(
      `--${name} must be between ${bounds.min ?? "-∞"} and ${bounds.max ?? "∞"}, got ${raw}`,
    );
  }
  return n;
}

/**
 * Reads a string flag that must be one of `choices`.
 * @example
 * ```ts
 * choiceFlag({ qos: "1" }, "qos", ["0", "1"], "0"); // "1"
 * ```
 */
export function choiceFlag<T extends string>(
  values: ParsedFlags["values"],
  name: string,
  choices: readonly T[],
  fallback: T,
): T {
  const raw = values[name];
  if (raw === undefined) return fallback;
  if (typeof raw !== "string" || !(choices as readonly string[]).includes(raw)) {
    throw new UsageError(`--${name} must be one of ${choices.join(", ")}, got '${raw}'`);
  }
  return raw as T;
}

/** Connection flags shared by every role that talks MQTT (mosquitto_pub/sub conventions). */
export const CONNECTION_FLAGS: FlagSpec = {
  broker: { type: "string" },
  username: { type: "string", short: "u" },
  password: { type: "string", short: "P" },
  "password-file": { type: "string" },
  "client-id": { type: "string", short: "i" },
  qos: { type: "string", short: "q" },
  log: { type: "string" },
};

/** Help lines for {@link CONNECTION_FLAGS}. */
export const CONNECTION_HELP = `Connection:
  --broker URL           mqtt://host:port (default mqtt://127.0.0.1:1883)
  -u, --username NAME    broker username (env SECMQTT_USERNAME)
  -P, --password PASS    broker password (env SECMQTT_PASSWORD; prefer --password-file)
  --password-file FILE   read the broker password from FILE (first line)
  -i, --client-id ID     MQTT client id (default: username, else role name, plus a random suffix)
  -q, --qos 0|1          QoS for publish and subscribe (default 1)
  --log FILE             append JSON Lines events to FILE (schema: docs/LOG.md)`;

/** Connection settings resolved from flags and environment. */
export interface ConnectionOptions {
  url: string;
  username?: string;
  password?: string;
  clientId?: string;
  qos: 0 | 1;
}

/** Default broker URL. */
export const DEFAULT_BROKER_URL = "mqtt://127.0.0.1:1883";

/**
 * Resolves connection flags (flags win over SECMQTT_USERNAME / SECMQTT_PASSWORD).
 * @example
 * ```ts
 * const conn = await connectionFromFlags(flags.values);
 * ```
 */
export async function connectionFromFlags(values: ParsedFlags["values"]): Promise<ConnectionOptions> {
  const url = (values.broker as string | undefined) ?? DEFAULT_BROKER_URL;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--broker expects mqtt://host:port, got '${url}'`);
  }
  if (parsed.protocol !== "mqtt:" || !parsed.hostname) {
    throw new UsageError(`--broker expects mqtt://host:port, got '${url}'`);
  }
  let password = values.password as string | undefined;
  const passwordFile = values["password-file"] as string | undefined;
  if (password !== undefined && passwordFile !== undefined) {
    throw new UsageError("give --password or --password-file, not both");
  }
  if (passwordFile !== undefined) {
    try {
      password = (await Deno.readTextFile(passwordFile)).split(/\r?\n/)[0];
    } catch {
      throw new UsageError(`cannot read --password-file ${passwordFile}`);
    }
  }
  password ??= Deno.env.get("SECMQTT_PASSWORD");
  const username = (values.username as string | undefined) ?? Deno.env.get("SECMQTT_USERNAME");
  const qos = choiceFlag(values, "qos", ["0", "1"] as const, "1");
  return {
    url,
    username,
    password,
    clientId: values["client-id"] as string | undefined,
    qos: qos === "1" ? 1 : 0,
  };
}

/**
 * Opens the log named by `--log` (or a log that drops everything) for a role.
 * @example
 * ```ts
 * const log = openLogFromFlags(flags.values, "sensor");
 * ```
 */
export function openLogFromFlags(values: ParsedFlags["values"], role: string): Log {
  const path = values.log as string | undefined;
  const run = Deno.env.get("SECMQTT_RUN") ?? newRunId();
  try {
    const writer = path ? fileLogWriter(path) : nullLogWriter;
    return new Log(writer, { role, run, clock: systemClock });
  } catch {
    throw new UsageError(`cannot open --log ${path} for appending`);
  }
}
