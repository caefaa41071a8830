/**
 * The end-to-end bench engine: sensor → broker → actuator, in one process over real TCP, insecure and secure
 * (DSA and Ed25519 suites, key epochs of 1 and 100 messages), on the embedded broker and on a real Mosquitto.
 * `bench/e2e.ts` is its command line (it prints the figures); `tests/e2e_bench_test.ts` runs it small.
 *
 * Every home run measures two things side by side on the same fresh home:
 * - latency: the actuator's `action.latency_ms` (sensor timestamp → action; the timestamp is taken before
 *   sealing and the action after every check and the durable counter write, so the whole secure path counts)
 *   while the sensor publishes every `--interval-ms`. The reading's timestamp is whole milliseconds, so each
 *   sample carries up to ±0.5 ms of rounding: unbiased over many samples, but sub-millisecond p50s and
 *   their ratios are coarse;
 * - throughput: messages acted on per second while the sensor publishes back to back, from the first
 *   publish to the last action, so the actuator's verification and replay-database write count.
 *
 * Each (broker, config) pair runs `--rounds` times with `--messages / --rounds` messages per measurement,
 * in forward order on even rounds and reverse order on odd ones, so slow drift and bursts of noise on a
 * shared machine land on every configuration alike. Absolute figures move from run to run; the ratios
 * secure/insecure on the same broker are the comparable figure. `--json FILE` writes the table as a
 * BenchTable for `secmqtt metrics --bench FILE`.
 *
 * Each secure configuration runs in two variants in the same run (`pipeline: "both"`): `sequential`, the
 * sensor wrapping each epoch's key inside the seal and the actuator recording the counter after decrypting,
 * and `pipelined`, the key made ahead of use and the counter recorded while decrypting. A second table, the
 * timeline, gives the p50 of every stage of the paced messages (the sensor's `published.stages`, the
 * actuator's `action.stages`), so the stages that left the critical path can be seen beside the latency.
 * @module
 */

import { systemClock } from "../core/clock.ts";
import { type DsaDomain, generateDomain } from "../crypto/dsa.ts";
import { type Suite, SUITE_DSA, SUITE_ED25519 } from "../crypto/envelope.ts";
import { Log, type LogRecord, memoryLogWriter } from "../log/jsonl.ts";
import type { BenchTable } from "../metrics/report.ts";
import { percentileOfSorted, sortedCopy } from "../metrics/stats.ts";
import {
  type HomeBroker,
  type RunningHome,
  settle,
  startInsecureHome,
  startSecureHome,
} from "../roles/home.ts";
import { createHome } from "../roles/keygen.ts";
import { homePaths } from "../store/home.ts";
import { findMosquitto, secureMosquittoConfig, startMosquitto, type TestBroker } from "./brokers.ts";

/** A broker the bench runs homes on. */
export type E2eBrokerKind = "embedded" | "mosquitto";

/** One configuration of the home; a secure one is `pipelined` (key prefetch and overlapped commit) or not. */
export type E2eConfig =
  | { name: string; secure: false }
  | { name: string; secure: true; suite: Suite; epochLength: number; pipelined: boolean };

/** Which variants of the secure configurations to bench: the old sequence, the pipelined one, or both. */
export type E2ePipeline = "off" | "on" | "both";
/** The values of {@link E2ePipeline}. */
export const E2E_PIPELINES: readonly E2ePipeline[] = ["off", "on", "both"];

const SECURE_SETUPS: readonly { label: string; suite: Suite; epochLength: number }[] = [
  { label: "secure DSA, epoch 1", suite: SUITE_DSA, epochLength: 1 },
  { label: "secure DSA, epoch 100", suite: SUITE_DSA, epochLength: 100 },
  { label: "secure Ed25519, epoch 1", suite: SUITE_ED25519, epochLength: 1 },
  { label: "secure Ed25519, epoch 100", suite: SUITE_ED25519, epochLength: 100 },
];

/**
 * The configurations benched for a {@link E2ePipeline} choice: insecure first (the baseline of the ratios),
 * then each secure one, its `sequential` variant before its `pipelined` one.
 * @example
 * ```ts
 * e2eConfigs("both").map((c) => c.name); // ["insecure", "secure DSA, epoch 1, sequential", "secure DSA, epoch 1, pipelined", …]
 * ```
 */
