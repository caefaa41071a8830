/**
 * The timing-attack demonstration. Two parts:
 *
 * - **Detection** (dudect, Reparaz–Balasch–Verbauwhede 2017): time a comparison against a fixed random
 *   secret for two classes of guesses — `prefix` (the secret with only its last byte changed) and `random`
 *   (a random guess whose first byte differs) — interleaved in random order, many calls per measurement to beat the timer's
 *   resolution, crop the upper tail, and run Welch's t-test. |t| above the threshold means the running
 *   time depends on the data: a leak.
 * - **Recovery**: use the same measurements as an attacker would, guessing a secret byte by byte and
 *   keeping the candidate that makes the comparison slowest, within a fixed budget of comparison calls.
 *
 * The role only computes and logs (`timing_result`, `recovery_result`); printing is the CLI's job.
 * @module
 */

import { constantTimeEqual, vulnerableEqual } from "../crypto/compare.ts";
import type { Log } from "../log/jsonl.ts";
import { cropAbovePercentile, mean, percentileOfSorted, sortedCopy, welchT } from "../metrics/stats.ts";

/** A byte-string comparison under test. */
export type CompareFunction = (a: Uint8Array, b: Uint8Array) => boolean;

/** dudect's usual threshold: |t| above 4.5 is a leak with overwhelming confidence. */
export const DEFAULT_T_THRESHOLD = 4.5;
/** Measurements per class by default: a couple of seconds for both functions together. */
export const DEFAULT_SAMPLES_PER_CLASS = 3000;
/** Length of the secret the detection compares against. */
export const DETECTION_SECRET_BYTES = 32;
/** Length of the secret the recovery attack guesses. */
export const RECOVERY_SECRET_BYTES = 16;
/** Measurements above this percentile of the pooled data are cropped before the t-test. */
export const CROP_PERCENTILE = 90;
/** One measurement should last at least this long so the timer's step (~0.1 µs) is noise, not signal. */
export const TARGET_BATCH_NS = 20_000;
/** Bounds on the calls per measurement chosen by calibration. */
export const MIN_CALLS_PER_BATCH = 16;
export const MAX_CALLS_PER_BATCH = 8192;
/** Distinct input arrays per class, cycled so both classes touch memory the same way. */
export const INPUT_POOL_SIZE = 32;
/** Unrecorded measurements per function before recording, so both classes run JIT-optimised code. */
export const WARMUP_MEASUREMENTS = 1500;
/** Measurement rounds over all 256 candidates before the recovery attack first tries to decide a byte. */
export const RECOVERY_MIN_ROUNDS = 5;
/** Rounds after which an undecided byte is taken as a sign that the previous byte was wrong. */
export const RECOVERY_MAX_ROUNDS = 15;
/** Calls per measurement in the recovery attack. */
export const RECOVERY_CALLS_PER_BATCH = 1000;
/**
 * A candidate is taken when its median time exceeds the median of all candidates by this many robust
 * standard deviations (1.4826 × MAD) of the candidates' medians: with 256 candidates, chance alone rarely
 * passes 6.
 */
export const RECOVERY_DECISION_Z = 6;

/** What to measure. */
export interface TimingOptions {
  /** Measurements kept per class before cropping (default {@link DEFAULT_SAMPLES_PER_CLASS}). */
  samples?: number;
  /** |t| above this is a leak (default {@link DEFAULT_T_THRESHOLD}). */
  threshold?: number;
  /** Also run the byte-by-byte recovery attack. */
  recover?: boolean;
  /** Recovery budget in comparison calls per function (default: enough for every byte, see below). */
  recoveryBudget?: number;
  /** The functions to test (default: `vulnerableEqual` and `constantTimeEqual` from crypto/compare.ts). */
  functions?: { name: string; fn: CompareFunction }[];
}

/** What the role needs from outside. */
export interface TimingDeps {
  /** Where `timing_result` and `recovery_result` go. */
  log: Log;
  /** A monotonic high-resolution timer in ms (default `performance.now`). */
  now?: () => number;
  /** Fills a new array with random bytes (default `crypto.getRandomValues`). */
  randomBytes?: (length: number) => Uint8Array;
  /** Stops the run between measurements. */
  signal?: AbortSignal;
}

/** Percentiles (ns per call) of one class's kept measurements. */
export interface ClassPercentiles {
  mean: number;
  p05: number;
  p25: number;
  p50: number;
  p75: number;
  p95: number;
}

