/**
 * The typed errors of `secmqtt metrics` that are decisions, not accidents: the cli maps each to its exit
 * code and prints its one-line message.
 * @module
 */

import { SecmqttError } from "../core/errors.ts";

/**
 * The inputs hold no secmqtt log record (empty files, or text that is not a log): there is nothing to
 * report, so nothing is written. Exit code 1: the inputs were readable files (not a usage error, 2), but
 * the run produced no result, and a script must not take an empty report for a good one.
 * @example
 * ```ts
 * try {
 *   await writeReport({ logs: ["empty.jsonl"], outDir: "out" });
 * } catch (error) {
 *   if (error instanceof NoRecordsError) console.error(error.message); // exit error.exitCode
 * }
 * ```
 */
export class NoRecordsError extends SecmqttError {
  /** Stable code. */
  readonly code = "NO_RECORDS";
  /** Exit-status kind: nothing to report on is a failed run (exit 1), not a usage error. */
  readonly kind = "state";
  /** The process exit code the cli uses. */
  readonly exitCode = 1;
  /** The inputs that were read. */
  readonly inputs: string[];

  /** @param inputs the log paths read @param lines how many non-empty lines they had */
  constructor(inputs: string[], lines: number) {
    const what = lines === 0 ? "empty" : `${lines} line${lines === 1 ? "" : "s"}, none a log record`;
    super(
      `no secmqtt log records in ${inputs.join(", ")} (${what}); nothing written — ` +
        "pass a file written with --log by a secmqtt role",
    );
    this.inputs = inputs;
  }
}
