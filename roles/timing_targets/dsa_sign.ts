/**
 * The DSA signing targets: the signer the sensor ships (crypto/dsa.ts `sign`) and the textbook signer
 * without countermeasures (crypto/dsa_unprotected.ts, the baseline that proves the test can see a nonce
 * leak). Class `short` holds messages whose RFC 6979 nonce has at least {@link NONCE_SHORT_ZERO_BITS}
 * leading zero bits, class `full` messages whose nonce has its top bit set (32 of each found, 16 of each
 * drawn afresh for every batch); everything else is alike
 * (same key, same message length, same code path). The nonce follows from key and message, so the messages
 * are found by search at setup time, which is not measured.
 * @module
 */

import {
  digestForKey,
  type DsaPrivateKey,
  generateKeyPair,
  importDomainPem,
  rfc6979Nonces,
  sign,
} from "../../crypto/dsa.ts";
import { signUnprotected } from "../../crypto/dsa_unprotected.ts";
import { bitLength } from "../../crypto/modarith.ts";
import type { RandomBytes, TimingProbe, TimingTarget } from "./target.ts";

/** Leading zero bits of a `short` nonce: 2^10 candidates per message, a few seconds of search in all. */
export const NONCE_SHORT_ZERO_BITS = 10;
/** Messages per class found at setup. */
export const NONCE_POOL_PER_CLASS = 32;
/** Messages per class in one batch: a fresh random draw from the pool for every batch. */
export const NONCE_INPUTS_PER_CLASS = 16;
/** Measurements per class per batch by default (one signature each, ~0.3–0.6 ms). */
export const DSA_SAMPLES_PER_CLASS = 2500;

/**
 * The lab's DSA-2048/256 domain (public parameters, the same as tests/fixtures/dsa2048_256_params.pem),
 * built in so setup needs no second of domain generation and reads no file. Each run draws a fresh x.
 */
const LAB_DOMAIN_PEM = `-----BEGIN DSA PARAMETERS-----
MIICLAKCAQEAjeP4WefdiBo+yN4Nt9PhREuuPXQ0Uxm0s/+t20OALQ2Pi18Y7G1n
agrvU1puj+6KPavFeZuv4PrSFzRxPhnk3NwFCMGDkVXZ046J4f7JxHbxIQyuZGP0
66zpyoA3tvBDp1hDKdcuJSITAbjGEDRoF6xfffBL7ZynJqC52OK7lDix0YnmHqpq
Y87wf2KnhCSCSRhxj9RkLrss/NmEqnxpqBGqadwtj+ZbsY4yzpHMPBaO+m4EE5B7
/qfU6ipljmyHtae0uxuoEMhlxV7v2+XvQ8NBt7P7GELVte5WyMWBzPF2HRRE49Yi
ZzojfH29sn6T5lRfutdMd1NmuHthDYtMEwIhAJ18zPgSeq+iiWN9i3y0FZkLxa4R
oQtkB6smID5iuphTAoIBAAYSrQDGzvQq4M5kB1+0jVE/buve7Fpofw0a6dn2U606
cGD2d7YKrRRO/Z8L7Tb96sAOcQGV6t/NEeNG8BwfDFlOusM0S3iRGoUqAgY/wiee
nj5JuziJyYakdtNbA5v7M7JXWA6bhpxC+lDrN2np9Tn2VXzhAuJO6cMqzIe3sdBt
s1hvP3k4nMNYZkifqcBHmvIhAhtPkEbKsrdkWBChdvUDgnxBonp7DgpNjnxADGPw
Qu66u37HWb5/xdnNE0uXkIZx2zYInb2u/+K7mWgXfnRygS/PFR11JDNcarAvG+s0
EQ7pNpGXxeOMAfc8Ae1k0ybjay+GDehHxTM9PcqreCU=
-----END DSA PARAMETERS-----`;

/**
 * A fresh lab key pair over the built-in domain.
 * @example
 * ```ts
 * const { privateKey } = await labDsaKeyPair();
 * ```
 */
export function labDsaKeyPair(): ReturnType<typeof generateKeyPair> {
  return generateKeyPair(importDomainPem(LAB_DOMAIN_PEM));
}

/** The message of search index i: fixed length, so hashing costs the same for every message. */
export function labMessage(index: number): Uint8Array {
  return new TextEncoder().encode(`secmqtt timing lab message #${String(index).padStart(10, "0")}`);
}

