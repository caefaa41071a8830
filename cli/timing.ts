/**
 * `secmqtt timing`: the timing-attack demonstration (flags → options → roles/timing.ts → printed verdicts).
 * @module
 */

import { defineCommand } from "./command.ts";
import { LOG_FLAGS, openLogFromFlags } from "./common.ts";
import { flag, type FlagValues, parseFlags } from "./flags.ts";
import {
  CROP_PERCENTILE,
  DEFAULT_RECOVERY_BUDGET,
  DEFAULT_SAMPLES_PER_CLASS,
  DEFAULT_T_THRESHOLD,
  DETECTION_SECRET_BYTES,
  RECOVERY_SECRET_BYTES,
  runTiming,
  type TimingDeps,
  type TimingOptions,
  type TimingReport,
} from "../roles/timing.ts";

export { runTiming };
export type { TimingDeps, TimingOptions, TimingReport };

/** Share of the slowest measurements the t-test leaves out, %. */
const CROPPED_PERCENT = 100 - CROP_PERCENTILE;

/** The `timing` subcommand's flags. */
export const TIMING_FLAGS = {
  samples: flag.int({
    min: 100,
    max: 10_000_000,
    default: DEFAULT_SAMPLES_PER_CLASS,
    help: "measurements per class; more is slower and more sensitive",
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
  const options: TimingOptions = {
    samples: values.samples,
    threshold: values.threshold,
    recover: values.recover,
    recoveryBudget: values.budget,
  };
  return { options, json: values.json, values };
}

/**
 * The report as printable lines: one per function (t, n, verdict), then one per recovery.
 * @example
 * ```ts
 * formatTimingReport(report).forEach((line) => io.out(line));
 * ```
 */
export function formatTimingReport(report: TimingReport): string[] {
  const lines = ["function            t         n  calls/meas  verdict"];
  for (const r of report.results) {
    lines.push(
      `${r.function.padEnd(18)} ${r.t.toFixed(2).padStart(8)} ${String(r.n).padStart(9)} ${
        String(r.calls_per_measurement).padStart(11)
      }  ${r.leak ? `LEAK (|t| > ${r.threshold})` : `no leak (|t| ≤ ${r.threshold})`}`,
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
export const timingCommand = defineCommand({
  name: "timing",
  summary: "demonstrate the timing leak of an early-exit compare (dudect t-test, byte recovery)",
  description: `Shows that an early-exit comparison leaks through its running time. Times vulnerableEqual
(returns at the first differing byte) and constantTimeEqual against a random ${DETECTION_SECRET_BYTES}-byte
secret with two classes of wrong guesses — the secret with only its last byte changed, and a random
guess — interleaved at random, many calls per measurement. After cropping the slowest ${CROPPED_PERCENT} % it
runs Welch's t-test (dudect): |t| above the threshold means the time depends on the secret.`,
  flags: TIMING_FLAGS,
  exit: {
    ok: "the verdicts are as expected (a leak for vulnerableEqual, none for constantTimeEqual)",
    failure: "the verdicts are not as expected",
  },
  async run(flags, io) {
    const { options, json, values } = timingOptions(flags);
    const log = openLogFromFlags(values, "timing");
    try {
      const report = await runTiming(options, { log, signal: io.signal });
      if (json) io.out(JSON.stringify(report, null, 2));
      else formatTimingReport(report).forEach((line) => io.out(line));
      const expected = report.results.every((r) =>
        r.function === "vulnerableEqual" ? r.leak : r.function === "constantTimeEqual" ? !r.leak : true
      );
      return expected ? 0 : 1;
    } finally {
      log.close();
    }
  },
});
