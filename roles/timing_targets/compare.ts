/**
 * The comparison targets: an early-exit compare and a constant-time one (crypto/compare.ts), timed for
 * two classes of wrong guesses against a random secret — `prefix` (the secret with only its last byte
 * changed) and `random` (a random guess whose first byte differs).
 * @module
 */

import { constantTimeEqual, vulnerableEqual } from "../../crypto/compare.ts";
import type { RandomBytes, TimingProbe, TimingTarget } from "./target.ts";

/** A byte-string comparison under test. */
export type CompareFunction = (a: Uint8Array, b: Uint8Array) => boolean;

/** Length of the secret the detection compares against. */
export const DETECTION_SECRET_BYTES = 32;
/** Distinct input arrays per class, cycled so both classes touch memory the same way. */
export const INPUT_POOL_SIZE = 32;
/** Measurements per class per batch by default. */
export const COMPARE_SAMPLES_PER_CLASS = 3000;
/** Unrecorded measurements before recording, so both classes run JIT-optimised code. */
export const COMPARE_WARMUP_MEASUREMENTS = 1500;
/** Measurements above this percentile of the pooled data are cropped before the t-test. */
export const COMPARE_CROP_PERCENTILE = 90;

/** A target that is a compare: the recovery attack (`--recover`) needs the function itself. */
export interface CompareTarget extends TimingTarget {
  compare: CompareFunction;
}

/**
 * A compare as a timing target.
 * @example
 * ```ts
 * const target = compareTarget("my-equal", "myEqual", (a, b) => a.every((x, i) => x === b[i]), true);
 * ```
 */
export function compareTarget(
  name: string,
  functionName: string,
  compare: CompareFunction,
  expectLeak: boolean | undefined,
  summary = `${functionName} (crypto/compare.ts): secret-prefix vs random guesses`,
): CompareTarget {
  return {
    name,
    function: functionName,
    summary,
    expectLeak,
    defaultSamples: COMPARE_SAMPLES_PER_CLASS,
    compare,
    prepare: (randomBytes) => Promise.resolve(compareProbe(compare, randomBytes)),
  };
}

function compareProbe(compare: CompareFunction, randomBytes: RandomBytes): TimingProbe {
  let secret = randomBytes(DETECTION_SECRET_BYTES);
  let pools = inputPools(secret, randomBytes);
  return {
    classes: ["prefix", "random"],
    inputsPerClass: INPUT_POOL_SIZE,
    call: (inClass, input) => compare(secret, pools[inClass][input]) ? 1 : 0,
    renew: () => {
      secret = randomBytes(DETECTION_SECRET_BYTES);
      pools = inputPools(secret, randomBytes);
    },
    async: false,
    warmupMeasurements: COMPARE_WARMUP_MEASUREMENTS,
    cropPercentile: COMPARE_CROP_PERCENTILE,
  };
}

/**
 * Prefix guesses are the secret with its last byte flipped; random guesses differ from it at the first
 * byte. Both classes are wrong guesses on purpose: a caller branches on the result, and a `true` in one
 * class only would show up as a (real, but irrelevant) timing difference in the caller, not in the compare.
 */
function inputPools(secret: Uint8Array, randomBytes: RandomBytes): [Uint8Array[], Uint8Array[]] {
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
  return [prefix, random];
}

/** `vulnerable-equal`: returns at the first differing byte, so it leaks. */
export const VULNERABLE_EQUAL_TARGET: CompareTarget = compareTarget(
  "vulnerable-equal",
  "vulnerableEqual",
  vulnerableEqual,
  true,
  "vulnerableEqual (early exit): secret-prefix vs random guesses — leaks",
);

/** `constant-time-equal`: reads every byte whatever they hold, so it does not leak. */
export const CONSTANT_TIME_EQUAL_TARGET: CompareTarget = compareTarget(
  "constant-time-equal",
  "constantTimeEqual",
  constantTimeEqual,
  false,
  "constantTimeEqual: secret-prefix vs random guesses — does not leak",
);
