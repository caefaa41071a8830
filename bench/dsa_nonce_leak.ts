/**
 * `deno run -A bench/dsa_nonce_leak.ts [messages] [repeats] [zero-bits]`: what a timing attacker learns about
 * the nonces of our DSA signatures. The first step of a Minerva-style key recovery is to pick, from time
 * alone, the signatures whose nonce k is short (here: at least `zero-bits` leading zero bits, default 4,
 * i.e. 1 signature in 16); a lattice then needs only those few to find the key. This bench does that
 * first step against both signers and scores it against the truth:
 *
 * - every message is signed `repeats` times by each signer (RFC 6979 makes repeats identical, so an
 *   attacker who can have one message signed again gets the same k), in random interleaved order, and the
 *   attacker keeps the fastest time per message;
 * - the attacker knows the base rate and calls the fastest (base rate × messages) signatures "short";
 * - precision = short among those called short, recall = called short among the truly short. Chance is
 *   precision = recall = base rate.
 *
 * Also printed: the median time per nonce bit length. Against crypto/dsa_unprotected.ts it falls with each
 * missing bit; against the shipped signer (crypto/dsa.ts) it is flat and the attacker is at chance.
 * @module
 */

import { digestForKey, type DsaPrivateKey, rfc6979Nonces, sign } from "../crypto/dsa.ts";
import { signUnprotected } from "../crypto/dsa_unprotected.ts";
import { bitLength } from "../crypto/modarith.ts";
import { labDsaKeyPair, labMessage } from "../roles/timing_targets/dsa_sign.ts";

const messageCount = Number(Deno.args[0] ?? 2000);
const repeats = Number(Deno.args[1] ?? 3);
const zeroBits = Number(Deno.args[2] ?? 4);

const { privateKey } = await labDsaKeyPair();
const qBits = bitLength(privateKey.domain.q);
const messages = Array.from({ length: messageCount }, (_, i) => labMessage(1_000_000 + i));
const nonceBits = messages.map((m) => bitLength(rfc6979Nonces(privateKey, digestForKey(privateKey, m))()));
const isShort = nonceBits.map((bits) => bits <= qBits - zeroBits);

const signers: [string, (key: DsaPrivateKey, message: Uint8Array) => Uint8Array][] = [
  ["shipped (crypto/dsa.ts)", sign],
  ["unprotected (lab baseline)", signUnprotected],
];
const fastest = signers.map(() => new Float64Array(messageCount).fill(Infinity));

// Warm both signers up so neither is timed in the interpreter.
for (let i = 0; i < 200; i++) {
  for (const [, signer] of signers) signer(privateKey, messages[i % messageCount]);
}

for (let round = 0; round < repeats; round++) {
  const order = Array.from({ length: messageCount }, (_, i) => i).sort(() => Math.random() - 0.5);
  for (const i of order) {
    // Both signers on the same message back to back, in random order: load falls on both alike.
    const first = Math.random() < 0.5 ? 0 : 1;
    for (const s of [first, 1 - first]) {
      const start = performance.now();
      signers[s][1](privateKey, messages[i]);
      fastest[s][i] = Math.min(fastest[s][i], (performance.now() - start) * 1000);
    }
  }
  await new Promise((resolve) => setTimeout(resolve, 0));
}

const truePositives = isShort.filter(Boolean).length;
const baseRate = truePositives / messageCount;
const predicted = Math.max(1, Math.round(baseRate * messageCount));

console.log(
  `DSA-2048/256 nonce-length attack from timing: ${messageCount} messages, fastest of ${repeats} timings each, ` +
    `"short" = k below 2^${qBits - zeroBits} (${truePositives} of ${messageCount}, base rate ${
      (100 * baseRate).toFixed(1)
    } %)`,
);
console.log(
  "| signer                     | precision | recall | lift over chance | median µs by nonce bits (256 / 255 / 254 / 253 / ≤252) |",
);
console.log(
  "| -------------------------- | --------- | ------ | ---------------- | ------------------------------------------------------- |",
);
for (const [s, [name]] of signers.entries()) {
  const times = fastest[s];
  const ranked = Array.from({ length: messageCount }, (_, i) => i).sort((a, b) => times[a] - times[b]);
  const calledShort = ranked.slice(0, predicted);
  const hits = calledShort.filter((i) => isShort[i]).length;
  const precision = hits / predicted;
  const recall = truePositives === 0 ? 0 : hits / truePositives;
  const buckets = [0, 1, 2, 3].map((missing) => median(times, (i) => nonceBits[i] === qBits - missing));
  buckets.push(median(times, (i) => nonceBits[i] <= qBits - 4));
  console.log(
    `| ${name.padEnd(26)} | ${(100 * precision).toFixed(1).padStart(7)} % | ${
      (100 * recall).toFixed(1).padStart(4)
    } % | ${(precision / baseRate).toFixed(2).padStart(15)}× | ${
      buckets.map((b) => b.toFixed(1)).join(" / ").padEnd(55)
    } |`,
  );
}

function median(values: Float64Array, keep: (i: number) => boolean): number {
  const kept = Array.from(values).filter((_, i) => keep(i)).sort((a, b) => a - b);
  return kept.length === 0 ? NaN : kept[Math.floor(kept.length / 2)];
}
