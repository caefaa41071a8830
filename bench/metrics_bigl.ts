/**
 * Big-log bench for `metrics`: writes a synthetic JSONL log shaped like the demo's (both phases, every
 * attack class, broker events, crypto stages, timing results, a few bad lines) to a temp dir, then runs the
 * two-pass aggregation (`aggregateLogs`'s LogSurvey + MetricsFold) in a child process, so that the peak RSS
 * it prints (the child's VmHWM) is the aggregation's alone, and prints lines/s and peak memory.
 *
 *   deno run -A bench/metrics_bigl.ts [--size-mb 1024] [--max-seconds 240] [--keep] [--log FILE]
 *
 * `--log FILE` skips generation and measures an existing log. Runtime is capped: generation stops at the
 * size or at half the time cap, aggregation at the cap (pass 2 then reads the same lines pass 1 read, and
 * the figures cover that part).
 * @module
 */

import { parseArgs } from "node:util";
import { LogSurvey, MetricsFold, publicationFilterCells } from "../metrics/aggregate.ts";
import { readLog } from "../log/jsonl.ts";

/** Default size of the synthetic log. */
export const DEFAULT_SIZE_MB = 1024;
/** Default cap on the whole run. */
export const DEFAULT_MAX_SECONDS = 240;
/** Lines between memory samples during aggregation. */
export const RSS_SAMPLE_EVERY_LINES = 50_000;

/** Where the synthetic cross-topic replays land (the actuator subscribes to home/secure/#). */
const CROSS_TOPIC = "home/secure/door/garage";

const SECURE_CLASSES: [string, string][] = [
  ["replay", "REPLAY"],
  ["cross-topic-replay", "BAD_SIGNATURE"],
  ["inject", "MALFORMED"],
  ["inject-unsigned", "MALFORMED"],
  ["tamper", "BAD_SIGNATURE"],
  ["spoof-own-key", "UNKNOWN_SENDER"],
  ["forged-signature", "BAD_SIGNATURE"],
  ["bitflip", "BAD_SIGNATURE"],
  ["stale-timestamp", "STALE"],
  ["future-timestamp", "FUTURE"],
  ["bad-session-key", "BAD_KEY"],
  ["downgrade", "UNSUPPORTED"],
  ["malformed", "MALFORMED"],
];
const SUITES = ["rsa-pss-sha256", "ed25519", "dsa-sha256"];
const EPOCHS = [1, 10, 100];

/** A small deterministic PRNG (mulberry32), so fixtures are reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Synthetic log lines in the schema of docs/LOG.md: `cycles` rounds, each a legit message per phase
 * plus, every few rounds, one attack per class. Deterministic for a given seed.
 * @example
 * ```ts
 * const text = [...syntheticLogLines({ cycles: 50, seed: 1 })].join("\n");
 * ```
 */
