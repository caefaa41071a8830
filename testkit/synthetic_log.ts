/**
 * A synthetic JSONL log shaped like the demo's, in the schema of docs/LOG.md: both phases, every attack
 * class, broker events, crypto stages, timing results and, on request, a few bad lines. The report tests
 * use a small one as their fixture; `bench/metrics_bigl.ts` writes a 1 GiB one to time `metrics` on.
 * @module
 */

/** Where the synthetic cross-topic replays land (the actuator subscribes to home/secure/#). */
const CROSS_TOPIC = "home/secure/door/garage";
const INSECURE_TOPIC = "home/door";
const SECURE_TOPIC = "home/secure/door";
/** Digests of recent legit messages kept per phase, for the replays to draw from. */
const HISTORY_LENGTH = 16;
/** One round of attacks every this many cycles. */
const ATTACK_EVERY_CYCLES = 8;

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

/** Options of {@link syntheticLogLines}. */
export interface SyntheticLogOptions {
  /** Rounds of one legit message per phase (an attack round every eighth). */
  cycles: number;
  /** PRNG seed (default 1): the same seed gives the same lines. */
  seed?: number;
  /** Now and then a truncated line, as a crash mid-write leaves. */
  badLines?: boolean;
  /** Timestamp of the first line (default 2026-01-01T00:00:00Z). */
  startMs?: number;
}

/**
 * Synthetic log lines in the schema of docs/LOG.md: `cycles` rounds, each a legit message per phase
 * plus, every few rounds, one attack per class. Deterministic for a given seed.
 * @example
 * ```ts
 * const text = [...syntheticLogLines({ cycles: 50, seed: 1 })].join("\n");
 * ```
 */
export function* syntheticLogLines(options: SyntheticLogOptions): Generator<string> {
  const log = new LineMaker(options.seed ?? 1, options.startMs ?? 1_767_225_600_000);
  const insecureHistory: string[] = [];
  const secureHistory: string[] = [];
  yield log.line("broker", "broker_listening", { host: "127.0.0.1", port: 1883, secure: false });
  for (let cycle = 0; cycle < options.cycles; cycle++) {
    const insecureDigest = remember(insecureHistory, log.digest());
    const door = log.random() < 0.5 ? "open" : "closed";
    yield* insecureMessage(log, cycle, insecureDigest, door);
    const secureDigest = remember(secureHistory, log.digest());
    yield* secureMessage(log, cycle, secureDigest, door);
    if (cycle % ATTACK_EVERY_CYCLES !== ATTACK_EVERY_CYCLES - 1) continue;
    yield* insecureAttacks(log, cycle, insecureDigest, door, insecureHistory);
    yield* secureAttacks(log, cycle, secureDigest, secureHistory);
    if (options.badLines && cycle % 4096 === 7) yield '{"ts": 1, "role": "sensor", "trunc';
  }
  yield* timingResults(log);
}

/** Clock, randomness and digests shared by every line of one synthetic log. */
class LineMaker {
  readonly random: () => number;
  readonly #run = "20260101T000000-b16b16";
  #ts: number;
  #digests = 0;

  constructor(seed: number, startMs: number) {
    this.random = prng(seed);
    this.#ts = startMs;
  }