export function e2eConfigs(pipeline: E2ePipeline): E2eConfig[] {
  const variants = pipeline === "both" ? [false, true] : [pipeline === "on"];
  return [
    { name: "insecure", secure: false },
    ...SECURE_SETUPS.flatMap((setup) =>
      variants.map((pipelined): E2eConfig => ({
        name: `${setup.label}, ${pipelined ? "pipelined" : "sequential"}`,
        secure: true,
        suite: setup.suite,
        epochLength: setup.epochLength,
        pipelined,
      }))
    ),
  ];
}

/** The configurations benched by default (`pipeline: "both"`). */
export const E2E_CONFIGS: readonly E2eConfig[] = e2eConfigs("both");

/** Default messages per configuration and per measurement. */
export const DEFAULT_MESSAGES = 300;
/** Default pause between messages while latency is measured. */
export const DEFAULT_INTERVAL_MS = 20;
/** Default number of interleaved rounds the messages are split over (even: forward and reverse balance). */
export const DEFAULT_ROUNDS = 4;
/** Messages sent and discarded at the start of every home run, so connection setup and JIT are not timed. */
export const WARMUP_MESSAGES = 10;

const SENSOR_ID = "door-sensor-1";
const ACTUATOR_ID = "door-actuator";

/** What {@link runE2eBench} runs. */
export interface E2eBenchOptions {
  /** Messages per configuration for each of latency and throughput (default 300), split over the rounds. */
  messages?: number;
  /** Pause between messages while latency is measured (default 20; 0 = latency under a back-to-back load). */
  intervalMs?: number;
  /** Brokers (default: embedded, and mosquitto when installed). */
  brokers?: E2eBrokerKind[];
  /** Interleaved rounds (default {@link DEFAULT_ROUNDS}). */
  rounds?: number;
  /** Warm-up messages per home run (default {@link WARMUP_MESSAGES}). */
  warmupMessages?: number;
  /** DSA domain for the DSA homes (default: one generated for the run). */
  dsaDomain?: DsaDomain;
  /** Secure variants to bench (default "both": sequential and pipelined side by side). */
  pipeline?: E2ePipeline;
  /** Called with one line per finished home run. */
  onProgress?: (line: string) => void;
}

/** One row of the result, typed. */
export interface E2eRow {
  broker: E2eBrokerKind;
  config: string;
  /** Median of `action.latency_ms` over the paced messages. */
  p50Ms: number;
  /** 95th percentile of `action.latency_ms` over the paced messages. */
  p95Ms: number;
  /** Messages acted on per second, back to back. */
  msgsPerS: number;
  /** p50 / p50 of insecure on the same broker. */
  p50Ratio: number;
  /** p50 − p50 of insecure on the same broker: what the secure path adds, ms. */
  p50OverheadMs: number;
  /** msgs/s / msgs/s of insecure on the same broker. */
  msgsPerSRatio: number;
  /** Measured messages sent (paced + back to back, warm-up excluded). */
  sent: number;
  /** Measured messages acted on. */
  acted: number;
}

/** One row of the timeline: the p50 of each stage of the paced messages of one secure configuration. */
export interface E2eTimelineRow {
  broker: E2eBrokerKind;
  config: string;
  /** Stage name (`published.stages` of the sensor prefixed `sensor.`, `action.stages` prefixed `actuator.`) → p50 ms. */
  stagesP50Ms: Record<string, number>;
  /** p50 latency (as in {@link E2eRow}). */
  p50Ms: number;
  /** p50 − p50 of insecure on the same broker. */
  p50OverheadMs: number;
}

/** What {@link runE2eBench} returns: the table for the report, the timeline, and the same rows typed. */
export interface E2eBenchResult {
  table: BenchTable;
  rows: E2eRow[];
  /** Per-stage p50s of the secure configurations. */
  timeline: BenchTable;
  timelineRows: E2eTimelineRow[];
}

interface PhaseResult {
  sent: number;
  latenciesMs: number[];
  elapsedMs: number;
  /** Stage → the values the phase's `published` (sensor) and `action` (actuator) records gave it. */
  stagesMs: Map<string, number[]>;
}

interface Tally {
  sent: number;
  acted: number;
  latenciesMs: number[];
  burstActed: number;
  burstMs: number;
  stagesMs: Map<string, number[]>;
}

