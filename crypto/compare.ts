/**
 * Byte-string equality for secrets: {@link constantTimeEqual} for real use, and
 * {@link vulnerableEqual}, a deliberately leaky twin that exists only for the timing-attack demo.
 * @module
 */

/**
 * Compares two byte strings in time that depends only on their lengths, never on their content:
 * every byte of the longer input is visited, differences are OR-ed into an accumulator, and there is
 * no early exit and no branch on byte values. A length mismatch returns `false` after the same full
 * pass (lengths are treated as public).
 * @example
 * ```ts
 * constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2])); // true
 * constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3])); // false
 * ```
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  const length = Math.max(a.length, b.length);
  // A non-zero length difference poisons the accumulator without ending the loop early.
  let diff = a.length ^ b.length;
  for (let i = 0; i < length; i++) {
    // The bounds tests depend on the (public) lengths only; missing bytes compare as zero.
    const x = i < a.length ? a[i] : 0;
    const y = i < b.length ? b[i] : 0;
    diff |= x ^ y;
  }
  return diff === 0;
}

/**
 * DELIBERATELY BROKEN — for the timing demo only, never for secrets. Returns at the first differing
 * byte, so its running time reveals the length of the matching prefix, which is exactly what a
 * byte-by-byte timing attack measures.
 * @example
 * ```ts
 * vulnerableEqual(new Uint8Array([9, 0]), new Uint8Array([1, 0])); // false, after one byte
 * ```
 */
export function vulnerableEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return false;
  }
  return true;
}
