/**
 * Fuzzing of the secure receive path. A genuine home is built in memory (the committed RSA, DSA and
 * Ed25519 keys of `tests/fixtures/envelope_v1/`, a trust list with one DSA, one Ed25519 and one revoked
 * sender), seed envelopes are sealed for both suites over several key epochs and accepted once, so their
 * counters are recorded; then N mutated inputs go through `open()` (crypto/envelope.ts) and/or the Phase II
 * actuator (`startActuator` + `secureOpener` over an in-memory transport). Nothing may be accepted or acted
 * on, nothing may throw, and no case may take longer than {@link FUZZ_HANG_MS}.
 *
 * `bench/fuzz.ts` is the command line that prints a run's figures; `tests/fuzz_test.ts` replays the saved
 * corpus (`tests/fixtures/fuzz_corpus/`) and runs a short fuzz in CI.
 *
 * ```ts
 * const report = await runFuzz({ cases: 3_000, seed: 7, target: "both" });
 * console.log(formatReport(report));
 * ```
 * @module
 */

export {
  buildFuzzHome,
  FUZZ_ACCEPTED_HIGHEST,
  FUZZ_HANG_MS,
  FUZZ_NOW_MS,
  FUZZ_QUEUE_LIMIT,
  FUZZ_SENDER_DSA,
  FUZZ_SENDER_ED,
  FUZZ_SENDER_REVOKED,
  fuzzClock,
  type FuzzHome,
  type FuzzKeys,
  fuzzOpenDeps,
  type FuzzSigner,
  loadFuzzKeys,
  type SeedEnvelope,
} from "./home.ts";
export { FuzzRng } from "./rng.ts";
export type { FuzzCase } from "./case.ts";
export { type FuzzTarget, generateCase, MUTATION_KINDS } from "./kinds.ts";
export type { FuzzFailure, FuzzOptions, FuzzReport, TargetTally } from "./tally.ts";
export { runFuzz } from "./run.ts";
export { formatReport, fuzzFailed } from "./report.ts";
export {
  CORPUS_MAX_FILES,
  CORPUS_MAX_PAYLOAD_BYTES,
  type CorpusEntry,
  type CorpusFile,
  corpusPayload,
  FUZZ_CORPUS_DIR,
  readCorpus,
  selectCorpus,
  writeCorpus,
} from "./corpus.ts";
