/**
 * `deno run -A bench/e2e.ts`: end-to-end latency and throughput, insecure vs secure, on the embedded broker
 * and on a real Mosquitto. The measurement is `runE2eBench` (testkit/e2e.ts); this script parses the flags
 * and prints the table.
 *
 *   deno run -A bench/e2e.ts [--messages 300] [--interval-ms 20] [--brokers embedded,mosquitto]
 *                            [--rounds 2] [--pipeline off|on|both] [--json FILE] [--quick]
 *
 * Absolute figures move from run to run; the ratios and overheads secure vs insecure on the same broker are
 * the comparable figures. `--pipeline both` (the default) runs every secure configuration sequential (key
 * wrapped inside the seal, counter recorded after decryption) and pipelined (key made ahead of use, counter
 * recorded while decrypting) in the same run, and prints a per-stage timeline of both. `--json FILE` writes
 * the table as a BenchTable for `secmqtt metrics --bench FILE`.
 * @module
 */

import { parseArgs } from "node:util";
import {
  DEFAULT_INTERVAL_MS,
  DEFAULT_MESSAGES,
  DEFAULT_ROUNDS,
  E2E_PIPELINES,
  type E2eBrokerKind,
  e2eMarkdown,
  type E2ePipeline,
  runE2eBench,
} from "../testkit/e2e.ts";

/** `--quick`: messages per configuration. */
const QUICK_MESSAGES = 60;
/** `--quick`: rounds. */
const QUICK_ROUNDS = 2;

const HELP = `deno run -A bench/e2e.ts — end-to-end latency and throughput, insecure vs secure

Options:
  --messages N       messages per config for latency and again for throughput (default ${DEFAULT_MESSAGES})
  --interval-ms MS   pause between messages while latency is measured (default ${DEFAULT_INTERVAL_MS}; 0 = back to back)
  --brokers LIST     comma-separated: embedded,mosquitto (default: both when mosquitto is installed)
  --rounds R         interleaved rounds the messages are split over (default ${DEFAULT_ROUNDS})
  --pipeline MODE    secure variants: off (sequential), on (pipelined), both side by side (default both)
  --json FILE        also write the table as a BenchTable (for secmqtt metrics --bench FILE)
  --quick            ${QUICK_MESSAGES} messages per config over ${QUICK_ROUNDS} rounds, for a check in under 30 s
`;

const NOTE = "Timing on a shared machine is noisy: compare the ratios (same broker, same run), not the " +
  "absolute figures. Latency samples carry up to ±0.5 ms of rounding from the whole-ms reading timestamp.";

async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      messages: { type: "string" },
      "interval-ms": { type: "string" },
      brokers: { type: "string" },
      rounds: { type: "string" },
      pipeline: { type: "string", default: "both" },
      json: { type: "string" },
      quick: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const integer = (flag: string, text: string | undefined, fallback: number) => {
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!Number.isInteger(value) || value < 0) {
      throw new RangeError(`--${flag} expects an integer ≥ 0, got ${text}`);
    }
    return value;
  };
  const brokers = values.brokers?.split(",").map((b) => b.trim()).filter((b) => b !== "");
  for (const b of brokers ?? []) {
    if (b !== "embedded" && b !== "mosquitto") {
      throw new RangeError(`--brokers expects embedded and/or mosquitto, got ${b}`);
    }
  }
  const pipeline = values.pipeline as E2ePipeline;
  if (!E2E_PIPELINES.includes(pipeline)) {
    throw new RangeError(`--pipeline expects ${E2E_PIPELINES.join(", ")}, got ${values.pipeline}`);
  }
  const started = performance.now();
  const loadBefore = Deno.loadavg()[0];
  const { table, timeline } = await runE2eBench({
    messages: integer("messages", values.messages, values.quick ? QUICK_MESSAGES : DEFAULT_MESSAGES),
    intervalMs: integer("interval-ms", values["interval-ms"], DEFAULT_INTERVAL_MS),
    rounds: integer("rounds", values.rounds, values.quick ? QUICK_ROUNDS : DEFAULT_ROUNDS),
    brokers: brokers as E2eBrokerKind[] | undefined,
    pipeline,
    onProgress: (line) => console.error(line),
  });
  console.log(
    `${table.title}\n\n${e2eMarkdown(table)}\n\n${timeline.title}\n\n${e2eMarkdown(timeline)}\n\n${NOTE}`,
  );
  // Other work on the machine inflates every figure; the load average says how much there was.
  console.error(
    `(${((performance.now() - started) / 1000).toFixed(1)} s; 1-min load average ` +
      `${loadBefore.toFixed(2)} before, ${
        Deno.loadavg()[0].toFixed(2)
      } after, on ${navigator.hardwareConcurrency} cores)`,
  );
  if (values.json) {
    await Deno.writeTextFile(values.json, JSON.stringify(table, null, 2) + "\n");
    console.error(`wrote ${values.json}`);
  }
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exitCode = await main(Deno.args);
  } catch (error) {
    console.error(`e2e bench: ${error instanceof Error ? error.message : error}`);
    Deno.exitCode = 1;
  }
}