  /** One JSONL line, 0.25–2.25 ms after the previous one. */
  line(role: string, event: string, fields: Record<string, unknown>): string {
    this.#ts += 0.25 + this.random() * 2;
    return JSON.stringify({ ts: Math.round(this.#ts * 1000) / 1000, role, run: this.#run, event, ...fields });
  }

  /** A duration in [lo, hi) ms, to the microsecond. */
  ms(lo: number, hi: number): number {
    return Math.round((lo + this.random() * (hi - lo)) * 1000) / 1000;
  }

  /** A fresh 16-hex-digit message digest, distinct from every earlier one. */
  digest(): string {
    this.#digests++;
    const hi = Math.imul(this.#digests, 0x9e3779b1) >>> 0;
    const lo = Math.imul(this.#digests ^ 0x5bd1e995, 0x85ebca6b) >>> 0;
    return hi.toString(16).padStart(8, "0") + lo.toString(16).padStart(8, "0");
  }

  /** One digest of the history, for a replay. */
  pick(history: readonly string[]): string {
    return history[Math.floor(this.random() * history.length)];
  }
}

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

function remember(history: string[], digest: string): string {
  history.push(digest);
  if (history.length > HISTORY_LENGTH) history.shift();
  return digest;
}

/** What the sensor's, the broker's and the actuator's lines about one message share. */
interface Message {
  phase: "insecure" | "secure";
  topic: string;
  msgId: string;
  counter: number;
  digest: string;
}

function published(log: LineMaker, m: Message, bytes: number, fields: Record<string, unknown> = {}): string {
  return log.line("sensor", "published", {
    phase: m.phase,
    sensor_id: "door-1",
    topic: m.topic,
    msg_id: m.msgId,
    counter: m.counter,
    digest: m.digest,
    bytes,
    ...fields,
  });
}

function action(log: LineMaker, m: Message, door: string, fields: Record<string, unknown>): string {
  return log.line("actuator", "action", {
    phase: m.phase,
    topic: m.topic,
    sensor_id: "door-1",
    msg_id: m.msgId,
    counter: m.counter,
    door,
    digest: m.digest,
    ...fields,
  });
}

/** Phase I: a plaintext door event, routed and acted on. */
function* insecureMessage(log: LineMaker, cycle: number, digest: string, door: string): Generator<string> {
  const m: Message = { phase: "insecure", topic: INSECURE_TOPIC, msgId: `m${cycle}`, counter: cycle, digest };
  yield published(log, m, 96);
  yield log.line("broker", "message_routed", { client_id: "sensor-1", topic: INSECURE_TOPIC, bytes: 96 });
  yield action(log, m, door, {
    latency_ms: log.ms(0.8, 4) + (log.random() < 0.02 ? log.ms(5, 30) : 0),
  });
}

/** Phase II: an envelope with crypto stages, almost always acted on. */
function* secureMessage(log: LineMaker, cycle: number, digest: string, door: string): Generator<string> {
  const m: Message = { phase: "secure", topic: SECURE_TOPIC, msgId: `s${cycle}`, counter: cycle, digest };
  const suite = SUITES[cycle % SUITES.length];
  const epoch = EPOCHS[Math.floor(cycle / SUITES.length) % EPOCHS.length];
  const sign = suite === "rsa-pss-sha256"
    ? log.ms(1.5, 3)
    : suite === "dsa-sha256"
    ? log.ms(0.8, 1.6)
    : log.ms(0.08, 0.2);
  const verify = suite === "rsa-pss-sha256"
    ? log.ms(0.08, 0.2)
    : suite === "dsa-sha256"
    ? log.ms(1.2, 2.4)
    : log.ms(0.15, 0.3);
  const rewrap = cycle % epoch === 0;
  // Every draw of a line's fields comes before the draw of its timestamp, as the arguments are evaluated first.
  yield published(log, m, 720, {
    suite,
    epoch_length: epoch,
    stages: {
      sign_ms: sign,
      wrap_ms: rewrap ? log.ms(0.3, 0.9) : 0,
      encrypt_ms: log.ms(0.02, 0.06),
      seal_ms: log.ms(0.01, 0.03),
    },
  });
  yield log.line("broker", "message_routed", { client_id: "sensor-1", topic: SECURE_TOPIC, bytes: 720 });
  const fate = log.random();
  if (fate < 0.005) {
    yield rejected(log, SECURE_TOPIC, "STALE", "timestamp older than the window", digest, 720);
    return;
  }
  const stages = {
    parse_ms: log.ms(0.02, 0.05),
    verify_ms: verify,
    replay_ms: log.ms(0.01, 0.02),
    unwrap_ms: rewrap ? log.ms(1, 3) : 0,
    decrypt_ms: log.ms(0.02, 0.05),
    commit_ms: log.ms(0.05, 0.3),
  };
  const total = Object.values(stages).reduce((a, b) => a + b, 0);
  yield action(log, m, door, {
    latency_ms: log.ms(2, 6) + total,
    suite,
    stages: { ...stages, total_ms: Math.round(total * 1000) / 1000 },
    key_cached: !rewrap,
  });
  if (fate > 0.995) {
    yield log.line("actuator", "duplicate", { phase: "secure", sensor_id: "door-1", counter: cycle, digest });
  }
}

function rejected(
  log: LineMaker,
  topic: string,
  code: string,
  detail: string,
  digest: string,
  bytes: number,
): string {
  return log.line("actuator", "rejected", { phase: "secure", topic, code, detail, digest, bytes });
}

/** A round of attacks on Phase I: everything works for the attacker. */
function* insecureAttacks(
  log: LineMaker,
  cycle: number,
  digest: string,
  door: string,
  history: readonly string[],
): Generator<string> {
  yield log.line("attacker", "captured", {
    phase: "insecure",
    topic: INSECURE_TOPIC,
    digest,
    bytes: 96,
    readable: true,
    fields: { door, counter: cycle },
  });
  const attacks: [string, string, string, number, string, [number, number]][] = [
    ["inject", "open-door", "i", 90, "forged", [0.8, 3]],
    ["replay", "verbatim", "r", 96, "replayed", [100, 2000]],
    ["tamper", "flip-door", "t", 96, "tampered", [0.8, 3]],
  ];
  for (const [attackClass, variant, suffix, bytes, msgId, [lo, hi]] of attacks) {
    // Drawn in the loop, in this order: the replayed digest comes after the injected one's lines.
    const attackDigest = attackClass === "replay" ? log.pick(history) : log.digest();
    yield log.line("attacker", "attack_sent", {
      phase: "insecure",
      class: attackClass,
      variant,
      attack_id: `a${cycle}${suffix}`,
      topic: INSECURE_TOPIC,
      digest: attackDigest,
      bytes,
    });
    const forged: Message = {
      phase: "insecure",
      topic: INSECURE_TOPIC,
      msgId,
      counter: 0,
      digest: attackDigest,
    };
    yield action(log, forged, "open", { latency_ms: log.ms(lo, hi) });
  }
}

/** A round of attacks on Phase II: every class is rejected with its code, refused by the broker, or dropped. */
function* secureAttacks(
  log: LineMaker,
  cycle: number,
  digest: string,
  history: readonly string[],
): Generator<string> {
  yield log.line("attacker", "captured", {
    phase: "secure",
    topic: SECURE_TOPIC,
    digest,
    bytes: 720,
    readable: false,
    fields: ["v", "suite", "sender", "ts", "counter"],
  });
  for (const [attackClass, code] of SECURE_CLASSES) {
    const attackDigest = attackClass.includes("replay") ? log.pick(history) : log.digest();
    const topic = attackClass === "cross-topic-replay" ? CROSS_TOPIC : SECURE_TOPIC;
    yield log.line("attacker", "attack_sent", {
      phase: "secure",
      class: attackClass,
      variant: "default",
      attack_id: `a${cycle}-${attackClass}`,
      topic,
      digest: attackDigest,
      bytes: 700,
    });
    yield rejected(log, topic, code, "synthetic", attackDigest, 700);
  }
  for (const attackClass of ["anonymous-connect", "wrong-password"]) {
    const anonymous = attackClass === "anonymous-connect";
    yield log.line("broker", "auth_failed", {
      client_id: "mallory",
      username: anonymous ? "" : "sensor",
      code: anonymous ? "ANONYMOUS" : "NOT_AUTHORIZED",
    });
    yield log.line("attacker", "attack_refused", {
      phase: "secure",
      class: attackClass,
      variant: "default",
      attack_id: `a${cycle}-${attackClass}`,
      code: "NOT_AUTHORIZED",
    });
  }
  yield log.line("attacker", "attack_sent", {
    phase: "secure",
    class: "acl-violation",
    variant: "publish-as-attacker",
    attack_id: `a${cycle}-acl`,
    topic: SECURE_TOPIC,
    digest: log.digest(),
    bytes: 700,
  });
  yield log.line("broker", "acl_denied", {
    client_id: "mallory",
    username: "attacker",
    topic: SECURE_TOPIC,
    access: "write",
  });
}

/** Percentiles around a mean, in the shape of `timing_result.percentiles_ns`. */
function percentilesNs(mean: number): Record<string, number> {
  return { mean, p05: mean * 0.97, p25: mean * 0.99, p50: mean, p75: mean * 1.01, p95: mean * 1.05 };
}

/** The timing test's results: the leaky comparison leaks and is recovered, the constant-time one is not. */
function* timingResults(log: LineMaker): Generator<string> {
  const comparisons = [
    { fn: "vulnerableEqual", t: 1250.3, leak: true, prefixNs: 17.9, randomNs: 4.2, recovered: 16 },
    { fn: "constantTimeEqual", t: 0.42, leak: false, prefixNs: 24.1, randomNs: 24.1, recovered: 0 },
  ];
  for (const { fn, t, leak, prefixNs, randomNs } of comparisons) {
    yield log.line("timing", "timing_result", {
      function: fn,
      t,
      n: 2700,
      leak,
      threshold: 4.5,
      percentiles_ns: { prefix: percentilesNs(prefixNs), random: percentilesNs(randomNs) },
      calls_per_measurement: 4000,
    });
  }
  const budget = 122880000;
  for (const { fn, recovered } of comparisons) {
    yield log.line("timing", "recovery_result", {
      function: fn,
      target_bytes: 16,
      bytes_recovered: recovered,
      budget,
      // The leaky one is recovered a third of the way into the budget; the other spends all of it.
      queries: recovered > 0 ? 41000000 : budget,
    });
  }
}
