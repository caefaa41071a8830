/**
 * Byte-level mutations: the input need not stay JSON.
 * @module
 */

import { fromHex } from "../../crypto/codec.ts";
import { ENVELOPE_FIELDS, ENVELOPE_MAX_BYTES } from "../../crypto/envelope.ts";
import type { FuzzRng } from "./rng.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Bytes that mean something to JSON, base64url or UTF-8. */
const INTERESTING_BYTES = fromHex("0001090a20222b2c2d2f3031393a3d415b5c5d5f7b7d7f80bfc0edeff4ff");

function randomByte(rng: FuzzRng): number {
  return rng.chance(0.5) ? INTERESTING_BYTES[rng.int(INTERESTING_BYTES.length)] : rng.int(256);
}

/**
 * The parts one after another, in a new array.
 * @example
 * ```ts
 * concat(new Uint8Array([1]), new Uint8Array([2, 3])); // Uint8Array [1, 2, 3]
 * ```
 */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function spliceBytes(bytes: Uint8Array, at: number, remove: number, insert: Uint8Array): Uint8Array {
  return concat(bytes.subarray(0, at), insert, bytes.subarray(at + remove));
}

function byteFlip(rng: FuzzRng, bytes: Uint8Array): [Uint8Array, string] {
  const out = bytes.slice();
  const flips = rng.range(1, 4);
  const at: number[] = [];
  for (let i = 0; i < flips && out.length > 0; i++) {
    const pos = rng.int(out.length);
    out[pos] ^= 1 << rng.int(8);
    at.push(pos);
  }
  return [out, `flipped bits at ${at.join(",")}`];
}

function byteSet(rng: FuzzRng, bytes: Uint8Array): [Uint8Array, string] {
  const out = bytes.slice();
  const n = rng.range(1, 4);
  for (let i = 0; i < n && out.length > 0; i++) out[rng.int(out.length)] = randomByte(rng);
  return [out, `set ${n} bytes`];
}

function byteInsert(rng: FuzzRng, bytes: Uint8Array): [Uint8Array, string] {
  const n = rng.range(1, 8);
  const ins = new Uint8Array(n).map(() => randomByte(rng));
  const at = rng.int(bytes.length + 1);
  return [spliceBytes(bytes, at, 0, ins), `inserted ${n} bytes at ${at}`];
}

function byteDelete(rng: FuzzRng, bytes: Uint8Array): [Uint8Array, string] {
  if (bytes.length === 0) return [bytes, "nothing to delete"];
  const at = rng.int(bytes.length);
  const n = Math.min(rng.range(1, 16), bytes.length - at);
  return [spliceBytes(bytes, at, n, new Uint8Array(0)), `deleted ${n} bytes at ${at}`];
}

function truncate(rng: FuzzRng, bytes: Uint8Array): [Uint8Array, string] {
  const keep = rng.chance(0.2)
    ? bytes.length - rng.range(1, Math.min(4, bytes.length))
    : rng.int(bytes.length);
  return [bytes.slice(0, Math.max(0, keep)), `kept ${keep} of ${bytes.length} bytes`];
}

function extend(rng: FuzzRng, bytes: Uint8Array): [Uint8Array, string] {
  switch (rng.int(7)) {
    case 0:
      return [concat(bytes, rng.bytes(rng.range(1, 64))), "appended random bytes"];
    case 1:
      return [
        concat(bytes, enc.encode(rng.pick(["}", "\n", " ", "\0", ",", "{}", "]"]))),
        "appended a token",
      ];
    case 2:
      return [concat(bytes, bytes), "doubled"];
    case 3: {
      // Right at and just past the size cap, with trailing spaces (canonical check) or a padding field.
      const target = ENVELOPE_MAX_BYTES + rng.range(-1, 1);
      const pad = new Uint8Array(Math.max(0, target - bytes.length)).fill(0x20);
      return [concat(bytes, pad), `padded with spaces to ${bytes.length + pad.length} bytes`];
    }
    case 4: {
      const target = ENVELOPE_MAX_BYTES + rng.range(-1, 1);
      const head = bytes.subarray(0, bytes.length - 1);
      const filler = Math.max(0, target - head.length - ',"pad":""}'.length);
      return [
        concat(head, enc.encode(`,"pad":"${"A".repeat(filler)}"}`)),
        `padding field to ${head.length + filler + 10} bytes`,
      ];
    }
    case 5: {
      const size = rng.pick([65_536, 1 << 20]);
      return [concat(bytes, new Uint8Array(size).fill(0x41)), `appended ${size} bytes (huge)`];
    }
    default:
      return [concat(bytes, enc.encode(`,"x":${rng.int(1000)}}`)), "appended a JSON tail"];
  }
}

