/**
 * Signature malleation: alternative encodings and algebraic variants of a genuine signature.
 * @module
 */

import { fromBase64Url, toBase64Url } from "../../crypto/codec.ts";
import { SUITE_DSA } from "../../crypto/envelope.ts";
import { concat } from "./byte_mutations.ts";
import type { MutationContext } from "./case.ts";
import { type Member, memberIndex, q } from "./json_members.ts";
import type { FuzzRng } from "./rng.ts";

function derLength(n: number, longForm: boolean): number[] {
  if (!longForm && n < 0x80) return [n];
  if (n < 0x100) return [0x81, n];
  return [0x82, n >> 8, n & 0xff];
}

function derInteger(value: bigint, extraZero = false): number[] {
  let hex = value.toString(16);
  if (hex.length % 2) hex = "0" + hex;
  const bytes = hex.match(/../g)!.map((h) => parseInt(h, 16));
  if (bytes[0] & 0x80 || extraZero) bytes.unshift(0);
  return [0x02, ...derLength(bytes.length, false), ...bytes];
}

function derSequence(body: number[], longForm = false): number[] {
  return [0x30, ...derLength(body.length, longForm), ...body];
}

function readDerSignature(sig: Uint8Array): { r: bigint; s: bigint } | undefined {
  // Genuine signatures only: SEQUENCE (short form) of two short-form INTEGERs.
  if (sig[0] !== 0x30 || sig[2] !== 0x02) return undefined;
  const rLen = sig[3];
  const r = BigInt("0x" + toHexString(sig.subarray(4, 4 + rLen)));
  const sAt = 4 + rLen;
  const s = BigInt("0x" + toHexString(sig.subarray(sAt + 2, sAt + 2 + sig[sAt + 1])));
  return { r, s };
}

function toHexString(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("") || "0";
}

/** Ed25519 group order L (RFC 8032 §5.1). */
const ED25519_L = (1n << 252n) + 27742317777372353535851937790883648493n;

function malleateDsa(rng: FuzzRng, sig: Uint8Array, q: bigint): [Uint8Array, string] {
  const parsed = readDerSignature(sig);
  if (!parsed) return [sig, "unparsed"];
  const { r, s } = parsed;
  const pick = rng.int(12);
  const variants: [number[], string][] = [
    [derSequence([...derInteger(r), ...derInteger(q - s)]), "(r, q - s)"],
    [derSequence([...derInteger(s), ...derInteger(r)]), "(s, r)"],
    [derSequence([...derInteger(r), ...derInteger(0n)]), "(r, 0)"],
    [derSequence([...derInteger(0n), ...derInteger(s)]), "(0, s)"],
    [derSequence([...derInteger(r), ...derInteger(s + q)]), "(r, s + q)"],
    [derSequence([...derInteger(r + q), ...derInteger(s)]), "(r + q, s)"],
    [derSequence([...derInteger(r, true), ...derInteger(s)]), "r with a redundant 00"],
    [derSequence([...derInteger(r), ...derInteger(s)], true), "long-form SEQUENCE length"],
    [[...derSequence([...derInteger(r), ...derInteger(s)]), 0x00], "trailing byte"],
    [[0x30, 0x80, ...derInteger(r), ...derInteger(s), 0x00, 0x00], "BER indefinite length"],
    [[0x31, ...derSequence([...derInteger(r), ...derInteger(s)]).slice(1)], "SET tag"],
    [derSequence([...derInteger(r), ...derInteger(s), ...derInteger(1n)]), "three INTEGERs"],
  ];
  const [bytes, what] = variants[pick];
  return [new Uint8Array(bytes), what];
}

function malleateEd25519(rng: FuzzRng, sig: Uint8Array): [Uint8Array, string] {
  const out = sig.slice();
  let sValue = 0n;
  for (let i = 63; i >= 32; i--) sValue = (sValue << 8n) | BigInt(sig[i]);
  const writeS = (value: bigint) => {
    for (let i = 32; i < 64; i++) {
      out[i] = Number(value & 0xffn);
      value >>= 8n;
    }
  };
  switch (rng.int(6)) {
    case 0:
      writeS(sValue + ED25519_L);
      return [out, "S + L"];
    case 1:
      writeS(ED25519_L);
      return [out, "S = L"];
    case 2:
      writeS(0n);
      return [out, "S = 0"];
    case 3:
      out[rng.int(32)] ^= 1 << rng.int(8);
      return [out, "R bit flip"];
    case 4:
      return [concat(sig.subarray(32), sig.subarray(0, 32)), "R and S swapped"];
    default:
      return [new Uint8Array(64), "all zero"];
  }
}

/**
 * Replaces the envelope's signature by a malleated variant of itself (DER re-encodings and (r, q − s) for
 * DSA; S + L, swapped halves and the like for Ed25519). Returns what was done.
 * @example
 * ```ts
 * const detail = sigMalleate(ctx, members); // e.g. "(r, q - s)"
 * ```
 */
export const sigMalleate = (ctx: MutationContext, members: Member[]): string => {
  const i = memberIndex(members, "sig");
  const sig = fromBase64Url(JSON.parse(members[i].value));
  const [mutated, what] = ctx.seed.suite === SUITE_DSA
    ? malleateDsa(ctx.rng, sig, ctx.home.dsaQ)
    : malleateEd25519(ctx.rng, sig);
  members[i] = { key: members[i].key, value: q(toBase64Url(mutated)) };
  return what;
};
