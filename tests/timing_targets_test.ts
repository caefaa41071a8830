import assert from "node:assert/strict";
import { relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { digestForKey, generateKeyPair, importDomainPem, rfc6979Nonces } from "../crypto/dsa.ts";
import { bitLength } from "../crypto/modarith.ts";
import { Log, memoryLogWriter } from "../log/jsonl.ts";
import { combineBatches, resolveTargets, runTiming, TimingTargetError } from "../roles/timing.ts";
import { findNonceClasses, labDsaKeyPair } from "../roles/timing_targets/dsa_sign.ts";
import { DEFAULT_TIMING_TARGETS, TIMING_TARGETS } from "../roles/timing_targets/mod.ts";
import { timingOptionsFromFlags } from "../cli/timing.ts";

function memoryLog() {
  const writer = memoryLogWriter();
  return { writer, log: new Log(writer, { role: "timing", run: "test", clock: { now: () => 0 } }) };
}

Deno.test("the target table has every target of issue 15, and the default is the two compares", () => {
  assert.deepEqual(Object.keys(TIMING_TARGETS), [
    "vulnerable-equal",
    "constant-time-equal",
    "dsa-sign",
    "dsa-sign-unprotected",
    "ed25519-sign",
    "rsa-unwrap",
  ]);
  assert.deepEqual(DEFAULT_TIMING_TARGETS, ["vulnerable-equal", "constant-time-equal"]);
  assert.equal(TIMING_TARGETS["dsa-sign"].expectLeak, false);
  assert.equal(TIMING_TARGETS["dsa-sign-unprotected"].expectLeak, true);
  assert.equal(TIMING_TARGETS["rsa-unwrap"].expectLeak, undefined);
  for (const [name, target] of Object.entries(TIMING_TARGETS)) assert.equal(target.name, name);
});

Deno.test("every target runs with a tiny sample count and logs a well-formed timing_result", async () => {
  const { writer, log } = memoryLog();
  const names = Object.keys(TIMING_TARGETS);
  const report = await runTiming({ targets: names, samples: 12, batches: 3 }, { log });
  assert.deepEqual(report.results.map((r) => r.target), names);
  const logged = writer.records.filter((r) => r.event === "timing_result");
  assert.deepEqual(logged.map((r) => r.target), names);
  for (const r of report.results) {
    assert.equal(r.function, TIMING_TARGETS[r.target].function);
    assert.equal(r.batch_t.length, 3);
    assert.ok(Number.isFinite(r.t) && Number.isFinite(r.t_uncropped), `${r.target} t=${r.t}`);
    assert.ok(r.t_spread.min <= r.t_spread.median && r.t_spread.median <= r.t_spread.max);
    assert.equal(r.t, r.t_spread.median);
    assert.equal(typeof r.leak, "boolean");
    assert.ok(r.n >= 1 && r.n <= 12, `${r.target} n=${r.n}`);
    assert.ok(r.calls_per_measurement >= 1);
    const classes = Object.keys(r.percentiles_ns);
    assert.equal(classes.length, 2, `${r.target} classes ${classes}`);
    for (const c of classes) assert.ok(r.percentiles_ns[c].p50 > 0, `${r.target} ${c} p50`);
  }
  assert.deepEqual(Object.keys(report.results[2].percentiles_ns), ["short", "full"]);
  assert.deepEqual(Object.keys(report.results[5].percentiles_ns), ["valid", "invalid"]);
});

Deno.test("an unknown target name is refused by the role and by the CLI", () => {
  assert.throws(() => resolveTargets({ targets: ["dsa-sign", "nope"] }), TimingTargetError);
  assert.throws(() => timingOptionsFromFlags(["--target", "nope"]), /--target.*nope/);
  assert.throws(() => timingOptionsFromFlags(["--target", ""]), /--target/);
  assert.deepEqual(
    timingOptionsFromFlags(["--target", "dsa-sign,dsa-sign-unprotected"]).options.targets,
    ["dsa-sign", "dsa-sign-unprotected"],
  );
  assert.equal(timingOptionsFromFlags([]).options.targets, undefined);
});

Deno.test("the DSA classes really hold short and full-length RFC 6979 nonces", async () => {
  const { privateKey } = await labDsaKeyPair();
  const { short, full, candidates } = await findNonceClasses(privateKey, 6, 4);
  assert.equal(short.length, 4);
  assert.equal(full.length, 4);
  assert.ok(candidates >= 8);
  const nonceBits = (m: Uint8Array) => bitLength(rfc6979Nonces(privateKey, digestForKey(privateKey, m))());
  for (const m of short) assert.ok(nonceBits(m) <= 256 - 6, `short nonce of ${nonceBits(m)} bits`);
  for (const m of full) assert.equal(nonceBits(m), 256);
  // Same length, so hashing is alike in both classes.
  assert.equal(new Set([...short, ...full].map((m) => m.length)).size, 1);
});

Deno.test("the lab key uses the built-in domain, equal to the fixture domain", async () => {
  const fixture = importDomainPem(
    Deno.readTextFileSync(new URL("./fixtures/dsa2048_256_params.pem", import.meta.url)),
  );
  const { privateKey } = await labDsaKeyPair();
  assert.deepEqual(privateKey.domain, fixture);
  const other = await generateKeyPair(fixture);
  assert.notEqual(other.privateKey.x, privateKey.x);
});

Deno.test("combineBatches: leak only when a strict majority agree in direction; t is the median", () => {
  assert.deepEqual(combineBatches([6, 7, 1, 8, 5], 4.5), {
    t: 6,
    leak: true,
    spread: { min: 1, median: 6, max: 8 },
  });
  // One burst is not a leak.
  assert.equal(combineBatches([9, 0.5, -1, 0, 2], 4.5).leak, false);
  // Two of five is not a majority.
  assert.equal(combineBatches([9, 12, -1, 0, 2], 4.5).leak, false);
  // Negative leaks (class 0 faster) count the same.
  assert.equal(combineBatches([-9, -7, -5, 0, 1], 4.5).leak, true);
  // Large |t| in opposite directions is noise, not a leak.
  assert.equal(combineBatches([9, 8, -9, -8, 0], 4.5).leak, false);
  // Exactly at the threshold is not above it.
  assert.equal(combineBatches([4.5, 4.5, 4.5], 4.5).leak, false);
  assert.equal(combineBatches([5], 4.5).leak, true);
  assert.deepEqual(combineBatches([1, 3], 4.5).spread, { min: 1, median: 2, max: 3 });
  assert.throws(() => combineBatches([], 4.5), RangeError);
});

Deno.test("only the lab (roles/timing_targets, bench, tests) imports the unprotected signer", () => {
  const root = resolve(fileURLToPath(new URL("..", import.meta.url)));
  const allowed = ["roles/timing_targets/", "bench/", "tests/"];
  const offenders: string[] = [];
  const walk = (dir: string) => {
    for (const entry of Deno.readDirSync(dir)) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory && ![".git", ".tools", "node_modules", "out", "dist"].includes(entry.name)) {
        walk(path);
      } else if (entry.isFile && entry.name.endsWith(".ts")) {
        const rel = relative(root, path);
        if (allowed.some((prefix) => rel.startsWith(prefix)) || rel === "crypto/dsa_unprotected.ts") continue;
        if (/dsa_unprotected/.test(Deno.readTextFileSync(path))) offenders.push(rel);
      }
    }
  };
  walk(root);
  assert.deepEqual(offenders, []);
});
