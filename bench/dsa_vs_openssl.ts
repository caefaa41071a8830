/**
 * `deno run -A bench/dsa_vs_openssl.ts [iterations]`: times our DSA-2048/256 sign and verify
 * (median of many runs) against `openssl speed -seconds 3 dsa2048` on the same machine and prints
 * the time ratios ours/OpenSSL. The target is verify within 4× of OpenSSL.
 *
 * Note: `openssl speed dsa2048` uses its built-in 2048-bit key with a 160-bit q (apps/testdsa.h),
 * so its exponents are 160 bits where ours are 256: the ratio is conservative for us.
 * @module
 */

import {
  decodeSignatureDer,
  digestForKey,
  generateKeyPair,
  sign,
  verify,
  verifyDigest,
} from "../crypto/dsa.ts";
import { fixtureDsaDomain } from "../testkit/fixtures.ts";

const iterations = Number(Deno.args[0] ?? 2000);
const domain = fixtureDsaDomain(256);
const { publicKey, privateKey } = await generateKeyPair(domain);

/** Median time of one call in microseconds, after a warm-up of a tenth of the runs. */
function medianMicros(runs: number, fn: (i: number) => void): number {
  for (let i = 0; i < Math.ceil(runs / 10); i++) fn(i);
  const samples = new Float64Array(runs);
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    fn(i);
    samples[i] = performance.now() - start;
  }
  samples.sort();
  return samples[Math.floor(runs / 2)] * 1000;
}

const messages = Array.from({ length: 64 }, (_, i) => new TextEncoder().encode(`sensor/42 reading #${i}`));
const signatures = messages.map((m) => sign(privateKey, m));

const ourSign = medianMicros(iterations, (i) => void sign(privateKey, messages[i % 64]));
const ourVerify = medianMicros(iterations, (i) => {
  if (!verify(publicKey, messages[i % 64], signatures[i % 64])) throw new Error("verification failed");
});
const coldRuns = Math.max(50, Math.floor(iterations / 10));
const ourVerifyFirstUse = medianMicros(coldRuns, (i) => {
  const key = { ...publicKey }; // a new key object: y is validated and no y table exists yet
  const m = messages[i % 64];
  if (!verifyDigest(key, digestForKey(key, m), decodeSignatureDer(signatures[i % 64]))) {
    throw new Error("verification failed");
  }
});

const speed = await new Deno.Command("openssl", {
  args: ["speed", "-seconds", "3", "dsa2048"],
  stdout: "piped",
  stderr: "piped",
}).output();
const speedText = new TextDecoder().decode(speed.stdout);
// e.g. "dsa 2048 bits 0.000182s 0.000165s   5503.5   6046.5"
const row = /^dsa\s+2048 bits\s+([\d.]+)s\s+([\d.]+)s\s+([\d.]+)\s+([\d.]+)/m.exec(speedText);
if (!speed.success || row === null) {
  console.error(new TextDecoder().decode(speed.stderr));
  throw new Error("could not run or parse `openssl speed -seconds 3 dsa2048`");
}
const opensslSign = Number(row[1]) * 1e6;
const opensslVerify = Number(row[2]) * 1e6;

const line = (name: string, ours: number, theirs: number) =>
  `| ${name.padEnd(34)} | ${ours.toFixed(1).padStart(10)} | ${(1e6 / ours).toFixed(0).padStart(8)} | ` +
  `${theirs.toFixed(1).padStart(12)} | ${(1e6 / theirs).toFixed(0).padStart(10)} | ${
    (ours / theirs).toFixed(2).padStart(9)
  }× |`;

console.log(
  `DSA-2048/256, ${iterations} iterations (median), Deno ${Deno.version.deno}, V8 ${Deno.version.v8}`,
);
console.log(
  `OpenSSL: ${
    speedText.match(/^version: .*$/m)?.[0] ?? "unknown version"
  } (openssl speed dsa2048: q of 160 bits)`,
);
console.log(
  "| operation                          |  ours (µs) |   ours/s | OpenSSL (µs) | OpenSSL/s  | ours/OSSL  |",
);
console.log(
  "| ---------------------------------- | ---------- | -------- | ------------ | ---------- | ---------- |",
);
console.log(line("sign", ourSign, opensslSign));
console.log(line("verify (known key)", ourVerify, opensslVerify));
console.log(line("verify (first use of a key object)", ourVerifyFirstUse, opensslVerify));
const ratio = ourVerify / opensslVerify;
console.log(
  `verify target (within 4× of OpenSSL): ${ratio <= 4 ? "met" : "NOT met"} at ${ratio.toFixed(2)}×`,
);
