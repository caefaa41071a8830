/**
 * secmqtt: shows, measures and fixes the security of MQTT smart-home traffic.
 * This file parses argv, picks a subcommand and maps errors to exit codes. Nothing else.
 * @module
 */

import { type CliIO, type Command, UsageError } from "./cli/common.ts";
import { RuntimeFailure } from "./cli/runtime.ts";
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
    "Usage: secmqtt <subcommand> [flags]      (secmqtt <subcommand> --help for its flags)",
    "",
    "Subcommands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Start with: secmqtt demo",
  ].join("\n");
}

/** Errors whose message is one line for the user, with the exit code each maps to. */
function exitCodeFor(error: unknown): number | undefined {
  if (error instanceof UsageError) return 2;
  const code = (error as { code?: unknown })?.code;
  if (typeof code === "string" && /^KEY_FILE_|^TRUST_|^CONFIG_/.test(code)) return 2;
  if (error instanceof RuntimeFailure) return 1;
  if (typeof code === "string" && /^[A-Z][A-Z_]+$/.test(code)) return 1;
  return undefined;
}

/**
 * Runs the tool with `args` and resolves to the process exit code.
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
  try {
    return await command.run(rest, io);
  } catch (error) {
    const code = exitCodeFor(error);
    if (code === undefined) throw error;
    io.err(`secmqtt ${name}: ${(error as Error).message.split("\n")[0]}`);
    return code;
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
