/**
 * secmqtt: shows, measures and fixes the security of MQTT smart-home traffic.
 * This file parses argv, picks a subcommand and maps errors to exit codes. Nothing else.
 * @module
 */

import { EXIT_STATUS_BY_KIND, SecmqttError } from "./core/errors.ts";
import { type CliIO, type Command, exitStatusLines } from "./cli/command.ts";
import { formatOptions } from "./cli/flags.ts";
import { brokerCommand } from "./cli/broker.ts";
import { sensorCommand } from "./cli/sensor.ts";
import { actuatorCommand } from "./cli/actuator.ts";
import { attackCommand } from "./cli/attack.ts";
import { timingCommand } from "./cli/timing.ts";
import { keygenCommand } from "./cli/keygen.ts";
import { demoCommand } from "./cli/demo.ts";
import { loadCommand } from "./cli/load.ts";
import { metricsCommand } from "./cli/metrics.ts";
import { VERSION } from "./core/version.ts";

/** Every subcommand, in the order `--help` lists them. */
export const COMMANDS: readonly Command[] = [
  demoCommand,
  keygenCommand,
  brokerCommand,
  sensorCommand,
  actuatorCommand,
  attackCommand,
  timingCommand,
  metricsCommand,
  loadCommand,
];

/** The tool's version, printed by `--version` (kept in core/version.ts, which metrics also reads). */
export { VERSION };

function topHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    "secmqtt — show, measure and fix the security of MQTT smart-home traffic",
    "",
    "Usage: secmqtt <subcommand> [options]      (secmqtt <subcommand> --help for its options)",
    "       secmqtt --version",
    "",
    "Subcommands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Options:",
    ...formatOptions({ version: { type: "boolean", help: "print the version and exit" } }),
    "",
    ...exitStatusLines(),
    "",
    "Start with: secmqtt demo",
  ].join("\n");
}

/** True when the arguments ask for help; it wins over every other flag. */
function wantsHelp(argv: readonly string[]): boolean {
  return argv.includes("--help") || argv.includes("-h");
}

/**
 * Runs the tool with `args` and resolves to the process exit code (see the help's `Exit status:`).
 * @example
 * ```ts
 * const code = await main(["--help"], io);
 * ```
 */
export async function main(args: string[], io: CliIO): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    io.out(topHelp());
    return name === undefined ? 2 : 0;
  }
  if (name === "--version") {
    io.out(`secmqtt ${VERSION}`);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.err(`secmqtt: unknown subcommand '${name}' (see secmqtt --help)`);
    return 2;
  }
  // The one place that answers --help: subcommands only ever see the flags of their table.
  if (wantsHelp(rest)) {
    io.out(command.help);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    // Coded errors are one line and an exit status by kind; anything else is a bug: rethrown, so
    // Deno prints its stack trace and exits 1.
    if (!(error instanceof SecmqttError)) throw error;
    io.err(`secmqtt ${name}: ${error.message.split("\n")[0]}`);
    return EXIT_STATUS_BY_KIND[error.kind];
  }
}

if (import.meta.main) {
  const controller = new AbortController();
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => controller.abort());
  }
  const encoder = new TextEncoder();
  const io: CliIO = {
    out: (line) => Deno.stdout.writeSync(encoder.encode(line + "\n")),
    err: (line) => Deno.stderr.writeSync(encoder.encode(line + "\n")),
    isTerminal: Deno.stdout.isTerminal(),
    signal: controller.signal,
  };
  const code = await main(Deno.args, io);
  Deno.exit(code);
}