/**
 * Runs the bench and returns the table (broker, config, p50/p95 latency, msgs/s, ratios vs insecure).
 * Starts and stops every broker, process and temp dir it uses.
 * @example
 * ```ts
 * const { table } = await runE2eBench({ messages: 20, brokers: ["embedded"] });
 * console.log(e2eMarkdown(table));
 * ```
 */
export async function runE2eBench(options: E2eBenchOptions = {}): Promise<E2eBenchResult> {
  const messages = options.messages ?? DEFAULT_MESSAGES;
  const intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS;
  const rounds = options.rounds ?? DEFAULT_ROUNDS;
  const warmup = options.warmupMessages ?? WARMUP_MESSAGES;
  const brokers = options.brokers ?? (findMosquitto() ? ["embedded", "mosquitto"] : ["embedded"]);
  const configs = e2eConfigs(options.pipeline ?? "both");
  if (!(Number.isInteger(messages) && messages >= rounds && rounds >= 1)) {
    throw new RangeError(
      `messages must be an integer ≥ rounds ≥ 1, got ${messages} messages, ${rounds} rounds`,
    );
  }
  if (!(intervalMs >= 0)) throw new RangeError(`intervalMs must be ≥ 0, got ${intervalMs}`);
  if (brokers.includes("mosquitto") && !findMosquitto()) throw new Error("mosquitto is not installed");

  const workDir = await Deno.makeTempDir({ prefix: "secmqtt-e2e-" });
  try {
    // Keys are made once per suite: keygen is not what is measured. Each run gets a fresh replay database.
    const dsaDomain = options.dsaDomain ?? await generateDomain("2048-256");
    const keysDirs = new Map<Suite, string>();
    const suites: [Suite, string][] = [[SUITE_DSA, "dsa"], [SUITE_ED25519, "ed25519"]];
    for (const [suite, name] of suites) {
      const outDir = `${workDir}/home-${name}`;
      await createHome({
        outDir,
        sensors: [SENSOR_ID],
        actuatorId: ACTUATOR_ID,
        suite,
        force: true,
        dsaDomain,
      });
      keysDirs.set(suite, outDir);
    }

    const pairs = brokers.flatMap((broker) => configs.map((config) => ({ broker, config })));
    const tallies = new Map<(typeof pairs)[number], Tally>(
      pairs.map((
        p,
      ) => [p, { sent: 0, acted: 0, latenciesMs: [], burstActed: 0, burstMs: 0, stagesMs: new Map() }]),
    );
    let runNumber = 0;
    for (let round = 0; round < rounds; round++) {
      // n split as evenly as the rounds allow.
      const n = Math.floor(messages / rounds) + (round < messages % rounds ? 1 : 0);
      const order = round % 2 === 0 ? pairs : [...pairs].reverse();
      for (const pair of order) {
        const tally = tallies.get(pair) as Tally;
        const replayDb = `${workDir}/replay-${runNumber++}.db`;
        const keysDir = pair.config.secure ? keysDirs.get(pair.config.suite) : undefined;
        await withHome(pair.broker, pair.config, keysDir, replayDb, async (home, records) => {
          await runPhase(home, records, warmup, 0);
          const paced = await runPhase(home, records, n, intervalMs);
          const burst = await runPhase(home, records, n, 0);
          tally.sent += paced.sent + burst.sent;
          tally.acted += paced.latenciesMs.length + burst.latenciesMs.length;
          tally.latenciesMs.push(...paced.latenciesMs);
          for (const [stage, values] of paced.stagesMs) {
            tally.stagesMs.set(stage, (tally.stagesMs.get(stage) ?? []).concat(values));
          }
          tally.burstActed += burst.latenciesMs.length;
          tally.burstMs += burst.elapsedMs;
        });
        options.onProgress?.(
          `round ${round + 1}/${rounds}  ${pair.broker.padEnd(9)}  ${pair.config.name.padEnd(38)}  ` +
            `${tally.acted}/${tally.sent} acted`,
        );
      }
    }

    const rows: E2eRow[] = [];
    const timelineRows: E2eTimelineRow[] = [];
    for (const broker of brokers) {
      const baseline = summarizeTally(tallies.get(pairs.find((p) => p.broker === broker)!) as Tally);
      for (const pair of pairs.filter((p) => p.broker === broker)) {
        const tally = tallies.get(pair) as Tally;
        const s = summarizeTally(tally);
        rows.push({
          broker,
          config: pair.config.name,
          p50Ms: s.p50Ms,
          p95Ms: s.p95Ms,
          msgsPerS: s.msgsPerS,
          p50Ratio: s.p50Ms / baseline.p50Ms,
          p50OverheadMs: s.p50Ms - baseline.p50Ms,
          msgsPerSRatio: s.msgsPerS / baseline.msgsPerS,
          sent: tally.sent,
          acted: tally.acted,
        });
        if (pair.config.secure) {
          const stagesP50Ms: Record<string, number> = {};
          for (const [stage, values] of tally.stagesMs) {
            stagesP50Ms[stage] = percentileOfSorted(sortedCopy(values), 50);
          }
          timelineRows.push({
            broker,
            config: pair.config.name,
            stagesP50Ms,
            p50Ms: s.p50Ms,
            p50OverheadMs: s.p50Ms - baseline.p50Ms,
          });
        }
      }
    }
    return {
      table: e2eTable(rows, { messages, intervalMs, rounds }),
      rows,
      timeline: e2eTimelineTable(timelineRows),
      timelineRows,
    };
  } finally {
    await Deno.remove(workDir, { recursive: true }).catch(() => {});
  }
}

