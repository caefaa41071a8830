import assert from "node:assert/strict";
import fc from "fast-check";
import {
  bigIntToBytes,
  bitLength,
  bytesToBigInt,
  hasSmallFactor,
  isProbablePrime,
  ModArithError,
  modInverse,
  modPow,
  modPow2,
} from "../../crypto/modarith.ts";

/** Reference square-and-multiply, bit by bit, for cross-checking. */
function naivePow(b: bigint, e: bigint, m: bigint): bigint {
  let result = 1n % m;
  let base = ((b % m) + m) % m;
  for (let x = e; x > 0n; x >>= 1n) {
    if (x & 1n) result = (result * base) % m;
    base = (base * base) % m;
  }
  return result;
}

const modulus = fc.bigInt({ min: 2n, max: 1n << 700n });
const exponent = fc.bigInt({ min: 0n, max: 1n << 300n });
const anyBase = fc.bigInt({ min: -(1n << 800n), max: 1n << 800n });

Deno.test("modPow agrees with plain square-and-multiply", () => {
  fc.assert(fc.property(anyBase, exponent, modulus, (b, e, m) => modPow(b, e, m) === naivePow(b, e, m)));
});

Deno.test("modPow2 equals the product of two modPow results", () => {
  fc.assert(
    fc.property(anyBase, exponent, anyBase, exponent, modulus, (b1, e1, b2, e2, m) => {
      assert.equal(modPow2(b1, e1, b2, e2, m), (naivePow(b1, e1, m) * naivePow(b2, e2, m)) % m);
    }),
  );
});

Deno.test("modPow handles the edge cases 0 exponent, modulus 1 and base 0", () => {
  assert.equal(modPow(5n, 0n, 7n), 1n);
  assert.equal(modPow(5n, 3n, 1n), 0n);
  assert.equal(modPow(0n, 5n, 7n), 0n);
  assert.equal(modPow2(0n, 0n, 0n, 0n, 7n), 1n);
  assert.throws(() => modPow(2n, -1n, 7n), ModArithError);
});

Deno.test("modInverse returns the inverse and refuses non-invertible elements", () => {
  fc.assert(
    fc.property(fc.bigInt({ min: 1n, max: (1n << 127n) - 2n }), (a) => {
      const p = (1n << 127n) - 1n; // a Mersenne prime
      assert.equal((modInverse(a, p) * a) % p, 1n);
    }),
  );
  assert.throws(() => modInverse(6n, 9n), ModArithError);
});

Deno.test("isProbablePrime accepts primes and rejects composites including Carmichael numbers", () => {
  for (const p of [2n, 3n, 65537n, (1n << 127n) - 1n, (1n << 521n) - 1n]) {
    assert.ok(isProbablePrime(p, 20), `${p}`);
  }
  for (const c of [1n, 4n, 561n, 41041n, 825265n, ((1n << 127n) - 1n) * 65537n]) {
    assert.equal(isProbablePrime(c, 20), false, `${c}`);
  }
});

Deno.test("hasSmallFactor finds factors below 20000 and spares the small primes themselves", () => {
  assert.ok(hasSmallFactor(19997n * ((1n << 127n) - 1n)));
  assert.ok(hasSmallFactor(1n << 100n));
  assert.equal(hasSmallFactor((1n << 127n) - 1n), false);
  assert.equal(hasSmallFactor(19997n), false);
});

Deno.test("bytes and integers convert both ways, big-endian", () => {
  assert.equal(bytesToBigInt(new Uint8Array([1, 0])), 256n);
  assert.deepEqual(bigIntToBytes(256n, 3), new Uint8Array([0, 1, 0]));
  assert.throws(() => bigIntToBytes(1n << 16n, 2), ModArithError);
  assert.equal(bitLength(0n), 0);
  assert.equal(bitLength(1n << 2047n), 2048);
});
