/**
 * Test helper: runs `main()` in process with an IO that records what it prints.
 * @module
 */

import type { CliIO } from "../../cli/command.ts";
import { main } from "../../main.ts";

/**
 * Runs `secmqtt <args…>` in this process and returns exit code, stdout and stderr lines.
 * @example
 * ```ts
 * const { code, err } = await runMain(["sensor", "--count", "-3"]);
 * ```
 */
export async function runMain(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIO = {
    out: (line) => out.push(...line.split("\n")),
    err: (line) => err.push(...line.split("\n")),
    isTerminal: false,
    signal: new AbortController().signal,
  };
  const code = await main(args, io);
  return { code, out, err };
}
