/**
 * The timing-attack demonstration. Two parts:
 *
 * - **Detection** (dudect, Reparaz–Balasch–Verbauwhede 2017) of each selected target
 *   (roles/timing_targets/): time the operation for two classes of inputs — for the compares, guesses that
 *   share the secret's prefix vs random guesses; for the signers, messages whose secret nonce is short vs
 *   full length — interleaved in randomly ordered pairs, crop the upper tail, and run Welch's t-test. This
 *   is repeated in {@link DEFAULT_BATCHES} independent batches and the verdict is combined
 *   ({@link combineBatches}): a leak only when most batches agree, so one burst of load on a busy machine
 *   cannot make a constant-time function look leaky.
 * - **Recovery**: use the same measurements as an attacker would, guessing a secret byte by byte and
 *   keeping the candidate that makes the comparison slowest, within a fixed budget of comparison calls
 *   (compare targets only).
 *
 * The role only computes and logs (`timing_result`, `recovery_result`); printing is the CLI's job.
 * @module
 */

import { SecmqttError } from "../core/errors.ts";
import type { Log } from "../log/jsonl.ts";
import { cropAbovePercentile, mean, percentileOfSorted, sortedCopy, welchT } from "../metrics/stats.ts";
import { type CompareFunction, type CompareTarget, compareTarget } from "./timing_targets/compare.ts";
import {
  DEFAULT_TIMING_TARGETS,
  type RandomBytes,
  TIMING_TARGETS,
  type TimingProbe,
  type TimingTarget,
} from "./timing_targets/mod.ts";

export type { CompareFunction };

/** dudect's usual threshold: |t| above 4.5 is a leak with overwhelming confidence. */
export const DEFAULT_T_THRESHOLD = 4.5;
/** Measurements per class per batch for the compares (other targets have their own default). */
export const DEFAULT_SAMPLES_PER_CLASS = 3000;
/** Independent batches per target; odd, so the median is one batch's t. */
export const DEFAULT_BATCHES = 5;
/** Length of the secret the recovery attack guesses. */
export const RECOVERY_SECRET_BYTES = 16;
/** One measurement should last at least this long so the timer's step (~0.1 µs) is noise, not signal. */
export const TARGET_BATCH_NS = 20_000;
/** Bounds on the calls per measurement chosen by calibration. */
export const MIN_CALLS_PER_BATCH = 16;
export const MAX_CALLS_PER_BATCH = 8192;
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

/** Thrown for a target name the table does not have. */
export class TimingTargetError extends SecmqttError {
  /** Stable error code. */
  readonly code = "UNKNOWN_TIMING_TARGET";
  /** Exit-status kind: the name comes from the command line (`--target`). */
  readonly kind = "usage";
  /** @param name the unknown name */
  constructor(name: string) {
    super(`expected one of ${Object.keys(TIMING_TARGETS).join(", ")}, got '${name}'`);
  }
}

/** What to measure. */
export interface TimingOptions {
  /** Measurements kept per class per batch before cropping (default: the target's own). */
  samples?: number;
  /** Independent batches per target (default {@link DEFAULT_BATCHES}). */
  batches?: number;
  /** |t| above this is a leak (default {@link DEFAULT_T_THRESHOLD}). */
  threshold?: number;
  /** Also run the byte-by-byte recovery attack (against the compare targets). */
  recover?: boolean;
  /** Recovery budget in comparison calls per function (default: enough for every byte, see below). */
  recoveryBudget?: number;
  /** `--target` names (default {@link DEFAULT_TIMING_TARGETS}); see roles/timing_targets/mod.ts. */
  targets?: readonly string[];
  /** Compare functions to test instead of named targets (tests use it to plug in their own). */
  functions?: { name: string; fn: CompareFunction }[];
}

