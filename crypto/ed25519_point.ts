/**
 * Checks an Ed25519 public key as a curve point (RFC 8032 §5.1.3), which WebCrypto's import does not:
 * the encoding must be canonical (y < p, and no "negative zero" x), the point must be on the curve, and
 * it must not have small order. A small-order key (the identity 0100…00 among them) makes the
 * verification equation hold for signatures nobody made, so a trust list must never hold one.
 * Pure BigInt arithmetic on public data; no timing concern.
 * @module
 */

import { modInverse, modPow } from "./modarith.ts";

/** The field prime 2^255 − 19. */
const P = 2n ** 255n - 19n;
/** The curve constant d = −121665 / 121666 (RFC 8032 §5.1). */
const D = mod(-121665n * modInverse(121666n, P));
/** A square root of −1 mod p, 2^((p−1)/4). */
const SQRT_M1 = modPow(2n, (P - 1n) / 4n, P);
/** Bytes of an encoded point. */
export const ED25519_PUBLIC_KEY_BYTES = 32;
/** The cofactor is 8 = 2³: three doublings send every small-order point to the identity. */
const COFACTOR_DOUBLINGS = 3;

/** Why a point was refused; stable codes. */
export type Ed25519PointProblem = "WRONG_LENGTH" | "NON_CANONICAL" | "NOT_ON_CURVE" | "SMALL_ORDER";

function mod(a: bigint): bigint {
  const r = a % P;
  return r < 0n ? r + P : r;
}

/** Decodes an encoded point (RFC 8032 §5.1.3), or says why it cannot be. */
function decode(bytes: Uint8Array): { x: bigint; y: bigint } | Ed25519PointProblem {
  let y = 0n;
  for (let i = ED25519_PUBLIC_KEY_BYTES - 1; i >= 0; i--) y = (y << 8n) | BigInt(bytes[i]);
  const sign = y >> 255n;
  y &= (1n << 255n) - 1n;
  if (y >= P) return "NON_CANONICAL";
  const u = mod(y * y - 1n);
  const v = mod(D * y * y + 1n);
  // x = u v³ (u v⁷)^((p−5)/8), then fix up by √−1 if it squares to −u/v.
  let x = mod(u * modPow(v, 3n, P) * modPow(mod(u * modPow(v, 7n, P)), (P - 5n) / 8n, P));
  const vx2 = mod(v * x * x);
  if (vx2 === mod(-u)) x = mod(x * SQRT_M1);
  else if (vx2 !== u) return "NOT_ON_CURVE";
  if (x === 0n && sign === 1n) return "NON_CANONICAL";
  if ((x & 1n) !== sign) x = P - x;
  return { x, y };
}

/** Doubling on −x² + y² = 1 + d x² y² (the complete addition law with both points equal). */
function double({ x, y }: { x: bigint; y: bigint }): { x: bigint; y: bigint } {
  const t = mod(D * x * x * y * y);
  return {
    x: mod(2n * x * y * modInverse(mod(1n + t), P)),
    y: mod((y * y + x * x) * modInverse(mod(1n - t), P)),
  };
}

/**
 * Checks a raw 32-byte Ed25519 public key; undefined when it is fit for a trust list.
 * @example
 * ```ts
 * const identity = new Uint8Array(32); identity[0] = 1;
 * ed25519PointProblem(identity); // "SMALL_ORDER"
 * ```
 */
export function ed25519PointProblem(bytes: Uint8Array): Ed25519PointProblem | undefined {
  if (bytes.length !== ED25519_PUBLIC_KEY_BYTES) return "WRONG_LENGTH";
  const point = decode(bytes);
  if (typeof point === "string") return point;
  let q = point;
  for (let i = 0; i < COFACTOR_DOUBLINGS; i++) q = double(q);
  return q.x === 0n && q.y === 1n ? "SMALL_ORDER" : undefined;
}
