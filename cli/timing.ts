/**
 * `secmqtt timing`: the timing-attack demonstration (flags → options → roles/timing.ts → printed verdicts).
 * @module
 */

import { defineCommand } from "./command.ts";
import { LOG_FLAGS, openLogFromFlags } from "./common.ts";
import { flag, type FlagValues, parseFlags } from "./flags.ts";
import {
  DEFAULT_BATCHES,
  DEFAULT_RECOVERY_BUDGET,
  DEFAULT_SAMPLES_PER_CLASS,
  DEFAULT_T_THRESHOLD,
  describeRecovery,
  RECOVERY_SECRET_BYTES,
  runTiming,
  type TimingDeps,
  type TimingOptions,
  type TimingReport,
} from "../roles/timing.ts";
import { DEFAULT_TIMING_TARGETS, TIMING_TARGETS } from "../roles/timing_targets/mod.ts";
import { COMPARE_CROP_PERCENTILE, DETECTION_SECRET_BYTES } from "../roles/timing_targets/compare.ts";
import { UsageError } from "./flags.ts";

export { runTiming };
export type { TimingDeps, TimingOptions, TimingReport };

/** Share of the slowest measurements the t-test leaves out, %. */
const CROPPED_PERCENT = 100 - COMPARE_CROP_PERCENTILE;

/** The `timing` subcommand's flags. */
export const TIMING_FLAGS = {
  target: flag.string({
    placeholder: "LIST",
    help: `comma-separated targets: ${Object.keys(TIMING_TARGETS).join(", ")}`,
    defaultText: DEFAULT_TIMING_TARGETS.join(","),
  }),
  samples: flag.int({
    min: 100,
    max: 10_000_000,
    help: "measurements per class per batch; more is slower and more sensitive",
    defaultText: `${DEFAULT_SAMPLES_PER_CLASS} for the compares, fewer for the slower targets`,
  }),
  threshold: flag.number({
    placeholder: "T",
    above: 0,
    default: DEFAULT_T_THRESHOLD,
    help: "|t| above T is a leak",
  }),
  recover: flag.boolean({
    help: `also recover a ${RECOVERY_SECRET_BYTES}-byte secret byte by byte through each function's timing`,
  }),
  budget: flag.int({
    min: 1,
    default: DEFAULT_RECOVERY_BUDGET,
    help: "comparison calls the recovery may spend per function",
  }),
  log: flag.string({
    ...LOG_FLAGS.log,
    help: "append timing_result / recovery_result events to FILE (docs/LOG.md)",
  }),
  json: flag.boolean({ help: "print the report as JSON instead of a table" }),
};

/**
 * Turns `timing` flags into the role's options.
 * @example
 * ```ts
 * timingOptionsFromFlags(["--samples", "5000", "--recover"]); // { samples: 5000, recover: true, … }
 * ```
 */
export function timingOptionsFromFlags(
  argv: string[],
): { options: TimingOptions; json: boolean; values: FlagValues<typeof TIMING_FLAGS> } {
  return timingOptions(parseFlags(argv, TIMING_FLAGS, "timing"));
}

function timingOptions(
  values: FlagValues<typeof TIMING_FLAGS>,
): { options: TimingOptions; json: boolean; values: FlagValues<typeof TIMING_FLAGS> } {
  let targets: string[] | undefined;
  if (values.target !== undefined) {
    targets = values.target.split(",").map((name) => name.trim());
    const unknown = targets.find((name) => !(name in TIMING_TARGETS));
    if (unknown !== undefined) {
      throw new UsageError(
        `--target: unknown target '${unknown}' (known: ${Object.keys(TIMING_TARGETS).join(", ")})`,
      );
    }
  }
  const options: TimingOptions = {
    samples: values.samples,
    threshold: values.threshold,
    recover: values.recover,
    recoveryBudget: values.budget,
    targets,
  };
  return { options, json: values.json, values };
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
  for (const r of report.recovery) lines.push(`recovery via ${describeRecovery(r)}`);
  return lines;
}

/** `secmqtt timing`. */
export const timingCommand = defineCommand({
  name: "timing",
  summary: "dudect t-test of compares and signers for timing leaks (byte recovery with --recover)",
  description: `Shows which code leaks secrets through its running time. By default times vulnerableEqual
(returns at the first differing byte) and constantTimeEqual against a random ${DETECTION_SECRET_BYTES}-byte
secret with two classes of wrong guesses — the secret with only its last byte changed, and a random
guess — interleaved at random, many calls per measurement. After cropping the slowest ${CROPPED_PERCENT} % it
runs Welch's t-test (dudect): |t| above the threshold means the time depends on the secret. Every target is
measured in ${DEFAULT_BATCHES} independent batches; it leaks only if most batches agree (median t shown, and
the min…max over batches).

Targets:
${Object.values(TIMING_TARGETS).map((t) => `  ${t.name.padEnd(21)} ${t.summary}`).join("\n")}`,
  flags: TIMING_FLAGS,
  exit: {
    ok: "the verdicts are as expected (a leak for vulnerableEqual and dsa-sign-unprotected, none for " +
      "constantTimeEqual, dsa-sign and ed25519-sign; rsa-unwrap is reported only)",
    failure: "the verdicts are not as expected",
  },
  async run(flags, io) {
    const { options, json, values } = timingOptions(flags);
    const log = openLogFromFlags(values, "timing");
    try {
      const started = performance.now();
      const report = await runTiming(options, {
        log,
        signal: io.signal,
        progress: io.isTerminal ? (line) => io.err(line) : undefined,
      });
      io.err(
        `timing: ${report.results.length} target(s)${report.recovery.length > 0 ? " and recovery" : ""} in ${
          ((performance.now() - started) / 1000).toFixed(1)
        } s`,
      );
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
});