/** What the role needs from outside. */
export interface TimingDeps {
  /** Where `timing_result` and `recovery_result` go. */
  log: Log;
  /** A monotonic high-resolution timer in ms (default `performance.now`). */
  now?: () => number;
  /** Fills a new array with random bytes (default `crypto.getRandomValues`). */
  randomBytes?: RandomBytes;
  /** Stops the run between measurements. */
  signal?: AbortSignal;
  /** Told after each batch and each recovery ("dsa-sign: batch 2/5, t = -0.31"), for long runs. */
  progress?: (line: string) => void;
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

/** The spread of one statistic over the batches. */
export interface Spread {
  min: number;
  median: number;
  max: number;
}

/** The verdict for one target. */
export interface TimingResult {
  /** The `--target` name. */
  target: string;
  /** The function measured (`vulnerableEqual`, `constantTimeEqual`, or the target name). */
  function: string;
  /** Welch's t on the cropped measurements (class 0 − class 1): the median over the batches. */
  t: number;
  /** Welch's t on all measurements (median over the batches), for comparison. */
  t_uncropped: number;
  /** min / median / max of the batches' t. */
  t_spread: Spread;
  /** Every batch's t, in order. */
  batch_t: number[];
  /** Measurements kept per class after cropping, in the smallest batch. */
  n: number;
  leak: boolean;
  threshold: number;
  calls_per_measurement: number;
  /** Per class (by name: `prefix`/`random`, `short`/`full`, `valid`/`invalid`), over all batches. */
  percentiles_ns: Record<string, ClassPercentiles>;
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

/**
 * One line that says what a recovery got and, when it is short of the whole secret, why: the budget of
 * comparison calls ran out, or it was stopped.
 * @example
 * ```ts
 * describeRecovery({ function: "vulnerableEqual", target_bytes: 16, bytes_recovered: 16, budget: 1000, queries: 800 });
 * // "vulnerableEqual: 16/16 bytes recovered with 800 of 1000 comparison calls"
 * ```
 */
export function describeRecovery(r: RecoveryResult): string {
  const head = `${r.function}: ${r.bytes_recovered}/${r.target_bytes} bytes recovered`;
  if (r.bytes_recovered >= r.target_bytes) return `${head} with ${r.queries} of ${r.budget} comparison calls`;
  if (r.queries >= r.budget) return `${head}: the budget of ${r.budget} comparison calls ran out first`;
  return `${head}: stopped after ${r.queries} of ${r.budget} comparison calls`;
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
 * The targets a run measures: `functions` (as compare targets) if given, else `targets` by name, else the
 * default two compares. Throws {@link TimingTargetError} for an unknown name.
 * @example
 * ```ts
 * resolveTargets({ targets: ["dsa-sign"] }).map((t) => t.name); // ["dsa-sign"]
 * ```
 */
export function resolveTargets(options: Pick<TimingOptions, "targets" | "functions">): TimingTarget[] {
  if (options.functions) {
    return options.functions.map(({ name, fn }) =>
      compareTarget(
        name,
        name,
        fn,
        name === "vulnerableEqual" ? true : name === "constantTimeEqual" ? false : undefined,
      )
    );
  }
  return (options.targets ?? DEFAULT_TIMING_TARGETS).map((name) => {
    const target = TIMING_TARGETS[name];
    if (target === undefined) throw new TimingTargetError(name);
    return target;
  });
}

/**
 * Combines the batches' t values into one verdict: leak when a strict majority of the batches exceed the
 * threshold **in the same direction** (a real leak has a sign; noise bursts do not agree on one), and the
 * reported t is the median. Pure, so the rule is tested with synthetic values.
 * @example
 * ```ts
 * combineBatches([6, 7, 1, 8, 5], 4.5); // { t: 6, leak: true, spread: { min: 1, median: 6, max: 8 } }
 * combineBatches([9, 0.5, -1, 0, 2], 4.5).leak; // false: one burst is not a leak
 * ```
 */
export function combineBatches(tValues: readonly number[], threshold: number): {
  t: number;
  leak: boolean;
  spread: Spread;
} {
  if (tValues.length === 0) throw new RangeError("expected at least one batch");
  const sorted = [...tValues].sort((a, b) => a - b);
  const median = percentileOfSorted(sorted, 50);
  const above = tValues.filter((t) => t > threshold).length;
  const below = tValues.filter((t) => t < -threshold).length;
  const majority = Math.floor(tValues.length / 2) + 1;
  return {
    t: median,
    leak: above >= majority || below >= majority,
    spread: { min: sorted[0], median, max: sorted[sorted.length - 1] },
  };
}

/**
 * Runs the timing demonstration: a dudect-style leak test of each target in independent batches, and with
 * `recover` the byte-by-byte recovery attack on the compare targets. Logs one `timing_result` (and
 * `recovery_result`) per target.
 * @example
 * ```ts
 * const report = await runTiming({ targets: ["dsa-sign", "dsa-sign-unprotected"] }, { log });
 * report.results.map((r) => `${r.target}: t=${r.t.toFixed(1)} leak=${r.leak}`);
 * ```
 */
export async function runTiming(options: TimingOptions, deps: TimingDeps): Promise<TimingReport> {
  const now = deps.now ?? (() => performance.now());
  const randomBytes = deps.randomBytes ??
    ((length: number) => crypto.getRandomValues(new Uint8Array(length)));
  const threshold = options.threshold ?? DEFAULT_T_THRESHOLD;
  const batches = options.batches ?? DEFAULT_BATCHES;
  if (options.samples !== undefined && !(options.samples >= 10)) {
    throw new RangeError(`samples must be at least 10, got ${options.samples}`);
  }
  if (!(Number.isInteger(batches) && batches >= 1)) {
    throw new RangeError(`batches must be a positive integer, got ${batches}`);
  }
  const targets = resolveTargets(options);

  // Set up and warm every target before measuring any, so JIT tier-ups do not land inside one target's run.
  const probes: TimingProbe[] = [];
  for (const target of targets) probes.push(await target.prepare(randomBytes));
  for (const probe of probes) {
    await measureClasses(probe, probe.warmupMeasurements, probe.callsPerMeasurement ?? 64, now, randomBytes);
  }
  await yieldToEventLoop();

  const results: TimingResult[] = [];
  for (const [i, target] of targets.entries()) {
    if (deps.signal?.aborted) break;
    const probe = probes[i];
    const samples = options.samples ?? target.defaultSamples;
    const calls = probe.callsPerMeasurement ?? calibrateCallsPerBatch(probe, now);
    const runs: BatchMeasurement[] = [];
    for (let b = 0; b < batches && !deps.signal?.aborted; b++) {
      if (b > 0) probe.renew?.();
      const run = await measureClasses(probe, samples * 2, calls, now, randomBytes);
      runs.push(run);
      deps.progress?.(`timing: ${target.name}: batch ${b + 1}/${batches} measured`);
      await yieldToEventLoop();
    }
    if (runs.length === 0) break;
    const result = verdict(target, probe, runs, threshold, calls);
    deps.log.event("timing_result", { ...result });
    results.push(result);
  }

  const recovery: RecoveryResult[] = [];
  if (options.recover) {
    const budget = options.recoveryBudget ?? DEFAULT_RECOVERY_BUDGET;
    const recoverySecret = randomBytes(RECOVERY_SECRET_BYTES);
    for (const target of targets) {
      if (deps.signal?.aborted) break;
      if (!("compare" in target)) continue;
      const fn = (target as CompareTarget).compare;
      const result = {
        function: target.function,
        ...await recoverSecret(fn, recoverySecret, budget, now, deps.signal),
      };
      deps.log.event("recovery_result", { ...result });
      deps.progress?.(`timing: recovery via ${describeRecovery(result)}`);
      recovery.push(result);
    }
  }
  return { results, recovery };
}

/** The calls per measurement that make one (class 1) measurement last about {@link TARGET_BATCH_NS}. */
function calibrateCallsPerBatch(probe: TimingProbe, now: () => number): number {
  const probeCalls = 1024;
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const start = now();
    for (let k = 0; k < probeCalls; k++) sink ^= probe.call(1, 0) as number;
    best = Math.min(best, now() - start);
  }
  const perCallNs = Math.max(best * 1e6 / probeCalls, 0.1);
  return Math.round(
    Math.min(MAX_CALLS_PER_BATCH, Math.max(MIN_CALLS_PER_BATCH, TARGET_BATCH_NS / perCallNs)),
  );
}

// Written after every measurement so the JIT cannot drop the calls being timed.
let sink = 0;

/** ns per call of `calls` calls on one input (awaited inside the timed span for an async probe). */
async function timeCalls(
  probe: TimingProbe,
  inClass: 0 | 1,
  input: number,
  calls: number,
  now: () => number,
) {
  let acc = 0;
  let elapsed: number;
  if (probe.async) {
    const start = now();
    for (let k = 0; k < calls; k++) acc += await probe.call(inClass, input);
    elapsed = now() - start;
  } else {
    const start = now();
    for (let k = 0; k < calls; k++) acc += probe.call(inClass, input) as number;
    elapsed = now() - start;
  }
  sink ^= acc;
  return elapsed * 1e6 / calls;
}

/** One batch's measurements (ns per call), split by class. */
interface BatchMeasurement {
  classes: [Float64Array, Float64Array];
}

/** `count` measurements in randomly ordered pairs of one per class, split by class. */
async function measureClasses(
  probe: TimingProbe,
  count: number,
  calls: number,
  now: () => number,
  randomBytes: RandomBytes,
): Promise<BatchMeasurement> {
  const order = randomBytes(Math.ceil(count / 2));
  const values: [Float64Array, Float64Array] = [new Float64Array(count), new Float64Array(count)];
  const sizes = [0, 0];
  for (let i = 0; i < count; i++) {
    // Classes come in pairs, one of each in random order: slow drift (frequency scaling, other load)
    // then falls on both classes alike instead of on whichever happened to run more during a burst.
    const inClass = ((order[i >> 1] & 1) ^ (i & 1)) as 0 | 1;
    const input = (i >> 1) % probe.inputsPerClass;
    values[inClass][sizes[inClass]++] = await timeCalls(probe, inClass, input, calls, now);
  }
  return { classes: [values[0].subarray(0, sizes[0]), values[1].subarray(0, sizes[1])] };
}

/** Welch's t of one batch, on the cropped and on all measurements, and the kept values. */
function batchStatistics(run: BatchMeasurement, cropPercentile: number) {
  const [a, b] = run.classes;
  // One crop limit for both classes, from the pooled data, so cropping cannot favour either class.
  const pooled = new Float64Array(a.length + b.length);
  pooled.set(a);
  pooled.set(b, a.length);
  const keptA = cropAbovePercentile(a, cropPercentile, pooled);
  const keptB = cropAbovePercentile(b, cropPercentile, pooled);
  // A tiny batch can leave a class with fewer than the two values Welch's t needs (random class order,
  // then cropping): such a batch is no evidence either way, t = 0, never a crash.
  const t = (x: Float64Array, y: Float64Array) => x.length >= 2 && y.length >= 2 ? welchT(x, y).t : 0;
  const tUncropped = t(a, b);
  const tCropped = keptA.length >= 2 && keptB.length >= 2 ? t(keptA, keptB) : tUncropped;
  return { t: tCropped, tUncropped, kept: [keptA, keptB] };
}

function verdict(
  target: TimingTarget,
  probe: TimingProbe,
  runs: BatchMeasurement[],
  threshold: number,
  calls: number,
): TimingResult {
  const stats = runs.map((run) => batchStatistics(run, probe.cropPercentile));
  const combined = combineBatches(stats.map((s) => s.t), threshold);
  const uncropped = percentileOfSorted(sortedCopy(stats.map((s) => s.tUncropped)), 50);
  const percentiles: Record<string, ClassPercentiles> = {};
  for (const c of [0, 1]) {
    percentiles[probe.classes[c]] = classPercentiles(concat(stats.map((s) => s.kept[c])));
  }
  return {
    target: target.name,
    function: target.function,
    t: round(combined.t, 3),
    t_uncropped: round(uncropped, 3),
    t_spread: {
      min: round(combined.spread.min, 3),
      median: round(combined.spread.median, 3),
      max: round(combined.spread.max, 3),
    },
    batch_t: stats.map((s) => round(s.t, 3)),
    n: Math.min(...stats.map((s) => Math.min(s.kept[0].length, s.kept[1].length))),
    leak: combined.leak,
    threshold,
    calls_per_measurement: calls,
    percentiles_ns: percentiles,
  };
}

function concat(parts: Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
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

/** ms taken by `calls` comparisons of one guess (the recovery attack's measurement). */
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
