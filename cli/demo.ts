/**
 * `secmqtt demo`: the README's main command — all three phases on the embedded broker, then the report.
 * @module
 */

import { systemClock } from "../core/clock.ts";
import { DEMO_SCALES, runDemo } from "../roles/demo.ts";
import { type Command, parseFlags, UsageError } from "./common.ts";

const HELP = `Usage: secmqtt demo [--out DIR] [--quick | --full]

Runs the whole story on the embedded broker, over real TCP, in about half a minute:
  Phase I   a plaintext sensor, a trusting actuator and an attacker that eavesdrops, injects, replays
            and tampers — every attack succeeds, as the actuator's own log shows;
  Phase II  keygen, then the signed and encrypted envelope on a broker with passwords and ACL — every
            attack class (14 of them, 75 attempts each) fails with a reason code, legit traffic flows;
  Timing    an early-exit compare leaks (Welch's t-test), a constant-time one does not;
  Metrics   the logs become metrics.json, summary.md and a self-contained report.html with charts.

  --out DIR    where logs and the report go (default out/)
  --quick      a smaller run (a few seconds)
  --full       a larger run (minutes)`;

/** The `demo` subcommand. */
export const demoCommand: Command = {
  name: "demo",
  summary: "run all three phases on the embedded broker and write the report (start here)",
  help: HELP,
  async run(argv, io) {
    const flags = parseFlags(argv, {
      out: { type: "string" },
      quick: { type: "boolean" },
      full: { type: "boolean" },
    });
    if (flags.help) {
      io.out(HELP);
      return 0;
    }
    if (flags.values.quick && flags.values.full) throw new UsageError("give --quick or --full, not both");
    const scale = DEMO_SCALES[flags.values.quick ? "quick" : flags.values.full ? "full" : "default"];
    const outDir = (flags.values.out as string | undefined) ?? "out";
    const started = performance.now();
    const result = await runDemo(
      {
        outDir,
        scale,
        progress: (line) =>
          io.err(`[${((performance.now() - started) / 1000).toFixed(1).padStart(5)} s] ${line}`),
      },
      { clock: systemClock, signal: io.signal },
    );
    io.out(result.summary);
    io.out(`Logs:   ${result.logs.join(", ")}`);
    io.out(
      `Report: ${result.reportPaths.html}  (also ${result.reportPaths.json}, ${result.reportPaths.summary})`,
    );
    io.err(`done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return 0;
  },
};
