/**
 * `deno run -A bench/flood.ts`: legit PUBACK-to-action latency (p50/p95/p99) of the real sensor's events,
 * calm and under each flood of issue 12, on real Mosquitto (keygen's files) and on the embedded secure
 * broker. The scenarios are testkit/flood.ts's, the ones tests/integration/flood_test.ts checks for
 * correctness; here only the figures are printed, as a Markdown table.
 *
 *   deno run -A bench/flood.ts [--brokers mosquitto,embedded] [--floods none,forged,trusted]
 *                              [--forged N] [--trusted N] [--legit N]
 *
 * Figures move with whatever else the machine runs; compare calm and flood on the same run.
 * @module
 */

import { parseArgs } from "node:util";
import { summarize } from "../metrics/stats.ts";
import {
  DEFAULT_FORGED_MESSAGES,
  DEFAULT_TRUSTED_MESSAGES,
  FLOOD_ACCOUNT,
  type FloodRunOptions,
  refusalsByCode,
  runFloodScenario,
} from "../testkit/flood.ts";

const HELP = `deno run -A bench/flood.ts — legit latency calm and under flood, both brokers

  --brokers LIST   mosquitto,embedded (default both)
  --floods LIST    none,forged,trusted (default all three)
  --forged N       forged messages streamed (default ${DEFAULT_FORGED_MESSAGES})
  --trusted N      valid envelopes the compromised sensor sends (default ${DEFAULT_TRUSTED_MESSAGES})
  --legit N        real events per run, 100 ms apart (default 20)`;

const FLOOD_TEXT: Record<FloodRunOptions["flood"], string> = {
  none: "calm",
  forged: "forged flood (one account, QoS 0)",
  trusted: "compromised trusted sensor",
};

const { values } = parseArgs({
  options: {
    brokers: { type: "string", default: "mosquitto,embedded" },
    floods: { type: "string", default: "none,forged,trusted" },
    forged: { type: "string", default: String(DEFAULT_FORGED_MESSAGES) },
    trusted: { type: "string", default: String(DEFAULT_TRUSTED_MESSAGES) },
    legit: { type: "string", default: "20" },
    help: { type: "boolean", default: false },
  },
});
if (values.help) {
  console.log(HELP);
  Deno.exit(0);
}
const brokers = values.brokers.split(",") as FloodRunOptions["broker"][];
const floods = values.floods.split(",") as FloodRunOptions["flood"][];
for (const b of brokers) {
  if (b !== "mosquitto" && b !== "embedded") fail(`--brokers: unknown broker '${b}' (mosquitto, embedded)`);
}
for (const f of floods) {
  if (!(f in FLOOD_TEXT)) fail(`--floods: unknown flood '${f}' (none, forged, trusted)`);
}
const count = (name: string, text: string) => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) fail(`--${name} must be a whole number ≥ 1, got '${text}'`);
  return n;
};
const forged = count("forged", values.forged);
const trusted = count("trusted", values.trusted);
const legit = count("legit", values.legit);

const rows: string[] = [];
for (const broker of brokers) {
  for (const flood of floods) {
    const run = await runFloodScenario({
      broker,
      flood,
      legitMessages: legit,
      floodMessages: flood === "forged" ? forged : trusted,
    });
    const s = summarize(run.latenciesMs);
    const legitDigests = new Set(run.legitPublished.map((p) => p.digest));
    const acted = run.actuator.filter((r) => r.event === "action" && legitDigests.has(r.digest)).length;
    const codes = refusalsByCode(run.actuator);
    const alerts = run.actuator.filter((r) => r.event === "alert" && r.account === FLOOD_ACCOUNT).length;
    const brokerDropped = run.broker.filter((r) =>
      r.event === "role_stopped"
    ).map((r) => (r.rate_limited as Record<string, number> | undefined)?.[FLOOD_ACCOUNT] ?? 0)[0];
    rows.push(
      `| ${broker} | ${FLOOD_TEXT[flood]} | ${
        flood === "none" ? 0 : run.floodSent
      } | ${acted}/${run.legitPublished.length} | ` +
        `${fmt(s.p50)} | ${fmt(s.p95)} | ${fmt(s.p99)} | ${alerts} | ${
          Object.entries(codes).map(([c, n]) =>
            `${c} ${n}`
          ).join(", ") || "—"
        } | ${brokerDropped ?? (run.mosquittoDropped ? "Mosquitto dropped" : "—")} |`,
    );
    console.error(rows.at(-1));
  }
}
console.log(
  [
    "| broker | flood | flood msgs | legit acted on | p50 ms | p95 ms | p99 ms | alerts naming the flooder | actuator rejections | broker rate-limited |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ...rows,
  ].join("\n"),
);

function fmt(ms: number): string {
  return Number.isFinite(ms) ? ms.toFixed(1) : "—";
}

function fail(message: string): never {
  console.error(message);
  Deno.exit(2);
}