/** The timeline's stages, in running order: the sensor's, then the actuator's. */
export const E2E_TIMELINE_STAGES = [
  "sensor.wrap_ms",
  "sensor.encrypt_ms",
  "sensor.sign_ms",
  "sensor.seal_ms",
  "actuator.parse_ms",
  "actuator.verify_ms",
  "actuator.replay_ms",
  "actuator.unwrap_ms",
  "actuator.decrypt_ms",
  "actuator.commit_ms",
  "actuator.total_ms",
] as const;

function e2eTimelineTable(rows: E2eTimelineRow[]): BenchTable {
  const fixed = (value: number | undefined) =>
    value !== undefined && Number.isFinite(value) ? Number(value.toFixed(3)) : null;
  return {
    title: "Per-stage timeline of the paced secure messages, p50 ms per stage (sensor: seal = wrap + " +
      "encrypt + sign + framing; actuator: total = parse … commit, less what ran side by side when " +
      "pipelined); e2e p50 and its overhead over insecure on the same broker",
    columns: [
      "broker",
      "config",
      ...E2E_TIMELINE_STAGES.map((s) => s.replace(/_ms$/, "")),
      "e2e p50 ms",
      "p50 overhead ms",
    ],
    rows: rows.map((r) => [
      r.broker,
      r.config,
      ...E2E_TIMELINE_STAGES.map((s) => fixed(r.stagesP50Ms[s])),
      fixed(r.p50Ms),
      fixed(r.p50OverheadMs),
    ]),
  };
}

function summarizeTally(tally: Tally): { p50Ms: number; p95Ms: number; msgsPerS: number } {
  const sorted = sortedCopy(tally.latenciesMs);
  return {
    p50Ms: percentileOfSorted(sorted, 50),
    p95Ms: percentileOfSorted(sorted, 95),
    msgsPerS: tally.burstMs > 0 ? tally.burstActed / (tally.burstMs / 1000) : NaN,
  };
}

/** Starts a broker (Mosquitto as its own process) and a home on it, runs `body`, and stops both. */
async function withHome(
  brokerKind: E2eBrokerKind,
  config: E2eConfig,
  keysDir: string | undefined,
  replayDb: string,
  body: (home: RunningHome, records: LogRecord[]) => Promise<void>,
): Promise<void> {
  const writer = memoryLogWriter();
  const log = new Log(writer, { role: "bench", run: "e2e", clock: systemClock });
  let mosquitto: TestBroker | undefined;
  if (brokerKind === "mosquitto") {
    const paths = keysDir ? homePaths(keysDir) : undefined;
    mosquitto = await startMosquitto(
      paths ? secureMosquittoConfig(paths.passwd, paths.acl) : ["allow_anonymous true"],
    );
  }
  try {
    const broker: HomeBroker = mosquitto ? { kind: "external", url: mosquitto.url } : { kind: "embedded" };
    const home = config.secure
      ? await startSecureHome(
        broker,
        { keysDir: keysDir!, sensorId: SENSOR_ID, actuatorId: ACTUATOR_ID, replayDb, initState: true },
        log,
        systemClock,
        { epochLength: config.epochLength, prefetchKeys: config.pipelined, overlapCommit: config.pipelined },
      )
      : await startInsecureHome(broker, log, systemClock);
    try {
      await body(home, writer.records);
    } finally {
      await home.close();
    }
  } finally {
    await mosquitto?.close();
  }
}

