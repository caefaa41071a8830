/**
 * `secmqtt load`: N secure sensors in this process against one secure actuator in a child process
 * (`secmqtt actuator --secure`), through the embedded broker or an external one, and a table of what
 * the actuator managed: accepted/s, latency percentiles, rejects by code, its peak RSS and CPU time.
 * @module
 */

import { pathExists } from "../core/paths.ts";
import { loadBrokerPolicy } from "../auth/policy.ts";
import { systemClock } from "../core/clock.ts";
import { type LogRecord, newRunId, parseLogLine } from "../log/jsonl.ts";
import { createHome, SUITE_BY_NAME } from "../roles/keygen.ts";
import {
  DEFAULT_DRAIN_TIMEOUT_MS,
  DEFAULT_MAX_IN_FLIGHT,
  type LoadSummary,
  type ObservedActuator,
  runLoad,
} from "../roles/load.ts";
import { DEFAULT_ACTUATOR_ID, homePaths } from "../store/home.ts";
import { loadTrustList, lookup } from "../store/trust.ts";
import { startBroker } from "../transport/broker.ts";
import { readHomeCa } from "../store/tls.ts";
import { EPOCH_MAX_MESSAGES } from "../crypto/envelope.ts";
import { DEFAULT_BATCH_DELAY_MS } from "../roles/commit_batcher.ts";
import {
  VERIFY_BASELINE_ROUNDS,
  VERIFY_SAMPLE_EVERY_MS,
  VERIFY_SAMPLE_ROUNDS,
  VerifyYardstick,
} from "../roles/verify_baseline.ts";
import { defineCommand } from "./command.ts";
import { openLogFromFlags } from "./common.ts";
import { flag, UsageError } from "./flags.ts";
import { SUITE_NAMES } from "./keygen.ts";
import { RuntimeFailure } from "./runtime.ts";

/** Default group-commit delay of the actuator under load, ms. */
export const DEFAULT_LOAD_BATCH_MS = DEFAULT_BATCH_DELAY_MS;
/** Simulated sensors when --sensors is not given. */
export const DEFAULT_LOAD_SENSORS = 1000;
/** How long the load sends when neither --duration-s nor --messages is given, s. */
export const DEFAULT_LOAD_DURATION_S = 60;
/** Messages per key epoch when --epoch is not given. */
export const DEFAULT_LOAD_EPOCH = 100;
/** Sensors are named sensor-0001 …: four digits. */
const MAX_LOAD_SENSORS = 9999;
/** How long the actuator child may take to subscribe, ms. */
const ACTUATOR_START_TIMEOUT_MS = 30_000;

/** The `load` subcommand's flags. */
export const LOAD_FLAGS = {
  sensors: flag.int({
    min: 1,
    max: MAX_LOAD_SENSORS,
    default: DEFAULT_LOAD_SENSORS,
    help: "simulated sensors, named sensor-0001 …",
  }),
  "duration-s": flag.int({
    placeholder: "S",
    min: 1,
    conflicts: "messages",
    help: "send for S seconds",
    defaultText: String(DEFAULT_LOAD_DURATION_S),
  }),
  messages: flag.int({ placeholder: "M", min: 1, help: "send M messages in total instead" }),
  "rate-per-sensor-hz": flag.number({
    placeholder: "R",
    above: 0,
    max: 10_000,
    help: "open loop at R messages/s per sensor (decimal allowed)",
  }),
  "max-in-flight": flag.int({
    placeholder: "W",
    min: 1,
    max: 100_000,
    default: DEFAULT_MAX_IN_FLIGHT,
    help: "closed loop: at most W messages unconcluded",
  }),
  epoch: flag.int({
    min: 1,
    max: EPOCH_MAX_MESSAGES,
    default: DEFAULT_LOAD_EPOCH,
    help: "messages per key epoch",
  }),
  suite: flag.choice({ choices: SUITE_NAMES, default: "dsa", help: "signature suite of a new home" }),
  broker: flag.string({
    placeholder: "embedded|URL",
    default: "embedded",
    help: "the embedded broker, enforcing the home's passwd/acl (plaintext on loopback: this measures the " +
      "actuator); or mqtt://host:port or mqtts://host:port (verified with DIR/tls/ca.crt) of a broker " +
      "already configured with the home's files, such as mosquitto -c DIR/mosquitto.conf",
  }),
  keys: flag.string({
    placeholder: "DIR",
    help: "reuse the home in DIR, created there if missing; counters and replay state carry over",
    defaultText: "a fresh home in a temp dir, removed afterwards",
  }),
  connections: flag.int({
    placeholder: "C",
    min: 1,
    help: "MQTT connections the sensors share",
    defaultText: "one per sensor",
  }),
  "batch-ms": flag.int({
    placeholder: "MS|off",
    min: 0,
    max: 1000,
    words: ["off"],
    default: DEFAULT_LOAD_BATCH_MS,
    help: "the actuator's group-commit delay; off: one fsync per message",
  }),
  log: flag.string({
    placeholder: "FILE",
    help: "append the actuator's and the load's JSONL events to FILE",
  }),
  actuators: flag.int({
    placeholder: "N",
    min: 1,
    max: 16,
    default: 1,
    requires: ["share"],
    help: "run N actuator instances (accounts door-actuator, door-actuator-2 …) sharing one replay file",
  }),
  share: flag.boolean({
    help: "the actuators subscribe through $share/load/… (needs --broker mqtt:// of Mosquitto or another " +
      "broker with shared subscriptions); reports each instance's share",
  }),
  json: flag.boolean({ help: "print the summary as one JSON object instead of the table" }),
};

