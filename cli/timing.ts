/**
 * `secmqtt timing`: the timing-attack demonstration (flags → options → roles/timing.ts → printed verdicts).
 * @module
 */

import {
  type CliIO,
  type Command,
  intFlag,
  openLogFromFlags,
  type ParsedFlags,
  parseFlags,
  UsageError,
} from "./common.ts";
import {
  DEFAULT_BATCHES,
  DEFAULT_RECOVERY_BUDGET,
  DEFAULT_SAMPLES_PER_CLASS,
  DEFAULT_T_THRESHOLD,
  runTiming,
  type TimingDeps,
  type TimingOptions,
  type TimingReport,
} from "../roles/timing.ts";
import { DEFAULT_TIMING_TARGETS, TIMING_TARGETS } from "../roles/timing_targets/mod.ts";

export { runTiming };
export type { TimingDeps, TimingOptions, TimingReport };

const HELP = `secmqtt timing — show that an early-exit comparison leaks through its running time

Usage:
  secmqtt timing [--target NAME[,NAME…]] [--samples N] [--threshold T] [--recover] [--budget N]
                 [--log FILE] [--json]

By default times vulnerableEqual (returns at the first differing byte) and constantTimeEqual against a
random 32-byte secret with two classes of wrong guesses — the secret with only its last byte changed, and
a random guess — interleaved at random, many calls per measurement. After cropping the slowest 10 % it runs
Welch's t-test (dudect): |t| above the threshold means the time depends on the secret. Every target is
measured in ${DEFAULT_BATCHES} independent batches; it leaks only if most batches agree (median t shown, and
the min…max over batches).

Targets (--target, comma-separated; default ${DEFAULT_TIMING_TARGETS.join(",")}):
${Object.values(TIMING_TARGETS).map((t) => `  ${t.name.padEnd(21)} ${t.summary}`).join("\n")}

Options:
  --target LIST    targets to measure (names above)
  --samples N      measurements per class per batch (default ${DEFAULT_SAMPLES_PER_CLASS} for the compares, fewer
                   for the slower targets; more = slower, more sensitive)
  --threshold T    |t| above T is a leak (default ${DEFAULT_T_THRESHOLD})
  --recover        also recover a 16-byte secret byte by byte through each function's timing
  --budget N       comparison calls the recovery may spend per function (default ${DEFAULT_RECOVERY_BUDGET})
  --log FILE       append timing_result / recovery_result events to FILE (docs/LOG.md)
  --json           print the report as JSON instead of a table
  -h, --help       show this help

Exit status: 0 when the verdicts are as expected (leak for vulnerableEqual and dsa-sign-unprotected,
none for constantTimeEqual, dsa-sign and ed25519-sign; rsa-unwrap is reported only), 1 otherwise, 2 on a
usage error.`;

/**
 * Turns `timing` flags into the role's options.
 * @example
 * ```ts
 * timingOptionsFromFlags(["--samples", "5000", "--recover"]); // { samples: 5000, recover: true, … }
 * ```
 */
export function timingOptionsFromFlags(
  argv: string[],
): { options: TimingOptions; json: boolean; help: boolean; values: ParsedFlags["values"] } {
  const flags = parseFlags(argv, {
    samples: { type: "string" },
    threshold: { type: "string" },
    recover: { type: "boolean" },
    budget: { type: "string" },
    target: { type: "string" },
    log: { type: "string" },
    json: { type: "boolean" },
  });
  const rawThreshold = flags.values.threshold;
  let threshold = DEFAULT_T_THRESHOLD;
  if (rawThreshold !== undefined) {
    threshold = Number(rawThreshold);
    if (typeof rawThreshold !== "string" || !(threshold > 0) || !Number.isFinite(threshold)) {
      throw new UsageError(`--threshold expects a positive number, got '${rawThreshold}'`);
    }
  }
  const rawTarget = flags.values.target;
  let targets: string[] | undefined;
  if (rawTarget !== undefined) {
    targets = typeof rawTarget === "string" ? rawTarget.split(",").map((name) => name.trim()) : [];
    const unknown = targets.find((name) => !(name in TIMING_TARGETS));
    if (targets.length === 0 || unknown !== undefined) {
      throw new UsageError(
        `--target expects names from ${Object.keys(TIMING_TARGETS).join(", ")}, got '${
          unknown ?? rawTarget
        }'`,
      );
    }
  }
  const options: TimingOptions = {
    samples: intFlag(flags.values, "samples", { min: 100, max: 10_000_000 }),
    threshold,
    recover: flags.values.recover === true,
    recoveryBudget: intFlag(flags.values, "budget", { min: 1, default: DEFAULT_RECOVERY_BUDGET }),
    targets,
  };
  return { options, json: flags.values.json === true, help: flags.help, values: flags.values };
}

/**
 * The report as printable lines: one per target (median t, n, verdict, t over the batches), then one per
 * recovery.
 * @example
 * ```ts
 * formatTimingReport(report).forEach((line) => io.out(line));
 * ```
 */
export function formatTimingReport(report: TimingReport): string[] {
  const width = Math.max(18, ...report.results.map((r) => r.function.length));
  const lines = [`${"function".padEnd(width)}        t         n  calls/meas  verdict`];
  for (const r of report.results) {
    const verdict = r.leak ? `LEAK (|t| > ${r.threshold})` : `no leak (|t| ≤ ${r.threshold})`;
    const spread = `batches: t ${r.t_spread.min.toFixed(2)} … ${r.t_spread.max.toFixed(2)}`;
    lines.push(
      `${r.function.padEnd(width)} ${r.t.toFixed(2).padStart(8)} ${String(r.n).padStart(9)} ${
        String(r.calls_per_measurement).padStart(11)
      }  ${verdict.padEnd(19)}  ${spread}`,
    );
  }
  for (const r of report.recovery) {
    lines.push(
      `recovery via ${r.function}: ${r.bytes_recovered}/${r.target_bytes} bytes recovered with ${r.queries} of ${r.budget} queries`,
    );
  }
  return lines;
}

/** `secmqtt timing`. */
export const timingCommand: Command = {
  name: "timing",
  summary: "dudect t-test of compares and signers for timing leaks (byte recovery with --recover)",
  help: HELP,
  async run(argv: string[], io: CliIO): Promise<number> {
    const { options, json, help, values } = timingOptionsFromFlags(argv);
    if (help) {
      io.out(HELP);
      return 0;
    }
    const log = openLogFromFlags(values, "timing");
    try {
      const report = await runTiming(options, { log, signal: io.signal });
      if (json) io.out(JSON.stringify(report, null, 2));
      else formatTimingReport(report).forEach((line) => io.out(line));
      const expected = report.results.every((r) => {
        const expectLeak = TIMING_TARGETS[r.target]?.expectLeak;
        return expectLeak === undefined || r.leak === expectLeak;
      });
      return expected ? 0 : 1;
    } finally {
      log.close();
    }
  },
};