/** The verdict for one function. */
export interface TimingResult {
  function: string;
  /** Welch's t on the cropped measurements (prefix − random). */
  t: number;
  /** Welch's t on all measurements, for comparison. */
  t_uncropped: number;
  /** Measurements kept per class after cropping (the smaller of the two). */
  n: number;
  leak: boolean;
  threshold: number;
  calls_per_measurement: number;
  percentiles_ns: { prefix: ClassPercentiles; random: ClassPercentiles };
}

/** The outcome of the recovery attack against one function. */
export interface RecoveryResult {
  function: string;
  target_bytes: number;
  /** Length of the correctly recovered prefix (bytes after the first wrong guess do not count). */
  bytes_recovered: number;
  budget: number;
  /** Comparison calls actually made. */
  queries: number;
}

/** Everything one run measured. */
export interface TimingReport {
  results: TimingResult[];
  recovery: RecoveryResult[];
}

/**
 * The default recovery budget in comparison calls: every byte decided (twice, to confirm) at the latest
 * round. Against a leaky compare the attack usually needs a fraction of it.
 */
export const DEFAULT_RECOVERY_BUDGET = 2 * RECOVERY_SECRET_BYTES * 256 * RECOVERY_MAX_ROUNDS *
  RECOVERY_CALLS_PER_BATCH;

/**
 * Runs the timing demonstration: a dudect-style leak test of each function, and with `recover` the
 * byte-by-byte recovery attack. Logs one `timing_result` (and `recovery_result`) per function.
 * @example
 * ```ts
 * const report = await runTiming({ samples: 2000 }, { log });
 * report.results.map((r) => `${r.function}: t=${r.t.toFixed(1)} leak=${r.leak}`);
 * ```
 */
export async function runTiming(options: TimingOptions, deps: TimingDeps): Promise<TimingReport> {
  const now = deps.now ?? (() => performance.now());
  const randomBytes = deps.randomBytes ??
    ((length: number) => crypto.getRandomValues(new Uint8Array(length)));
  const samples = options.samples ?? DEFAULT_SAMPLES_PER_CLASS;
  const threshold = options.threshold ?? DEFAULT_T_THRESHOLD;
  const functions = options.functions ??
    [{ name: "vulnerableEqual", fn: vulnerableEqual }, { name: "constantTimeEqual", fn: constantTimeEqual }];
  if (!(samples >= 10)) throw new RangeError(`samples must be at least 10, got ${samples}`);

  // Warm every function before measuring any, so JIT tier-ups do not land inside one function's run.
  const secret = randomBytes(DETECTION_SECRET_BYTES);
  const pools = inputPools(secret, randomBytes);
  for (const { fn } of functions) {
    measureClasses(fn, secret, pools, WARMUP_MEASUREMENTS, 64, now, randomBytes);
  }
  await yieldToEventLoop();

  const results: TimingResult[] = [];
  for (const { name, fn } of functions) {
    if (deps.signal?.aborted) break;
    const calls = calibrateCallsPerBatch(fn, secret, pools.random[0], now);
    const { prefix, random } = measureClasses(fn, secret, pools, samples * 2, calls, now, randomBytes);
    const result = verdict(name, prefix, random, threshold, calls);
    deps.log.event("timing_result", { ...result });
    results.push(result);
    await yieldToEventLoop();
  }

  const recovery: RecoveryResult[] = [];
  if (options.recover) {
    const budget = options.recoveryBudget ?? DEFAULT_RECOVERY_BUDGET;
    const recoverySecret = randomBytes(RECOVERY_SECRET_BYTES);
    for (const { name, fn } of functions) {
      if (deps.signal?.aborted) break;
      const result = { function: name, ...await recoverSecret(fn, recoverySecret, budget, now, deps.signal) };
      deps.log.event("recovery_result", { ...result });
      recovery.push(result);
    }
  }
  return { results, recovery };
}

interface InputPools {
  prefix: Uint8Array[];
  random: Uint8Array[];
}

/**
 * Prefix guesses are the secret with its last byte flipped; random guesses differ from it at the first
 * byte. Both classes are wrong guesses on purpose: a caller branches on the result, and a `true` in one
 * class only would show up as a (real, but irrelevant) timing difference in the caller, not in the compare.
 */
