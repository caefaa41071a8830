/**
 * What a fuzz run counts and reports: per-target tallies, the failures, and the run's options.
 * @module
 */

import type { OpenDeps, OpenResult } from "../../crypto/envelope.ts";
import type { ActuatorStats } from "../../roles/actuator.ts";
import type { FuzzCase } from "./case.ts";
import type { CorpusEntry } from "./corpus.ts";
import type { FuzzTarget } from "./kinds.ts";

/** Outcome counts of one target. */
export interface TargetTally {
  cases: number;
  rejected: number;
  /** Refused only through `act`/`ok`, never allowed: must stay 0. */
  accepted: number;
  exceptions: number;
  hangs: number;
  /** An altered, unsigned input that got past the signature check (REPLAY or later): must stay 0. */
  signatureBypasses: number;
  /** `open()` said ok to an envelope this fuzzer sealed with a real key (content-only hostility). */
  authenticOk: number;
  /**
   * A code other than the one the mutation determines (signed cases, verbatim replays), or, for the
   * actuator, a verdict that disagrees with `open()`'s on the same single case: must stay 0.
   */
  unexpectedCodes: number;
  /** The slowest case, ms. */
  slowestMs: number;
  /**
   * Cases over the time limit that were timed again before being called hangs (on a loaded machine a
   * stall can be the scheduler's); a case is a hang only if the second run is over the limit too.
   */
  retimed: number;
  byCode: Record<string, number>;
}

/** A case that broke a rule. */
export interface FuzzFailure {
  readonly target: "open" | "actuator";
  readonly kind: "accepted" | "exception" | "hang" | "signature-bypass" | "unexpected-code" | "stats";
  readonly case?: FuzzCase;
  readonly message: string;
}

/** Options of {@link runFuzz}. */
export interface FuzzOptions {
  cases: number;
  seed: number;
  target: FuzzTarget;
  /** Keep corpus candidates (first case per (code, mutation), plus failures). */
  collectCorpus?: boolean;
  /** Per-case time limit, default {@link FUZZ_HANG_MS}. */
  hangMs?: number;
  /** The `open()` under test (default the real one); tests swap in a broken one to check the oracle. */
  openImpl?: (bytes: Uint8Array, topic: string, deps: OpenDeps) => Promise<OpenResult>;
  /** Called every `progressEvery` cases. */
  onProgress?: (done: number, elapsedMs: number) => void;
  progressEvery?: number;
}

/** What a run found. */
export interface FuzzReport {
  readonly options: FuzzOptions;
  casesRun: number;
  elapsedMs: number;
  open?: TargetTally;
  actuator?: TargetTally & { stats: ActuatorStats; restarts: number; bursts: number };
  byMutation: Record<string, number>;
  failures: FuzzFailure[];
  corpus: Map<string, CorpusEntry>;
  /** Unhandled promise rejections seen while running. */
  unhandled: number;
}

/**
 * A tally with every count at zero.
 * @example
 * ```ts
 * const tally = newTally(); // tally.cases === 0
 * ```
 */
export function newTally(): TargetTally {
  return {
    cases: 0,
    rejected: 0,
    accepted: 0,
    exceptions: 0,
    hangs: 0,
    signatureBypasses: 0,
    authenticOk: 0,
    unexpectedCodes: 0,
    slowestMs: 0,
    retimed: 0,
    byCode: {},
  };
}
