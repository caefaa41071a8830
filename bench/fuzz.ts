/**
 * `deno run -A bench/fuzz.ts`: fuzzes `open()` and the Phase II actuator with mutated envelopes and prints
 * the tallies. The engine, mutators, signed cases and corpus handling live in `testkit/fuzz/`.
 *
 * ```sh
 * deno run -A bench/fuzz.ts [--cases 100000] [--seed 1] [--target open|actuator|both] [--save-corpus]
 * ```
 *
 * `--save-corpus` replaces the regression corpus in `tests/fixtures/fuzz_corpus/` with this run's picks.
 * Exits 1 if anything was accepted, threw or hung, and 2 on a bad flag.
 * @module
 */

import {
  formatReport,
  FUZZ_CORPUS_DIR,
  fuzzFailed,
  type FuzzOptions,
  type FuzzTarget,
  runFuzz,
  selectCorpus,
  writeCorpus,
} from "../testkit/fuzz/mod.ts";

function parseArgs(args: string[]): FuzzOptions & { saveCorpus: boolean } {
  const options = { cases: 100_000, seed: 1, target: "both" as FuzzTarget, saveCorpus: false };
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i].split("=", 2);
    const value = () => inline ?? args[++i];
    switch (flag) {
      case "--cases":
        options.cases = Number(value());
        break;
      case "--seed":
        options.seed = Number(value());
        break;
      case "--target":
        options.target = value() as FuzzTarget;
        break;
      case "--save-corpus":
        options.saveCorpus = true;
        break;
      default:
        throw new Error(
          `unknown flag ${args[i]}; expected --cases N, --seed S, --target open|actuator|both, --save-corpus`,
        );
    }
  }
  if (!Number.isSafeInteger(options.cases) || options.cases < 0) throw new Error("--cases expects a count");
  if (!Number.isSafeInteger(options.seed)) throw new Error("--seed expects an integer");
  if (!["open", "actuator", "both"].includes(options.target)) {
    throw new Error("--target expects open|actuator|both");
  }
  return options;
}

async function main(args: string[]): Promise<number> {
  let options: ReturnType<typeof parseArgs>;
  try {
    options = parseArgs(args);
  } catch (error) {
    // Bad flags: one line, exit 2, as the secmqtt commands do.
    console.error(`fuzz: ${error instanceof Error ? error.message : error}`);
    return 2;
  }
  const report = await runFuzz({
    ...options,
    collectCorpus: options.saveCorpus,
    onProgress: (done, ms) => console.error(`  ${done} cases, ${Math.round(done / (ms / 1000))} cases/s`),
  });
  console.log(formatReport(report));
  if (options.saveCorpus) {
    const written = await writeCorpus(selectCorpus(report.corpus));
    console.log(
      `corpus: ${written} of ${report.corpus.size} (code, mutation) pairs written to ${FUZZ_CORPUS_DIR.pathname}`,
    );
  }
  return fuzzFailed(report) ? 1 : 0;
}

if (import.meta.main) Deno.exitCode = await main(Deno.args);
