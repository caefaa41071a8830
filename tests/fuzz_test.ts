import assert from "node:assert/strict";
import { open, REASON_CODES } from "../crypto/envelope.ts";
import { SEED_TOPIC } from "../testkit/fuzz/home.ts";
import {
  CORPUS_MAX_FILES,
  corpusPayload,
  formatReport,
  fuzzFailed,
  fuzzOpenDeps,
  loadFuzzKeys,
  readCorpus,
  runFuzz,
} from "../testkit/fuzz/mod.ts";

const keys = await loadFuzzKeys();
const corpus = await readCorpus();

Deno.test("fuzz corpus: is small and covers every reason code", () => {
  const failing = corpus.filter((f) => f.entry.failing !== undefined).length;
  assert.ok(corpus.length >= 30, `expected at least 30 corpus files, got ${corpus.length}`);
  assert.ok(corpus.length <= CORPUS_MAX_FILES + failing, `expected at most ${CORPUS_MAX_FILES} files`);
  for (const file of corpus) assert.ok(file.bytes < 70_000, `${file.name} is ${file.bytes} bytes`);
  const codes = new Set(corpus.map((f) => f.entry.expect_code));
  for (const code of REASON_CODES) assert.ok(codes.has(code), `no corpus case for ${code}`);
});

for (const file of corpus) {
  Deno.test(`fuzz corpus ${file.name}: open() refuses it as ${file.entry.expect_code}`, async () => {
    const result = await open(corpusPayload(file.entry), file.entry.topic, fuzzOpenDeps(keys));
    assert.equal(result.ok, false, `accepted: ${file.entry.detail}`);
    if (!result.ok) assert.equal(result.code, file.entry.expect_code, result.detail);
  });
}

Deno.test("fuzz: 3 000 cases through open() and the actuator: none accepted, thrown or hung", async () => {
  const report = await runFuzz({ cases: 3_000, seed: 20_240_601, target: "both" });
  assert.equal(report.casesRun, 3_000);
  assert.equal(report.open?.cases, 3_000);
  assert.equal(report.actuator?.cases, 3_000);
  for (const tally of [report.open!, report.actuator!]) {
    assert.equal(tally.accepted, 0, formatReport(report));
    assert.equal(tally.exceptions, 0, formatReport(report));
    assert.equal(tally.hangs, 0, formatReport(report));
    assert.equal(tally.signatureBypasses, 0, formatReport(report));
  }
  // Not deepEqual: a diff of up to 1 000 failures with their payloads grew this process to 23 GiB once.
  assert.equal(report.failures.length, 0, formatReport(report)); // the report lists the first 20
  assert.equal(fuzzFailed(report), false);
  // The run went deep: past the signature (signed cases) and through the actuator's queue bound.
  assert.ok((report.open!.byCode.BAD_CIPHERTEXT ?? 0) > 0);
  assert.ok((report.open!.byCode.BAD_KEY ?? 0) > 0);
  assert.ok((report.actuator!.byCode.OVERLOADED ?? 0) > 0);
  // Only the 12 seeds, delivered before the fuzz cases, were ever acted on.
  assert.equal(report.actuator!.stats.acted, 12);
  assert.equal(report.actuator!.stats.received, 12 + 3_000);
});

Deno.test("fuzz: the oracle catches an open() that ignores the arrival topic", async () => {
  const report = await runFuzz({
    cases: 1_500,
    seed: 5,
    target: "open",
    openImpl: (bytes, _topic, deps) => open(bytes, SEED_TOPIC, deps),
  });
  assert.ok(report.open!.signatureBypasses > 0, formatReport(report));
  assert.equal(fuzzFailed(report), true);
});

Deno.test("fuzz: the oracle counts an open() that throws as an exception, not a rejection", async () => {
  const report = await runFuzz({
    cases: 500,
    seed: 6,
    target: "open",
    openImpl: (bytes, topic, deps) => {
      if (bytes.length > 8192) return Promise.reject(new RangeError("too big"));
      return open(bytes, topic, deps);
    },
  });
  assert.ok(report.open!.exceptions > 0, formatReport(report));
  assert.equal(report.casesRun, 500);
  assert.equal(fuzzFailed(report), true);
});

Deno.test("fuzz: the oracle counts an open() that never answers as a hang, after timing it twice", async () => {
  const report = await runFuzz({
    cases: 300,
    seed: 8,
    target: "open",
    hangMs: 200,
    openImpl: (bytes, topic, deps) => bytes.length > 8192 ? new Promise(() => {}) : open(bytes, topic, deps),
  });
  assert.ok(report.open!.hangs > 0, formatReport(report));
  // Every hang was timed twice; on a loaded machine a few genuine cases may also have needed a second timing.
  assert.ok(report.open!.retimed >= report.open!.hangs);
  assert.equal(report.casesRun, 300);
  assert.equal(fuzzFailed(report), true);
});