function inputPools(secret: Uint8Array, randomBytes: (n: number) => Uint8Array): InputPools {
  const prefix: Uint8Array[] = [];
  const random: Uint8Array[] = [];
  for (let i = 0; i < INPUT_POOL_SIZE; i++) {
    // Both arrays allocated the same way, one after the other, so neither class gets "nicer" memory.
    const guess = new Uint8Array(secret.length);
    const other = new Uint8Array(secret.length);
    guess.set(secret);
    guess[guess.length - 1] ^= 0x01;
    other.set(randomBytes(secret.length));
    if (other[0] === secret[0]) other[0] ^= 0x80;
    prefix.push(guess);
    random.push(other);
  }
  return { prefix, random };
}

/** The calls per measurement that make one (fast-class) measurement last about {@link TARGET_BATCH_NS}. */
function calibrateCallsPerBatch(
  fn: CompareFunction,
  secret: Uint8Array,
  guess: Uint8Array,
  now: () => number,
): number {
  const probeCalls = 1024;
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    best = Math.min(best, timeBatch(fn, secret, guess, probeCalls, now));
  }
  const perCallNs = Math.max(best * 1e6 / probeCalls, 0.1);
  return Math.round(
    Math.min(MAX_CALLS_PER_BATCH, Math.max(MIN_CALLS_PER_BATCH, TARGET_BATCH_NS / perCallNs)),
  );
}

// Written after every batch so the JIT cannot drop the calls being timed.
let sink = 0;

/** ms taken by `calls` comparisons of one guess. */
function timeBatch(
  fn: CompareFunction,
  secret: Uint8Array,
  guess: Uint8Array,
  calls: number,
  now: () => number,
) {
  let matches = 0;
  const start = now();
  for (let k = 0; k < calls; k++) matches += fn(secret, guess) ? 1 : 0;
  const elapsed = now() - start;
  sink ^= matches;
  return elapsed;
}

/** `count` measurements (ns per call) in randomly ordered pairs of one per class, split by class. */
function measureClasses(
  fn: CompareFunction,
  secret: Uint8Array,
  pools: InputPools,
  count: number,
  calls: number,
  now: () => number,
  randomBytes: (n: number) => Uint8Array,
): { prefix: Float64Array; random: Float64Array } {
  const classes = randomBytes(Math.ceil(count / 2));
  const prefix = new Float64Array(count);
  const random = new Float64Array(count);
  let nPrefix = 0;
  let nRandom = 0;
  for (let i = 0; i < count; i++) {
    // Classes come in pairs, one of each in random order: slow drift (frequency scaling, other load)
    // then falls on both classes alike instead of on whichever happened to run more during a burst.
    const isPrefix = ((classes[i >> 1] & 1) ^ (i & 1)) === 1;
    const guess = (isPrefix ? pools.prefix : pools.random)[i % INPUT_POOL_SIZE];
    const ns = timeBatch(fn, secret, guess, calls, now) * 1e6 / calls;
    if (isPrefix) prefix[nPrefix++] = ns;
    else random[nRandom++] = ns;
  }
  return { prefix: prefix.subarray(0, nPrefix), random: random.subarray(0, nRandom) };
}

function verdict(
  name: string,
  prefix: Float64Array,
  random: Float64Array,
  threshold: number,
  calls: number,
): TimingResult {
  // One crop limit for both classes, from the pooled data, so cropping cannot favour either class.
  const pooled = new Float64Array(prefix.length + random.length);
  pooled.set(prefix);
  pooled.set(random, prefix.length);
  const keptPrefix = cropAbovePercentile(prefix, CROP_PERCENTILE, pooled);
  const keptRandom = cropAbovePercentile(random, CROP_PERCENTILE, pooled);
  const t = welchT(keptPrefix, keptRandom).t;
  return {
    function: name,
    t: round(t, 3),
    t_uncropped: round(welchT(prefix, random).t, 3),
    n: Math.min(keptPrefix.length, keptRandom.length),
    leak: Math.abs(t) > threshold,
    threshold,
    calls_per_measurement: calls,
    percentiles_ns: { prefix: classPercentiles(keptPrefix), random: classPercentiles(keptRandom) },
  };
}

function classPercentiles(values: Float64Array): ClassPercentiles {
  const sorted = sortedCopy(values);
  return {
    mean: round(mean(sorted), 3),
    p05: round(percentileOfSorted(sorted, 5), 3),
    p25: round(percentileOfSorted(sorted, 25), 3),
    p50: round(percentileOfSorted(sorted, 50), 3),
    p75: round(percentileOfSorted(sorted, 75), 3),
    p95: round(percentileOfSorted(sorted, 95), 3),
  };
}

