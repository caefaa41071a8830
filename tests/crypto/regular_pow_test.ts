import assert from "node:assert/strict";
import { importDomainPem } from "../../crypto/dsa.ts";
import { ModArithError, modPow, randomBigIntInRange } from "../../crypto/modarith.ts";
import { regularPow, RegularPowers, WINDOW_BITS, WINDOWS_PER_PIECE } from "../../crypto/regular_pow.ts";

const domain = importDomainPem(
  Deno.readTextFileSync(new URL("../fixtures/dsa2048_256_params.pem", import.meta.url)),
);

Deno.test("regularPow equals modPow over the whole accepted range, ends included", () => {
  const table = new RegularPowers(domain.g, domain.p, 322);
  assert.equal(table.bits, 360);
  assert.equal(table.bits % (WINDOW_BITS * WINDOWS_PER_PIECE), 0);
  const top = table.offset + (1n << BigInt(table.bits)) - 1n;
  const exponents = [table.offset, table.offset + 1n, top];
  for (let i = 0; i < 6; i++) exponents.push(randomBigIntInRange(table.offset, top));
  for (const e of exponents) assert.equal(regularPow(table, e), modPow(domain.g, e, domain.p));
});

Deno.test("regularPow works for a small modulus and a one-slice table", () => {
  const table = new RegularPowers(3n, 1009n, 10);
  assert.equal(table.pieces, 1);
  for (let e = table.offset; e < table.offset + 50n; e++) {
    assert.equal(regularPow(table, e), modPow(3n, e, 1009n));
  }
});

Deno.test("regularPow refuses exponents outside [offset, offset + 2^bits)", () => {
  const table = new RegularPowers(3n, 1009n, 40);
  assert.throws(() => regularPow(table, table.offset - 1n), ModArithError);
  assert.throws(() => regularPow(table, table.offset + (1n << BigInt(table.bits))), ModArithError);
  assert.throws(() => new RegularPowers(3n, 1n, 40), ModArithError);
});
