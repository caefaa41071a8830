/**
 * What one fuzz case is, and what every mutation is given to build one.
 * @module
 */

import type { FuzzHome, SeedEnvelope } from "./home.ts";
import type { FuzzRng } from "./rng.ts";

/** One fuzz input. */
export interface FuzzCase {
  /** Position in the run, from 0. */
  readonly index: number;
  readonly topic: string;
  readonly payload: Uint8Array;
  /** Mutation kind, e.g. `json-field-remove`. */
  readonly mutation: string;
  /** What exactly was done. */
  readonly detail: string;
  /**
   * Sealed by this fuzzer with a sender's real key, a fresh counter and a correct session key: `open()`
   * may rightly accept it (only its content is hostile), the actuator must still refuse it.
   */
  readonly authentic: boolean;
  /** Signed by this fuzzer: the signature is expected to verify. */
  readonly signed: boolean;
  /** The one code this case must get from `open()`, when the mutation determines it. */
  readonly expect?: string;
}

/** What a mutation builds: a case before the run gives it its index and mutation name. */
export type GeneratedCase = Omit<FuzzCase, "index" | "mutation">;

/** What a mutation is given: the run's randomness, the home, the seed it mutates and a second seed. */
export interface MutationContext {
  readonly rng: FuzzRng;
  readonly home: FuzzHome;
  readonly seed: SeedEnvelope;
  readonly other: SeedEnvelope;
}

/**
 * A case this fuzzer did not sign: its signature must not verify.
 * @example
 * ```ts
 * unsigned(seed.topic, new Uint8Array([0x7b]), "one brace"); // { …, signed: false, authentic: false }
 * ```
 */
export function unsigned(topic: string, payload: Uint8Array, detail: string): GeneratedCase {
  return { topic, payload, detail, authentic: false, signed: false };
}