export function* syntheticLogLines(
  options: { cycles: number; seed?: number; badLines?: boolean; startMs?: number },
): Generator<string> {
  const random = prng(options.seed ?? 1);
  const run = "20260101T000000-b16b16";
  let ts = options.startMs ?? 1_767_225_600_000;
  let digestCounter = 0;
  const digest = () => {
    digestCounter++;
    const hi = Math.imul(digestCounter, 0x9e3779b1) >>> 0;
    const lo = Math.imul(digestCounter ^ 0x5bd1e995, 0x85ebca6b) >>> 0;
    return hi.toString(16).padStart(8, "0") + lo.toString(16).padStart(8, "0");
  };
  const line = (role: string, event: string, fields: Record<string, unknown>) => {
    ts += 0.25 + random() * 2;
    return JSON.stringify({ ts: Math.round(ts * 1000) / 1000, role, run, event, ...fields });
  };
  const ms = (lo: number, hi: number) => Math.round((lo + random() * (hi - lo)) * 1000) / 1000;
  const insecureHistory: string[] = [];
  const secureHistory: string[] = [];
  yield line("broker", "broker_listening", { host: "127.0.0.1", port: 1883, secure: false });
  for (let cycle = 0; cycle < options.cycles; cycle++) {
    // Phase I: a plaintext door event, routed and acted on.
    const d1 = digest();
    insecureHistory.push(d1);
    if (insecureHistory.length > 16) insecureHistory.shift();
    const door = random() < 0.5 ? "open" : "closed";
    yield line("sensor", "published", {
      phase: "insecure",
      sensor_id: "door-1",
      topic: "home/door",
      msg_id: `m${cycle}`,
      counter: cycle,
      digest: d1,
      bytes: 96,
    });
    yield line("broker", "message_routed", { client_id: "sensor-1", topic: "home/door", bytes: 96 });
    yield line("actuator", "action", {
      phase: "insecure",
      topic: "home/door",
      sensor_id: "door-1",
      msg_id: `m${cycle}`,
      counter: cycle,
      door,
      digest: d1,
      latency_ms: ms(0.8, 4) + (random() < 0.02 ? ms(5, 30) : 0),
    });
    // Phase II: an envelope with crypto stages, almost always acted on.
    const d2 = digest();
    secureHistory.push(d2);
    if (secureHistory.length > 16) secureHistory.shift();
    const suite = SUITES[cycle % SUITES.length];
    const epoch = EPOCHS[Math.floor(cycle / SUITES.length) % EPOCHS.length];
    const sign = suite === "rsa-pss-sha256"
      ? ms(1.5, 3)
      : suite === "dsa-sha256"
      ? ms(0.8, 1.6)
      : ms(0.08, 0.2);
    const verify = suite === "rsa-pss-sha256"
      ? ms(0.08, 0.2)
      : suite === "dsa-sha256"
      ? ms(1.2, 2.4)
      : ms(0.15, 0.3);
    const rewrap = cycle % epoch === 0;
    yield line("sensor", "published", {
      phase: "secure",
      sensor_id: "door-1",
      topic: "home/secure/door",
      msg_id: `s${cycle}`,
      counter: cycle,
      digest: d2,
      bytes: 720,
      suite,
      epoch_length: epoch,
      stages: {
        sign_ms: sign,
        wrap_ms: rewrap ? ms(0.3, 0.9) : 0,
        encrypt_ms: ms(0.02, 0.06),
        seal_ms: ms(0.01, 0.03),
      },
    });
    yield line("broker", "message_routed", { client_id: "sensor-1", topic: "home/secure/door", bytes: 720 });
    const fate = random();
    if (fate < 0.005) {
      yield line("actuator", "rejected", {
        phase: "secure",
        topic: "home/secure/door",
        code: "STALE",
        detail: "timestamp older than the window",
        digest: d2,
        bytes: 720,
      });
    } else {
      const stages = {
        parse_ms: ms(0.02, 0.05),
        verify_ms: verify,
        replay_ms: ms(0.01, 0.02),
        unwrap_ms: rewrap ? ms(1, 3) : 0,
        decrypt_ms: ms(0.02, 0.05),
        commit_ms: ms(0.05, 0.3),
      };
      const total = Object.values(stages).reduce((a, b) => a + b, 0);
      yield line("actuator", "action", {
        phase: "secure",
        topic: "home/secure/door",
        sensor_id: "door-1",
        msg_id: `s${cycle}`,
        counter: cycle,
        door,
        digest: d2,
        latency_ms: ms(2, 6) + total,
        suite,
        stages: { ...stages, total_ms: Math.round(total * 1000) / 1000 },
        key_cached: !rewrap,
      });
      if (fate > 0.995) {
        yield line("actuator", "duplicate", {
          phase: "secure",
          sensor_id: "door-1",
          counter: cycle,
          digest: d2,
        });
      }
    }
    if (cycle % 8 !== 7) continue;
    // A round of attacks. Phase I: everything works for the attacker.
    yield line("attacker", "captured", {
      phase: "insecure",
      topic: "home/door",
      digest: d1,
      bytes: 96,
      readable: true,
      fields: { door, counter: cycle },
    });
    const injected = digest();
    yield line("attacker", "attack_sent", {
      phase: "insecure",
      class: "inject",
      variant: "open-door",
      attack_id: `a${cycle}i`,
      topic: "home/door",
      digest: injected,
      bytes: 90,
    });
    yield line("actuator", "action", {
      phase: "insecure",
      topic: "home/door",
      sensor_id: "door-1",
      msg_id: "forged",
      counter: 0,
      door: "open",
      digest: injected,
      latency_ms: ms(0.8, 3),
    });
    const replayed = insecureHistory[Math.floor(random() * insecureHistory.length)];
    yield line("attacker", "attack_sent", {
      phase: "insecure",
      class: "replay",
      variant: "verbatim",
      attack_id: `a${cycle}r`,
      topic: "home/door",
      digest: replayed,
      bytes: 96,
    });
    yield line("actuator", "action", {
      phase: "insecure",
      topic: "home/door",
      sensor_id: "door-1",
      msg_id: "replayed",
      counter: 0,
      door: "open",
      digest: replayed,
      latency_ms: ms(100, 2000),
    });
    const tampered = digest();
    yield line("attacker", "attack_sent", {
      phase: "insecure",
      class: "tamper",
      variant: "flip-door",
      attack_id: `a${cycle}t`,
      topic: "home/door",
      digest: tampered,
      bytes: 96,
    });
    yield line("actuator", "action", {
      phase: "insecure",
      topic: "home/door",
      sensor_id: "door-1",
      msg_id: "tampered",
      counter: 0,
      door: "open",
      digest: tampered,
      latency_ms: ms(0.8, 3),
    });
    // Phase II: every class is rejected with its code, refused by the broker, or dropped.
    yield line("attacker", "captured", {
      phase: "secure",
      topic: "home/secure/door",
      digest: d2,
      bytes: 720,
      readable: false,
      fields: ["v", "suite", "sender", "ts", "counter"],
    });
    for (const [attackClass, code] of SECURE_CLASSES) {
      const d = attackClass.includes("replay")
        ? secureHistory[Math.floor(random() * secureHistory.length)]
        : digest();
      yield line("attacker", "attack_sent", {
        phase: "secure",
        class: attackClass,
        variant: "default",
        attack_id: `a${cycle}-${attackClass}`,
        topic: attackClass === "cross-topic-replay" ? CROSS_TOPIC : "home/secure/door",
        digest: d,
        bytes: 700,
      });
      yield line("actuator", "rejected", {
        phase: "secure",
        topic: attackClass === "cross-topic-replay" ? CROSS_TOPIC : "home/secure/door",
        code,
        detail: "synthetic",
        digest: d,
        bytes: 700,
      });
    }
    for (const attackClass of ["anonymous-connect", "wrong-password"]) {
      yield line("broker", "auth_failed", {
        client_id: "mallory",
        username: attackClass === "anonymous-connect" ? "" : "sensor",
        code: attackClass === "anonymous-connect" ? "ANONYMOUS" : "NOT_AUTHORIZED",
      });
      yield line("attacker", "attack_refused", {
        phase: "secure",
        class: attackClass,
        variant: "default",
        attack_id: `a${cycle}-${attackClass}`,
        code: "NOT_AUTHORIZED",
      });
    }
    const aclDigest = digest();
    yield line("attacker", "attack_sent", {
      phase: "secure",
      class: "acl-violation",
      variant: "publish-as-attacker",
      attack_id: `a${cycle}-acl`,
      topic: "home/secure/door",
      digest: aclDigest,
      bytes: 700,
    });
    yield line("broker", "acl_denied", {
      client_id: "mallory",
      username: "attacker",
      topic: "home/secure/door",
      access: "write",
    });
    if (options.badLines && cycle % 4096 === 7) yield '{"ts": 1, "role": "sensor", "trunc';
  }
  const timing = (fn: string, t: number, leak: boolean, prefix: number, random: number) =>
    line("timing", "timing_result", {
      function: fn,
      t,
      n: 2700,
      leak,
      threshold: 4.5,
      percentiles_ns: {
        prefix: {
          mean: prefix,
          p05: prefix * 0.97,
          p25: prefix * 0.99,
          p50: prefix,
          p75: prefix * 1.01,
          p95: prefix * 1.05,
        },
        random: {
          mean: random,
          p05: random * 0.97,
          p25: random * 0.99,
          p50: random,
          p75: random * 1.01,
          p95: random * 1.05,
        },
      },
      calls_per_measurement: 4000,
    });
  yield timing("vulnerableEqual", 1250.3, true, 17.9, 4.2);
  yield timing("constantTimeEqual", 0.42, false, 24.1, 24.1);
  yield line("timing", "recovery_result", {
    function: "vulnerableEqual",
    target_bytes: 16,
    bytes_recovered: 16,
    budget: 122880000,
    queries: 41000000,
  });
  yield line("timing", "recovery_result", {
    function: "constantTimeEqual",
    target_bytes: 16,
    bytes_recovered: 0,
    budget: 122880000,
    queries: 122880000,
  });
}