function chunkDuplicate(rng: FuzzRng, bytes: Uint8Array): [Uint8Array, string] {
  if (bytes.length === 0) return [bytes, "empty"];
  const at = rng.int(bytes.length);
  const n = Math.min(rng.range(1, 64), bytes.length - at);
  const to = rng.int(bytes.length + 1);
  return [spliceBytes(bytes, to, 0, bytes.slice(at, at + n)), `copied ${n} bytes from ${at} to ${to}`];
}

const BAD_UTF8: readonly (readonly number[])[] = [
  [0xc0, 0x80], // overlong NUL
  [0xc1, 0xbf], // overlong
  [0xed, 0xa0, 0x80], // UTF-16 surrogate
  [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
  [0x80], // lone continuation
  [0xff],
  [0xfe],
  [0xe2, 0x82], // truncated sequence
  [0xf0, 0x9f, 0x98], // truncated 4-byte
];

function utf8Invalid(rng: FuzzRng, bytes: Uint8Array): [Uint8Array, string] {
  if (rng.chance(0.2)) return [concat(new Uint8Array([0xef, 0xbb, 0xbf]), bytes), "byte-order mark prefix"];
  const seq = new Uint8Array(rng.pick(BAD_UTF8));
  // Inside a string value when possible, so only the UTF-8 check can catch it.
  const quotes: number[] = [];
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0x22) quotes.push(i);
  const at = quotes.length > 0 && rng.chance(0.8) ? rng.pick(quotes) + 1 : rng.int(bytes.length + 1);
  const replace = rng.chance(0.5) ? 0 : Math.min(seq.length, bytes.length - at);
  return [
    spliceBytes(bytes, at, replace, seq),
    `invalid UTF-8 ${[...seq].map((b) => b.toString(16)).join(" ")} at ${at}`,
  ];
}

/**
 * The head of one envelope joined to the tail of another, at a field boundary when it can: structurally
 * valid, so only the signature can tell. Returns the bytes and what was done.
 * @example
 * ```ts
 * const [payload, detail] = splice(rng, seed.bytes, other.bytes);
 * ```
 */
export function splice(rng: FuzzRng, a: Uint8Array, b: Uint8Array): [Uint8Array, string] {
  if (rng.chance(0.6)) {
    // At a field boundary: structurally valid, only the signature can tell.
    const field = rng.pick(ENVELOPE_FIELDS);
    const marker = `"${field}":`;
    const ia = dec.decode(a).indexOf(marker);
    const ib = dec.decode(b).indexOf(marker);
    if (ia >= 0 && ib >= 0) return [concat(a.subarray(0, ia), b.subarray(ib)), `spliced at field ${field}`];
  }
  const i = rng.int(a.length + 1);
  const j = rng.int(b.length + 1);
  return [concat(a.subarray(0, i), b.subarray(j)), `spliced ${i} + ${b.length - j} bytes`];
}

/** A byte-level mutation: the mutated bytes and what was done. */
export type ByteMutation = (rng: FuzzRng, bytes: Uint8Array) => [Uint8Array, string];

/**
 * Every byte-level mutation by name. The order is part of a run's reproducibility: cases are drawn by
 * position.
 * @example
 * ```ts
 * const [payload, detail] = BYTE_MUTATIONS["byte-flip"](rng, seed.bytes);
 * ```
 */
export const BYTE_MUTATIONS: Readonly<Record<string, ByteMutation>> = {
  "byte-flip": byteFlip,
  "byte-set": byteSet,
  "byte-insert": byteInsert,
  "byte-delete": byteDelete,
  "byte-truncate": truncate,
  "byte-extend": extend,
  "byte-chunk-duplicate": chunkDuplicate,
  "byte-utf8-invalid": utf8Invalid,
};