/**
 * Byte-by-byte recovery: for each position, time every candidate byte (rest of the guess zero) in shuffled
 * rounds and take the candidate whose time stands out — against an early-exit compare it is the one that
 * matched one byte more. A byte is accepted only when two independent sets of rounds pick the same
 * candidate; a position where nothing stands out means the previous byte was wrong, so the attack steps
 * back. The last byte has no later byte to time: it is found from the comparison's own answer, as an
 * attacker sees a forged value accepted. Everything stops when the budget of comparison calls is spent.
 */
async function recoverSecret(
  fn: CompareFunction,
  secret: Uint8Array,
  budget: number,
  now: () => number,
  signal: AbortSignal | undefined,
): Promise<Omit<RecoveryResult, "function">> {
  const guess = new Uint8Array(secret.length);
  const order = Uint8Array.from({ length: 256 }, (_, i) => i);
  const times = Array.from({ length: RECOVERY_MAX_ROUNDS }, () => new Float64Array(256));
  const roundCost = 256 * RECOVERY_CALLS_PER_BATCH;
  let queries = 0;
  let position = 0;

  /** Rounds over all candidates at `position` until one stands out: that candidate, or -1. */
  const decide = (): number => {
    for (let round = 0; round < RECOVERY_MAX_ROUNDS; round++) {
      if (queries + roundCost > budget) return -1;
      shuffle(order);
      for (const candidate of order) {
        guess[position] = candidate;
        times[round][candidate] = timeBatch(fn, secret, guess, RECOVERY_CALLS_PER_BATCH, now);
      }
      queries += roundCost;
      // Each round relative to its own median, so drift between rounds (frequency, load) cancels.
      const roundMedian = percentileOfSorted(sortedCopy(times[round]), 50);
      for (let candidate = 0; candidate < 256; candidate++) times[round][candidate] /= roundMedian;
      if (round + 1 >= RECOVERY_MIN_ROUNDS) {
        const found = standoutCandidate(times.slice(0, round + 1));
        if (found >= 0) return found;
      }
    }
    return -1;
  };

  while (position < secret.length - 1 && queries + roundCost <= budget && !signal?.aborted) {
    const first = decide();
    await yieldToEventLoop();
    if (first < 0) {
      // Nothing stands out: the byte before was wrong, so every candidate here takes the same time.
      if (queries + roundCost <= budget) position = Math.max(0, position - 1);
      continue;
    }
    if (decide() === first) guess[position++] = first;
  }
  if (position === secret.length - 1 && queries + 256 <= budget) {
    for (let candidate = 0; candidate < 256; candidate++) {
      guess[position] = candidate;
      queries++;
      if (fn(secret, guess)) {
        position++;
        break;
      }
    }
  }
  let recovered = 0;
  while (recovered < position && guess[recovered] === secret[recovered]) recovered++;
  return { target_bytes: secret.length, bytes_recovered: recovered, budget, queries };
}

/**
 * The candidate whose median (normalised) time over the rounds stands out from all others by
 * {@link RECOVERY_DECISION_Z} robust standard deviations, or -1 if none does.
 */
function standoutCandidate(rounds: Float64Array[]): number {
  const scores = new Float64Array(256);
  const column = new Float64Array(rounds.length);
  for (let candidate = 0; candidate < 256; candidate++) {
    for (let r = 0; r < rounds.length; r++) column[r] = rounds[r][candidate];
    scores[candidate] = percentileOfSorted(sortedCopy(column), 50);
  }
  const center = percentileOfSorted(sortedCopy(scores), 50);
  const mad = percentileOfSorted(sortedCopy(scores.map((x) => Math.abs(x - center))), 50);
  const spread = Math.max(1.4826 * mad, 1e-12);
  let best = 0;
  for (let candidate = 1; candidate < 256; candidate++) {
    if (scores[candidate] > scores[best]) best = candidate;
  }
  return (scores[best] - center) / spread >= RECOVERY_DECISION_Z ? best : -1;
}

/** Fisher–Yates with Math.random: the order only has to be unpredictable to the CPU, not to an adversary. */
function shuffle(values: Uint8Array): void {
  for (let i = values.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [values[i], values[j]] = [values[j], values[i]];
  }
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Number.isFinite(x) ? Math.round(x * f) / f : x;
}

/** Lets signal handlers and other tasks run between long synchronous measurement loops. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
