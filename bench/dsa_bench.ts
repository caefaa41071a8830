/**
 * `deno bench -A bench/dsa_bench.ts`: DSA sign and verify for 2048/224 and 2048/256, and the
 * 2048-bit modular multiplication strategies that crypto/modarith.ts chose between.
 * @module
 */

import {
  decodeSignatureDer,
  digestForKey,
  type DsaKeyPair,
  type DsaPublicKey,
  exportPublicKeyPem,
  generateKeyPair,
  importPublicKeyPem,
  sign,
  verify,
  verifyDigest,
} from "../crypto/dsa.ts";
import { bytesToBigInt, modInverse } from "../crypto/modarith.ts";
import { fixtureDsaDomain } from "../testkit/fixtures.ts";

const message = new TextEncoder().encode("sensor/42 temperature=21.5 ts=1700000000");

for (const size of [224, 256] as const) {
  const domain = fixtureDsaDomain(size);
  const keys: DsaKeyPair = await generateKeyPair(domain);
  const signature = sign(keys.privateKey, message);
  const digest = digestForKey(keys.publicKey, message);
  const decoded = decodeSignatureDer(signature);
  verify(keys.publicKey, message, signature); // first use: validates y and builds its table

  Deno.bench({
    name: `DSA 2048/${size} sign`,
    group: `dsa-${size}`,
    fn: () => void sign(keys.privateKey, message),
  });
  Deno.bench({
    name: `DSA 2048/${size} verify (known key)`,
    group: `dsa-${size}`,
    baseline: true,
    fn: () => void verify(keys.publicKey, message, signature),
  });
  Deno.bench({
    name: `DSA 2048/${size} verify, first use of the key object (validation + one-slice y table)`,
    group: `dsa-${size}`,
    fn: () => void verifyDigest({ ...keys.publicKey }, digest, decoded),
  });
}

// ---- Many senders in turn: why key imports share one set of domain bigints (sharedDomain) -----------
// An actuator verifies for sender after sender. With each key holding its own equal copy of p, q and g the
// verify costs ~35 % more than with one key over and over; PEM imports hand every key the same bigints.

{
  const domain = fixtureDsaDomain(256);
  const copy = (v: bigint) => BigInt(`0x${v.toString(16)}`);
  const pairs = await Promise.all(Array.from({ length: 8 }, () => generateKeyPair(domain)));
  const signatures = pairs.map((pair) => sign(pair.privateKey, message));
  const sharing = pairs.map((pair) => importPublicKeyPem(exportPublicKeyPem(pair.publicKey)));
  const copying: DsaPublicKey[] = pairs.map((pair) => ({
    ...pair.publicKey,
    domain: { p: copy(domain.p), q: copy(domain.q), g: copy(domain.g) },
  }));
  for (const keys of [sharing, copying]) {
    keys.forEach((key, i) => { // validate and build every y table before timing
      verify(key, message, signatures[i]);
      verify(key, message, signatures[i]);
    });
  }
  let turn = 0;
  Deno.bench({
    name: "DSA 2048/256 verify, one sender over and over",
    group: "dsa-senders",
    baseline: true,
    fn: () => void verify(sharing[0], message, signatures[0]),
  });
  const inTurn: [string, DsaPublicKey[]][] = [
    ["PEM-imported (shared p, q, g)", sharing],
    ["each with its own equal copy of p, q, g", copying],
  ];
  for (const [how, keys] of inTurn) {
    Deno.bench({
      name: `DSA 2048/256 verify, 8 senders in turn, ${how}`,
      group: "dsa-senders",
      fn: () => {
        turn = (turn + 1) % keys.length;
        verify(keys[turn], message, signatures[turn]);
      },
    });
  }
}

// ---- 2048-bit modular multiplication: why modarith.ts uses plain BigInt `%` --------------------