/** Messages sorted by the length of their nonce. */
export interface NonceClasses {
  /** Messages whose nonce has at least `shortZeroBits` leading zero bits (below 2^(N − shortZeroBits)). */
  short: Uint8Array[];
  /** Messages whose nonce is full length (its bit N − 1 set). */
  full: Uint8Array[];
  /** Messages tried. */
  candidates: number;
}

/**
 * Searches {@link labMessage}s for `perClass` messages of each class for this key (RFC 6979 nonces;
 * about perClass · 2^shortZeroBits nonce derivations). Yields to the event loop now and then.
 * @example
 * ```ts
 * const { short, full } = await findNonceClasses(privateKey, 10, 16);
 * ```
 */
export async function findNonceClasses(
  privateKey: DsaPrivateKey,
  shortZeroBits: number,
  perClass: number,
): Promise<NonceClasses> {
  const qBits = bitLength(privateKey.domain.q);
  const short: Uint8Array[] = [];
  const full: Uint8Array[] = [];
  let index = 0;
  while (short.length < perClass || full.length < perClass) {
    const message = labMessage(index++);
    const bits = bitLength(rfc6979Nonces(privateKey, digestForKey(privateKey, message))());
    if (bits <= qBits - shortZeroBits && short.length < perClass) short.push(message);
    else if (bits === qBits && full.length < perClass) full.push(message);
    if (index % 4096 === 0) await new Promise((resolve) => setTimeout(resolve, 0));
  }
  // The full-length messages turn up among the first few candidates, the short ones spread over thousands:
  // copy them in alternation so both classes are equally young and sit side by side in the heap, as the
  // compare target allocates its two classes.
  for (let i = 0; i < perClass; i++) {
    short[i] = short[i].slice();
    full[i] = full[i].slice();
  }
  return { short, full, candidates: index };
}

function dsaSignTarget(
  name: string,
  summary: string,
  signer: (key: DsaPrivateKey, message: Uint8Array) => Uint8Array,
  expectLeak: boolean,
): TimingTarget {
  return {
    name,
    function: name,
    summary,
    expectLeak,
    defaultSamples: DSA_SAMPLES_PER_CLASS,
    async prepare(randomBytes): Promise<TimingProbe> {
      const { privateKey } = await labDsaKeyPair();
      const { short, full } = await findNonceClasses(privateKey, NONCE_SHORT_ZERO_BITS, NONCE_POOL_PER_CLASS);
      // Each batch signs its own random subset, so a quirk of one message (or of where its bytes landed)
      // cannot push every batch the same way.
      const draw = () => [short, full].map((pool) => randomSubset(pool, NONCE_INPUTS_PER_CLASS, randomBytes));
      let inputs = draw();
      return {
        classes: ["short", "full"],
        inputsPerClass: NONCE_INPUTS_PER_CLASS,
        call: (inClass, input) => signer(privateKey, inputs[inClass][input]).length,
        renew: () => {
          inputs = draw();
        },
        async: false,
        callsPerMeasurement: 1,
        warmupMeasurements: 100,
        cropPercentile: 50,
      };
    },
  };
}

/** `count` distinct elements of `pool` in random order (partial Fisher–Yates on a copy). */
function randomSubset<T>(pool: readonly T[], count: number, randomBytes: RandomBytes): T[] {
  const copy = [...pool];
  const random = randomBytes(count);
  for (let i = 0; i < count; i++) {
    // Modulo bias is irrelevant here: the draw only has to be unrelated to the timing, not uniform.
    const j = i + (random[i] % (copy.length - i));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy.slice(0, count);
}

/** `dsa-sign`: the shipped signer (blinded exponent and inverse); must not leak. */
export const DSA_SIGN_TARGET: TimingTarget = dsaSignTarget(
  "dsa-sign",
  "crypto/dsa.ts sign, the sensor's signer: short vs full-length RFC 6979 nonce — must not leak",
  sign,
  false,
);

/** `dsa-sign-unprotected`: the textbook signer; must leak, or the test has no power. */
export const DSA_SIGN_UNPROTECTED_TARGET: TimingTarget = dsaSignTarget(
  "dsa-sign-unprotected",
  "crypto/dsa_unprotected.ts, lab baseline without blinding: short vs full nonce — must leak",
  signUnprotected,
  true,
);
