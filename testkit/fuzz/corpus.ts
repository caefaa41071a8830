/**
 * The regression corpus in `tests/fixtures/fuzz_corpus/`: one JSON file per input `open()` must refuse with
 * the recorded code. Which cases are kept, and how the files are written and read back.
 * @module
 */

import { fromBase64, toBase64 } from "../../crypto/codec.ts";
import { FIXTURES_DIR } from "../fixtures.ts";
import type { FuzzCase } from "./case.ts";

const enc = new TextEncoder();

/** Where `--save-corpus` writes and `tests/fuzz_test.ts` reads. */
export const FUZZ_CORPUS_DIR: URL = new URL("fuzz_corpus/", FIXTURES_DIR);
/** Most corpus files written by one run. */
export const CORPUS_MAX_FILES = 100;
/** Largest payload stored in the corpus; bigger cases are skipped (another instance of the pair is kept). */
export const CORPUS_MAX_PAYLOAD_BYTES = 16 * 1024;

/** A corpus file's content. */
export interface CorpusEntry {
  topic: string;
  payload_b64: string;
  expect_code: string;
  mutation: string;
  detail: string;
  found: string;
  /** Present when the case exposed a bug: `expect_code` is then the code it should give. */
  failing?: string;
}

/**
 * Keeps `c` as a corpus candidate under its (mutation, code) pair unless that pair has one already; a
 * `failing` case (a bug found) is always kept, under its own name. Payloads over
 * {@link CORPUS_MAX_PAYLOAD_BYTES} are not stored.
 * @example
 * ```ts
 * addCorpusCandidate(report.corpus, c, options.seed, "BAD_SIGNATURE");
 * ```
 */
export function addCorpusCandidate(
  corpus: Map<string, CorpusEntry>,
  c: FuzzCase,
  seed: number,
  code: string,
  failing?: string,
): void {
  if (c.payload.length > CORPUS_MAX_PAYLOAD_BYTES) return;
  const key = failing ? `failing-${c.mutation}-${c.index}` : `${c.mutation}--${code}`.toLowerCase();
  if (corpus.has(key)) return;
  corpus.set(key, {
    topic: c.topic,
    payload_b64: toBase64(c.payload),
    expect_code: code,
    mutation: c.mutation,
    detail: c.detail,
    found: `seed ${seed} case ${c.index}`,
    ...(failing ? { failing } : {}),
  });
}

/** One corpus file as read back. */
export interface CorpusFile {
  readonly name: string;
  readonly entry: CorpusEntry;
  readonly bytes: number;
}

/**
 * Picks at most `max` entries: every failing case, then the first case of each reason code, then of
 * each mutation kind, then the remaining (code, mutation) pairs in the order they were found.
 * @example
 * ```ts
 * const chosen = selectCorpus(report.corpus); // ≤ 100 entries
 * ```
 */
export function selectCorpus(
  entries: Map<string, CorpusEntry>,
  max: number = CORPUS_MAX_FILES,
): Map<string, CorpusEntry> {
  const all = [...entries];
  const chosen = new Map<string, CorpusEntry>(all.filter(([, e]) => e.failing !== undefined));
  const take = (predicate: (entry: CorpusEntry) => boolean, seen: (entry: CorpusEntry) => string) => {
    const covered = new Set([...chosen.values()].map(seen));
    for (const [key, entry] of all) {
      if (chosen.size >= max) return;
      if (chosen.has(key) || !predicate(entry) || covered.has(seen(entry))) continue;
      chosen.set(key, entry);
      covered.add(seen(entry));
    }
  };
  take(() => true, (e) => e.expect_code);
  take(() => true, (e) => e.mutation);
  take(() => true, (e) => `${e.mutation}--${e.expect_code}`);
  return chosen;
}

/**
 * Replaces the corpus's JSON files with `entries` (the README stays).
 * @example
 * ```ts
 * await writeCorpus(report.corpus);
 * ```
 */
export async function writeCorpus(
  entries: Map<string, CorpusEntry>,
  dir: URL = FUZZ_CORPUS_DIR,
): Promise<number> {
  await Deno.mkdir(dir, { recursive: true });
  for await (const file of Deno.readDir(dir)) {
    if (file.isFile && file.name.endsWith(".json")) await Deno.remove(new URL(file.name, dir));
  }
  for (const [key, entry] of entries) {
    const name = key.replace(/[^a-z0-9_-]+/gi, "_") + ".json";
    await Deno.writeTextFile(new URL(name, dir), JSON.stringify(entry, null, 2) + "\n");
  }
  return entries.size;
}

/**
 * Reads every corpus file, sorted by name.
 * @example
 * ```ts
 * for (const { name, entry } of await readCorpus()) console.log(name, entry.expect_code);
 * ```
 */
export async function readCorpus(dir: URL = FUZZ_CORPUS_DIR): Promise<CorpusFile[]> {
  const out: CorpusFile[] = [];
  for await (const file of Deno.readDir(dir)) {
    if (!file.isFile || !file.name.endsWith(".json")) continue;
    const text = await Deno.readTextFile(new URL(file.name, dir));
    out.push({ name: file.name, entry: JSON.parse(text) as CorpusEntry, bytes: enc.encode(text).length });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * A corpus entry's payload bytes.
 * @example
 * ```ts
 * await open(corpusPayload(entry), entry.topic, fuzzOpenDeps(keys));
 * ```
 */
export function corpusPayload(entry: CorpusEntry): Uint8Array {
  return fromBase64(entry.payload_b64);
}