const modulus = bytesToBigInt(crypto.getRandomValues(new Uint8Array(256))) | (1n << 2047n) | 1n;
const a = bytesToBigInt(crypto.getRandomValues(new Uint8Array(256))) % modulus;
const b = bytesToBigInt(crypto.getRandomValues(new Uint8Array(256))) % modulus;

const R_BITS = 2048n;
const R_MASK = (1n << R_BITS) - 1n;
const nPrime = ((1n << R_BITS) - modInverse(modulus, 1n << R_BITS)) & R_MASK; // −m⁻¹ mod R
const barrettMu = (1n << 4096n) / modulus;

// Each bench feeds its result back in, so the work cannot be optimised away.
let plainAcc = a;
let montAcc = a;
let barrettAcc = a;

Deno.bench({
  name: "BigInt multiply + %",
  group: "modmul-2048",
  baseline: true,
  fn: () => {
    plainAcc = (plainAcc * b) % modulus;
  },
});

Deno.bench({
  name: "BigInt Montgomery (REDC with three full products)",
  group: "modmul-2048",
  fn: () => {
    const t = montAcc * b;
    const m = ((t & R_MASK) * nPrime) & R_MASK;
    let u = (t + m * modulus) >> R_BITS;
    if (u >= modulus) u -= modulus;
    montAcc = u;
  },
});

Deno.bench({
  name: "BigInt Barrett",
  group: "modmul-2048",
  fn: () => {
    const t = barrettAcc * b;
    const qHat = ((t >> 2046n) * barrettMu) >> 2050n;
    let r = t - qHat * modulus;
    while (r >= modulus) r -= modulus;
    barrettAcc = r;
  },
});

// Montgomery CIOS on 26-bit limbs held in float64 (every partial product stays below 2^53).
const LIMB_BITS = 26;
const LIMB = 2 ** LIMB_BITS;
const LIMBS = Math.ceil(2048 / LIMB_BITS);

function toLimbs(x: bigint): Float64Array {
  const out = new Float64Array(LIMBS);
  for (let i = 0; i < LIMBS; i++) out[i] = Number((x >> BigInt(i * LIMB_BITS)) & BigInt(LIMB - 1));
  return out;
}

const limbA = toLimbs(a);
const limbB = toLimbs(b);
const limbN = toLimbs(modulus);
const limbN0Inv = Number((1n << 26n) - modInverse(modulus & ((1n << 26n) - 1n), 1n << 26n));
const scratch = new Float64Array(LIMBS + 2);

function montgomeryLimbs(x: Float64Array, y: Float64Array, n: Float64Array, out: Float64Array): void {
  const t = scratch;
  t.fill(0);
  for (let i = 0; i < LIMBS; i++) {
    const xi = x[i];
    let carry = 0;
    for (let j = 0; j < LIMBS; j++) {
      const s = t[j] + xi * y[j] + carry;
      carry = Math.floor(s / LIMB);
      t[j] = s - carry * LIMB;
    }
    let s = t[LIMBS] + carry;
    carry = Math.floor(s / LIMB);
    t[LIMBS] = s - carry * LIMB;
    t[LIMBS + 1] = carry;
    const mp = t[0] * limbN0Inv;
    const m = mp - Math.floor(mp / LIMB) * LIMB;
    s = t[0] + m * n[0];
    carry = Math.floor(s / LIMB);
    for (let j = 1; j < LIMBS; j++) {
      s = t[j] + m * n[j] + carry;
      carry = Math.floor(s / LIMB);
      t[j - 1] = s - carry * LIMB;
    }
    s = t[LIMBS] + carry;
    carry = Math.floor(s / LIMB);
    t[LIMBS - 1] = s - carry * LIMB;
    t[LIMBS] = t[LIMBS + 1] + carry;
  }
  out.set(t.subarray(0, LIMBS));
}

const limbAcc = limbA.slice();
Deno.bench({
  name: "Montgomery CIOS on 26-bit float64 limbs",
  group: "modmul-2048",
  fn: () => montgomeryLimbs(limbAcc, limbB, limbN, limbAcc),
});