function peakRssBytes(): number | undefined {
  try {
    const status = Deno.readTextFileSync("/proc/self/status");
    const match = status.match(/^VmHWM:\s+(\d+)\s+kB/m);
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** What the aggregating child reports to the parent (one JSON line on stdout). */
interface AggregationFigures {
  lines: number;
  capped: boolean;
  survey_s: number;
  fold_s: number;
  finish_s: number;
  /** VmHWM of the child: the peak RSS of aggregation, runtime included. */
  peak_rss_bytes: number | null;
  rss_at_start_bytes: number;
  peak_sampled_heap_used_bytes: number;
  survey_bytes: number;
  check: Record<string, unknown>;
}

/** The child: both passes over `path`, as aggregateLogs runs them, with memory sampled along the way. */
async function aggregateChild(path: string, maxMs: number): Promise<void> {
  const started = performance.now();
  const rssAtStart = Deno.memoryUsage().rss;
  let peakHeapUsed = 0;
  const sample = () => (peakHeapUsed = Math.max(peakHeapUsed, Deno.memoryUsage().heapUsed));
  const survey = new LogSurvey(publicationFilterCells((await Deno.stat(path)).size));
  let lines = 0;
  let capped = false;
  for await (const item of readLog(path)) {
    if (item.ok) survey.add(item.record);
    if (++lines % RSS_SAMPLE_EVERY_LINES === 0) {
      sample();
      // Pass 1 gets half the budget; pass 2 then reads exactly the lines pass 1 read.
      if (performance.now() - started > maxMs / 2) {
        capped = true;
        break;
      }
    }
  }
  const surveyDone = performance.now();
  const fold = new MetricsFold(survey);
  let read = 0;
  for await (const item of readLog(path)) {
    if (read++ === lines) break;
    if (item.ok) fold.add(item.record);
    else fold.addBadLine(path, item.line, item.error);
    if (read % RSS_SAMPLE_EVERY_LINES === 0) sample();
  }
  const foldDone = performance.now();
  const metrics = fold.finish();
  sample();
  const figures: AggregationFigures = {
    lines,
    capped,
    survey_s: (surveyDone - started) / 1000,
    fold_s: (foldDone - surveyDone) / 1000,
    finish_s: (performance.now() - foldDone) / 1000,
    peak_rss_bytes: peakRssBytes() ?? null,
    rss_at_start_bytes: rssAtStart,
    peak_sampled_heap_used_bytes: peakHeapUsed,
    survey_bytes: survey.bytes,
    check: {
      records: metrics.records,
      bad_lines: metrics.bad_lines,
      legit_secure: metrics.legit.secure,
      legit_insecure_accepted: metrics.legit.insecure?.accepted,
      insecure_replay:
        `${metrics.attacks.insecure?.replay?.accepted}/${metrics.attacks.insecure?.replay?.attempts}`,
      secure_blocked: Object.values(metrics.attacks.secure ?? {}).reduce((n, c) => n + c.blocked, 0),
      unattributed: metrics.unattributed,
    },
  };
  console.log(JSON.stringify(figures));
}

async function generate(path: string, sizeBytes: number, maxMs: number): Promise<number> {
  const started = performance.now();
  const encoder = new TextEncoder();
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  let written = 0;
  let generatedLines = 0;
  let chunk: string[] = [];
  let chunkChars = 0;
  for (const text of syntheticLogLines({ cycles: Number.MAX_SAFE_INTEGER, seed: 7, badLines: true })) {
    chunk.push(text);
    chunkChars += text.length + 1;
    generatedLines++;
    if (chunkChars >= 4 * 1024 * 1024) {
      const bytes = encoder.encode(chunk.join("\n") + "\n");
      for (let off = 0; off < bytes.length;) off += await file.write(bytes.subarray(off));
      written += bytes.length;
      chunk = [];
      chunkChars = 0;
      if (written >= sizeBytes || performance.now() - started > maxMs / 2) break;
    }
  }
  file.close();
  console.log(
    `generated ${(written / 1048576).toFixed(0)} MiB, ${generatedLines} lines in ${
      ((performance.now() - started) / 1000).toFixed(1)
    } s (${path})`,
  );
  return written;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      "size-mb": { type: "string" },
      "max-seconds": { type: "string" },
      keep: { type: "boolean" },
      log: { type: "string" },
      "aggregate-child": { type: "string" },
    },
  });
  const maxMs = Number(values["max-seconds"] ?? DEFAULT_MAX_SECONDS) * 1000;
  if (values["aggregate-child"] !== undefined) return await aggregateChild(values["aggregate-child"], maxMs);

  const sizeBytes = Number(values["size-mb"] ?? DEFAULT_SIZE_MB) * 1024 * 1024;
  const dir = values.log === undefined ? await Deno.makeTempDir({ prefix: "secmqtt-bigl-" }) : undefined;
  const path = values.log ?? `${dir}/big.jsonl`;
  const bytes = dir === undefined ? (await Deno.stat(path)).size : await generate(path, sizeBytes, maxMs);

  const child = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL(import.meta.url).pathname,
      "--aggregate-child",
      path,
      "--max-seconds",
      `${maxMs / 1000}`,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!child.success) throw new Error(`aggregation child failed with exit code ${child.code}`);
  const figures: AggregationFigures = JSON.parse(
    new TextDecoder().decode(child.stdout).trim().split("\n").at(-1)!,
  );
  const seconds = figures.survey_s + figures.fold_s + figures.finish_s;
  const mib = (b: number | null) => (b === null ? "?" : `${(b / 1048576).toFixed(0)} MiB`);
  const readBytes = figures.capped ? NaN : bytes;
  console.log(
    `metrics aggregation of ${path} (${mib(bytes)}, ${figures.lines} lines${
      figures.capped ? ", time cap hit: figures cover the lines read" : ""
    })`,
  );
  console.log(
    `  time:       pass 1 (survey) ${figures.survey_s.toFixed(1)} s + pass 2 (fold) ${
      figures.fold_s.toFixed(1)
    } s` +
      ` + finish ${figures.finish_s.toFixed(2)} s = ${seconds.toFixed(1)} s`,
  );
  console.log(
    `  throughput: ${Math.round(figures.lines / seconds)} lines/s, ${
      Number.isNaN(readBytes) ? "?" : (readBytes / 1048576 / seconds).toFixed(1)
    } MiB/s (each input line counted once; both passes read it)`,
  );
  console.log(
    `  memory:     peak RSS (VmHWM of the aggregating process) ${mib(figures.peak_rss_bytes)}; ` +
      `RSS at start ${mib(figures.rss_at_start_bytes)}, peak sampled V8 heap used ${
        mib(figures.peak_sampled_heap_used_bytes)
      }, filter + attack digests ${mib(figures.survey_bytes)}`,
  );
  console.log(`  check:      ${JSON.stringify(figures.check)}`);
  if (dir === undefined) return;
  if (values.keep) console.log(`kept ${path}`);
  else await Deno.remove(dir, { recursive: true });
}

if (import.meta.main) await main();