/**
 * Sends `count` messages at `intervalMs`, waits until the actuator has handled them, and returns the
 * latencies of the ones acted on and the time from the first publish to the last action.
 */
async function runPhase(
  home: RunningHome,
  records: LogRecord[],
  count: number,
  intervalMs: number,
): Promise<PhaseResult> {
  const mark = records.length;
  const target = home.actuator.stats.received + count;
  const startMs = systemClock.now();
  const { sent } = await home.runSensor(count, intervalMs);
  // Generous: a lost message costs this wait once and shows as acted < sent, never as a hang.
  await settle(home.actuator, target, 10_000 + count * (intervalMs + 50), systemClock);
  const phase = records.slice(mark);
  const actions = phase.filter((r) => r.role === "actuator" && r.event === "action");
  const lastMs = actions.length > 0 ? actions[actions.length - 1].ts : startMs;
  const stagesMs = new Map<string, number[]>();
  for (const r of phase) {
    const side = r.role === "sensor" && r.event === "published"
      ? "sensor"
      : r.role === "actuator" && r.event === "action"
      ? "actuator"
      : undefined;
    if (side === undefined || typeof r.stages !== "object" || r.stages === null) continue;
    for (const [stage, value] of Object.entries(r.stages)) {
      if (typeof value !== "number" || !Number.isFinite(value)) continue;
      const key = `${side}.${stage}`;
      const values = stagesMs.get(key) ?? [];
      values.push(value);
      stagesMs.set(key, values);
    }
  }
  return {
    sent,
    latenciesMs: actions.map((r) => r.latency_ms as number),
    elapsedMs: lastMs - startMs,
    stagesMs,
  };
}

/** Column names of the table, in order. */
export const E2E_COLUMNS = [
  "broker",
  "config",
  "p50 ms",
  "p95 ms",
  "msgs/s",
  "p50 ratio vs insecure",
  "p50 overhead ms",
  "msgs/s ratio vs insecure",
  "acted/sent",
] as const;

function e2eTable(
  rows: E2eRow[],
  run: { messages: number; intervalMs: number; rounds: number },
): BenchTable {
  const fixed = (value: number, digits: number) =>
    Number.isFinite(value) ? Number(value.toFixed(digits)) : null;
  return {
    title: `End-to-end sensor → broker → actuator: ${run.messages} msgs/config, latency paced at ` +
      `${run.intervalMs} ms, msgs/s back to back, ${run.rounds} interleaved round(s); ratios = secure / insecure`,
    columns: [...E2E_COLUMNS],
    rows: rows.map((r) => [
      r.broker,
      r.config,
      fixed(r.p50Ms, 2),
      fixed(r.p95Ms, 2),
      fixed(r.msgsPerS, 0),
      fixed(r.p50Ratio, 2),
      fixed(r.p50OverheadMs, 2),
      fixed(r.msgsPerSRatio, 2),
      `${r.acted}/${r.sent}`,
    ]),
  };
}

/**
 * The table as Markdown, numbers right-aligned.
 * @example
 * ```ts
 * e2eMarkdown({ columns: ["a", "b"], rows: [["x", 1]] }); // "| a | b |\n| --- | ---: |\n| x | 1 |"
 * ```
 */
export function e2eMarkdown(table: BenchTable): string {
  const numeric = table.columns.map((_, i) =>
    table.rows.length > 0 && table.rows.every((r) => typeof r[i] === "number")
  );
  const cell = (c: string | number | boolean | null) => (c === null ? "—" : String(c).replace(/\|/g, "\\|"));
  return [
    `| ${table.columns.map(cell).join(" | ")} |`,
    `| ${numeric.map((n) => (n ? "---:" : "---")).join(" | ")} |`,
    ...table.rows.map((row) => `| ${row.map(cell).join(" | ")} |`),
  ].join("\n");
}
