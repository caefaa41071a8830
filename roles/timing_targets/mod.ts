/**
 * The table of timing targets `secmqtt timing --target` knows, and the default selection.
 * @module
 */

import { CONSTANT_TIME_EQUAL_TARGET, VULNERABLE_EQUAL_TARGET } from "./compare.ts";
import { DSA_SIGN_TARGET, DSA_SIGN_UNPROTECTED_TARGET } from "./dsa_sign.ts";
import type { TimingTarget } from "./target.ts";
import { ED25519_SIGN_TARGET, RSA_UNWRAP_TARGET } from "./webcrypto.ts";

export type { CompareFunction, CompareTarget } from "./compare.ts";
export { compareTarget } from "./compare.ts";
export type { RandomBytes, TimingProbe, TimingTarget } from "./target.ts";

/**
 * Every target by `--target` name, in the order the help lists them.
 * @example
 * ```ts
 * TIMING_TARGETS["dsa-sign"].expectLeak; // false
 * ```
 */
export const TIMING_TARGETS: Readonly<Record<string, TimingTarget>> = Object.fromEntries(
  [
    VULNERABLE_EQUAL_TARGET,
    CONSTANT_TIME_EQUAL_TARGET,
    DSA_SIGN_TARGET,
    DSA_SIGN_UNPROTECTED_TARGET,
    ED25519_SIGN_TARGET,
    RSA_UNWRAP_TARGET,
  ].map((target) => [target.name, target]),
);

/** What `timing` measures without `--target`: the two compares, as before targets existed. */
export const DEFAULT_TIMING_TARGETS: readonly string[] = [
  VULNERABLE_EQUAL_TARGET.name,
  CONSTANT_TIME_EQUAL_TARGET.name,
];