/** The `load` subcommand. */
export const loadCommand = defineCommand({
  name: "load",
  summary: "many secure sensors against one actuator: accepted/s, latency, rejects, actuator RSS",
  description:
    `Runs N secure sensors in this process (each with its own key, persistent counter and key epoch)
against one secure actuator started as a child process ('secmqtt actuator --secure'), and prints what the
actuator managed: messages sent, accepted, accepted/s, latency p50/p95/p99 (sensor starts sealing → actuator
acted with the counter durable), rejects by code, the actuator's peak RSS (VmHWM) and CPU time.

Without --rate-per-sensor-hz the sensors send as fast as the actuator concludes messages, with at most
--max-in-flight sent but not yet concluded (closed loop: measures capacity). With it, each sensor sends at
that rate whatever happens (open loop: overload shows as latency and OVERLOADED rejects).`,
  flags: LOAD_FLAGS,
  exit: {
    ok: "every message was answered and published",
    failure: "some messages went unanswered or failed to publish",
  },
  async run(flags, io) {
    const sensorCount = flags.sensors;
    const messages = flags.messages;
    const durationS = messages === undefined ? flags["duration-s"] ?? DEFAULT_LOAD_DURATION_S : undefined;
    const rate = flags["rate-per-sensor-hz"];
    const connections = flags.connections ?? sensorCount;
    if (connections > sensorCount) {
      throw new UsageError(`--connections must be at most --sensors (${sensorCount}), got ${connections}`);
    }
    const batchMs = flags["batch-ms"] === "off" ? undefined : flags["batch-ms"];
    const brokerFlag = flags.broker;
    if (brokerFlag !== "embedded" && !/^mqtts?:\/\/[^/]+:\d+\/?$/.test(brokerFlag)) {
      throw new UsageError(
        `--broker expects embedded, mqtt://host:port or mqtts://host:port, got '${brokerFlag}'`,
      );
    }

    const instances = flags.actuators;
    if (flags.share && brokerFlag === "embedded") {
      throw new UsageError(
        "--share needs --broker mqtt://host:port of a broker with shared subscriptions (Mosquitto); " +
          "the embedded broker (aedes 1.2) has none",
      );
    }

    const run = Deno.env.get("SECMQTT_RUN") ?? newRunId();
    const givenKeys = flags.keys;
    const keysDir = givenKeys ?? await Deno.makeTempDir({ prefix: "secmqtt-load-" });
    const cleanups: (() => Promise<void> | void)[] = [];
    if (givenKeys === undefined) cleanups.push(() => Deno.remove(keysDir, { recursive: true }));
    const logPath = flags.log ?? await Deno.makeTempFile({ prefix: "secmqtt-load-", suffix: ".jsonl" });
    if (flags.log === undefined) cleanups.push(() => Deno.remove(logPath));
    const log = openLogFromFlags({ log: logPath }, "load");
    try {
      const sensorIds = Array.from(
        { length: sensorCount },
        (_, i) => `sensor-${String(i + 1).padStart(4, "0")}`,
      );
      const suiteName = flags.suite;
      const paths = homePaths(keysDir);
      if (!pathExists(paths.trust)) {
        const started = performance.now();
        await createHome({
          outDir: keysDir,
          sensors: sensorIds,
          actuatorId: DEFAULT_ACTUATOR_ID,
          suite: SUITE_BY_NAME[suiteName],
          force: false,
          actuatorAccounts: instances,
        });
        io.err(
          `created a home of ${sensorCount} ${suiteName} sensors in ${
            Math.round(performance.now() - started)
          } ms`,
        );
      } else {
        const trust = loadTrustList(paths.trust);
        const missing = sensorIds.find((id) => lookup(trust, id) === undefined);
        if (missing) {
          throw new UsageError(
            `${paths.trust} has no ${missing}; make the home with keygen --sensors ${sensorCount}`,
          );
        }
      }

      let brokerUrl = brokerFlag;
      if (brokerFlag === "embedded") {
        const broker = await startBroker({
          port: 0,
          log: log.forRole("broker"),
          policy: loadBrokerPolicy(paths.passwd, paths.acl),
          limits: { publishRate: undefined },
          logMessages: false,
        });
        cleanups.unshift(() => broker.close());
        brokerUrl = broker.url;
      }

      const children: ActuatorChild[] = [];
      for (let i = 0; i < instances; i++) {
        const child = await spawnActuator({
          keysDir,
          brokerUrl,
          // One log per instance, so each one's share can be told apart.
          logPath: i === 0 ? logPath : `${logPath}.actuator-${i + 1}`,
          batchMs,
          run,
          account: i === 0 ? undefined : `${DEFAULT_ACTUATOR_ID}-${i + 1}`,
          share: flags.share ? "load" : undefined,
        });
        cleanups.unshift(() => child.stop());
        if (i > 0) cleanups.push(() => Deno.remove(`${logPath}.actuator-${i + 1}`));
        children.push(child);
      }
      const actuator = instances === 1 ? children[0] : combineActuators(children);
      // The yardstick: warmed up before the run, then sampled every second of it, so it sees the machine
      // as the actuator does (its speed drifts by tens of percent over minutes here).
      const yardstick = await VerifyYardstick.prepare(keysDir, sensorIds[0], DEFAULT_ACTUATOR_ID);
      const sampling = setInterval(() => void yardstick.sample(VERIFY_SAMPLE_ROUNDS), VERIFY_SAMPLE_EVERY_MS);
      cleanups.unshift(() => clearInterval(sampling));
      const ownCpuAtStart = cpuMsOf(Deno.pid);
      const summary = await runLoad({
        keysDir,
        sensorIds,
        actuatorId: DEFAULT_ACTUATOR_ID,
        durationMs: durationS === undefined ? undefined : durationS * 1000,
        messages,
        ratePerSensorHz: rate,
        maxInFlight: flags["max-in-flight"],
        epochLength: flags.epoch,
        connections,
        drainTimeoutMs: DEFAULT_DRAIN_TIMEOUT_MS,
      }, {
        clock: systemClock,
        log,
        brokerUrl,
        ca: brokerUrl.startsWith("mqtts:") ? readHomeCa(paths) : undefined,
        actuator,
        signal: io.signal,
        progress: io.isTerminal ? (line) => io.err(line) : undefined,
      });
      const ownCpu = cpuMsOf(Deno.pid);
      clearInterval(sampling);
      // A short run took few samples: top them up right after it.
      await yardstick.sample(Math.max(0, VERIFY_BASELINE_ROUNDS - yardstick.count));
      const verifyMs = yardstick.median();
      const setting = {
        broker: brokerFlag,
        batchMs,
        loadCpuS: ownCpu === undefined || ownCpuAtStart === undefined
          ? undefined
          : Math.round(ownCpu - ownCpuAtStart) / 1000,
        verifyMs: Math.round(verifyMs * 1000) / 1000,
        verifySamples: yardstick.count,
        efficiency: summary.acceptedPerActuatorCpuS === undefined
          ? undefined
          : Math.round(summary.acceptedPerActuatorCpuS * verifyMs) / 1000,
      };
      const shares = instances === 1 ? undefined : children.map((c) => c.accepted());
      if (shares) Object.assign(setting, { shares });
      if (flags.json) io.out(JSON.stringify({ ...summary, ...setting }));
      else for (const line of formatLoadTable(summary, setting)) io.out(line);
      return summary.unanswered === 0 && summary.publishFailures === 0 ? 0 : 1;
    } finally {
      for (const cleanup of cleanups) await cleanup();
      log.close();
    }
  },
});

/**
 * The summary as the table `secmqtt load` prints.
 * @example
 * ```ts
 * for (const line of formatLoadTable(summary, { broker: "embedded", batchMs: 2 })) console.log(line);
 * ```
 */
export function formatLoadTable(
  s: LoadSummary,
  setting: {
    broker: string;
    batchMs?: number;
    loadCpuS?: number;
    verifyMs?: number;
    /** Verifications the median of {@link verifyMs} is over. */
    verifySamples?: number;
    efficiency?: number;
    shares?: number[];
  },
): string[] {
  const suite = s.suite.endsWith("ed25519") ? "ed25519" : "dsa";
  const rejects = Object.entries(s.rejectsByCode).sort(([a], [b]) => a.localeCompare(b));
  const rows: [string, string][] = [
    ["sensors", `${s.sensors} (${s.connections} MQTT connection${s.connections === 1 ? "" : "s"})`],
    ["suite / epoch", `${suite} / ${s.epochLength} messages per key`],
    ["load", s.mode],
    [
      "broker / batch",
      `${setting.broker} / ${setting.batchMs === undefined ? "off" : `${setting.batchMs} ms`}`,
    ],
    ["duration", `${s.durationS.toFixed(1)} s`],
    ["messages sent", String(s.sent)],
    ["accepted", String(s.accepted)],
    ["accepted/s", s.acceptedPerS.toFixed(1)],
    [
      "latency p50/p95/p99",
      `${s.latencyMs.p50.toFixed(1)} / ${s.latencyMs.p95.toFixed(1)} / ${s.latencyMs.p99.toFixed(1)} ms ` +
      `(max ${s.latencyMs.max.toFixed(1)})`,
    ],
    ["rejects", rejects.length === 0 ? "0" : rejects.map(([code, n]) => `${code} ${n}`).join(", ")],
    ["duplicates / unanswered", `${s.duplicates} / ${s.unanswered}`],
    [
      "actuator peak RSS",
      s.actuatorPeakRssKiB === undefined ? "n/a" : `${(s.actuatorPeakRssKiB / 1024).toFixed(1)} MiB`,
    ],
    [
      "actuator CPU",
      s.actuatorCpuS === undefined
        ? "n/a"
        : `${s.actuatorCpuS.toFixed(1)} s (${s.acceptedPerActuatorCpuS?.toFixed(0)} accepted per CPU-second)`,
    ],
  ];
  if (setting.shares !== undefined) {
    rows.push(["accepted per instance", setting.shares.join(" / ")]);
  }
  if (setting.verifyMs !== undefined) {
    rows.push([
      "verify / efficiency",
      `${setting.verifyMs.toFixed(3)} ms per ${suite} verify (median of ${
        setting.verifySamples ?? "n/a"
      }, sampled through the run in this process); accepted per ` +
      `actuator CPU-s × verify s = ${setting.efficiency?.toFixed(2) ?? "n/a"}`,
    ]);
  }
  if (setting.loadCpuS !== undefined) {
    const where = setting.broker === "embedded" ? "sensors + embedded broker" : "sensors";
    rows.push([`${where} CPU`, `${setting.loadCpuS.toFixed(1)} s (this process)`]);
  }
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`);
}

/** The actuator child process, observed through its log file and /proc. */
export interface ActuatorChild extends ObservedActuator {
  pid: number;
  /** Messages this instance acted on, among the events read so far. */
  accepted(): number;
  /** SIGTERM, and wait until it is gone. */
  stop(): Promise<void>;
}

/**
 * Starts `secmqtt actuator --secure` for the home as a child process and resolves once it has
 * subscribed (its `role_started` line is in the log).
 * @example
 * ```ts
 * const actuator = await spawnActuator({ keysDir, brokerUrl, logPath: "out/load.jsonl", batchMs: 2, run });
 * ```
 */
export async function spawnActuator(options: {
  keysDir: string;
  brokerUrl: string;
  logPath: string;
  batchMs?: number;
  run: string;
  /** Broker account of this instance (default: the actuator's own). */
  account?: string;
  /** Shared-subscription group (`--share`). */
  share?: string;
}): Promise<ActuatorChild> {
  const main = new URL("../main.ts", import.meta.url).pathname;
  const config = new URL("../deno.json", import.meta.url).pathname;
  // Profiling hook: SECMQTT_ACTUATOR_V8_FLAGS=--prof writes a V8 tick log of the actuator (docs/SCALING.md).
  const v8Flags = Deno.env.get("SECMQTT_ACTUATOR_V8_FLAGS");
  const args = [
    "run",
    "--allow-all",
    "--quiet",
    ...(v8Flags ? [`--v8-flags=${v8Flags}`] : []),
    "--config",
    config,
    main,
    "actuator",
    "--secure",
    "--keys",
    options.keysDir,
    "--broker",
    options.brokerUrl,
    "--log",
    options.logPath,
    // A home made before keygen created the replay state has none yet: load may make it.
    "--init-state",
    ...(options.account === undefined ? [] : ["-u", options.account]),
    ...(options.share === undefined ? [] : ["--share", options.share]),
    ...(options.batchMs === undefined ? [] : ["--batch-ms", String(options.batchMs)]),
    // The load test measures throughput: a simulated sensor sends far faster than a door sensor, so the
    // per-sender flood limit is off here (as is the embedded broker's per-account limit).
    "--sender-rate",
    "off",
  ];
  const child = new Deno.Command(Deno.execPath(), {
    args,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
    env: { SECMQTT_RUN: options.run },
  }).spawn();
  let stderr = "";
  const readingStderr = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) stderr += chunk;
  })();
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const stop = async () => {
    if (!exited) {
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
    }
    await status;
    await readingStderr;
  };

  const tail = new LogTail(options.logPath);
  const buffered: LogRecord[] = [];
  const deadline = Date.now() + ACTUATOR_START_TIMEOUT_MS;
  for (;;) {
    const events = await tail.read();
    const startedAt = events.findIndex((e) => e.role === "actuator" && e.event === "role_started");
    if (startedAt >= 0) {
      buffered.push(...events.slice(startedAt + 1).filter((e) => e.role === "actuator"));
      break;
    }
    if (exited || Date.now() > deadline) {
      await stop();
      throw new RuntimeFailure(
        "ACTUATOR_FAILED",
        `the actuator did not start: ${stderr.trim().split("\n").at(-1) ?? "no output"}`,
      );
    }
    await systemClock.sleep(20);
  }
  const cpuAtStart = cpuMsOf(child.pid);
  let accepted = 0;
  return {
    pid: child.pid,
    accepted: () => accepted,
    async readEvents() {
      const events = buffered.splice(0);
      for (const e of await tail.read()) if (e.role === "actuator") events.push(e);
      accepted += events.filter((e) => e.event === "action").length;
      return events;
    },
    usage() {
      const cpu = cpuMsOf(child.pid);
      return {
        peakRssKiB: peakRssKiBOf(child.pid),
        cpuMs: cpu === undefined || cpuAtStart === undefined ? undefined : cpu - cpuAtStart,
      };
    },
    stop,
  };
}

/** Reads the lines appended to a JSONL file since the last read. */
class LogTail {
  readonly #path: string;
  #offset = 0;
  #partial = "";
  readonly #decoder = new TextDecoder();

  constructor(path: string) {
    this.#path = path;
  }

  async read(): Promise<LogRecord[]> {
    let file: Deno.FsFile;
    try {
      file = await Deno.open(this.#path, { read: true });
    } catch {
      return [];
    }
    const chunks: string[] = [];
    try {
      await file.seek(this.#offset, Deno.SeekMode.Start);
      const buffer = new Uint8Array(1 << 20);
      for (;;) {
        const n = await file.read(buffer);
        if (n === null || n === 0) break;
        this.#offset += n;
        chunks.push(this.#decoder.decode(buffer.subarray(0, n), { stream: true }));
      }
    } finally {
      file.close();
    }
    const text = this.#partial + chunks.join("");
    const end = text.lastIndexOf("\n");
    this.#partial = text.slice(end + 1);
    const records: LogRecord[] = [];
    if (end < 0) return records;
    for (const line of text.slice(0, end).split("\n")) {
      if (line === "") continue;
      const parsed = parseLogLine(line, 0);
      if (parsed.ok) records.push(parsed.record);
    }
    return records;
  }
}

/** VmHWM of a Linux process, KiB (proc(5)); undefined elsewhere or once it is gone. */
function peakRssKiBOf(pid: number): number | undefined {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** utime + stime of a Linux process, ms (proc(5) fields 14 and 15, in clock ticks of 1/100 s). */
function cpuMsOf(pid: number): number | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

/**
 * Several actuator instances seen as one: their events together, their CPU time summed, the largest
 * peak RSS.
 * @example
 * ```ts
 * const actuator = combineActuators([first, second]);
 * ```
 */
export function combineActuators(children: readonly ObservedActuator[]): ObservedActuator {
  return {
    async readEvents() {
      return (await Promise.all(children.map((c) => c.readEvents()))).flat();
    },
    usage() {
      const usages = children.map((c) => c.usage());
      const cpu = usages.map((u) => u.cpuMs);
      const rss = usages.map((u) => u.peakRssKiB);
      return {
        cpuMs: cpu.some((ms) => ms === undefined) ? undefined : cpu.reduce((a, b) => a! + b!, 0),
        peakRssKiB: rss.some((k) => k === undefined) ? undefined : Math.max(...rss as number[]),
      };
    },
  };
}
