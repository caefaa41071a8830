import assert from "node:assert/strict";
import { constantTimeEqual, vulnerableEqual } from "../../crypto/compare.ts";

const cases: [string, number[], number[], boolean][] = [
  ["equal", [1, 2, 3], [1, 2, 3], true],
  ["both empty", [], [], true],
  ["first byte differs", [9, 2, 3], [1, 2, 3], false],
  ["last byte differs", [1, 2, 3], [1, 2, 4], false],
  ["a is a prefix of b", [1, 2], [1, 2, 3], false],
  ["b is a prefix of a", [1, 2, 3], [1, 2], false],
  ["empty vs non-empty", [], [0], false],
  ["zero-padded longer input", [1, 2], [1, 2, 0], false],
];

for (const [name, a, b, expected] of cases) {
  Deno.test(`constantTimeEqual: ${name} → ${expected}`, () => {
    assert.equal(constantTimeEqual(new Uint8Array(a), new Uint8Array(b)), expected);
  });
  Deno.test(`vulnerableEqual agrees with constantTimeEqual: ${name}`, () => {
    assert.equal(vulnerableEqual(new Uint8Array(a), new Uint8Array(b)), expected);
  });
}

Deno.test("constantTimeEqual catches a difference in every bit of every position of 32 bytes", () => {
  const base = crypto.getRandomValues(new Uint8Array(32));
  for (let i = 0; i < 32; i++) {
    for (let bit = 0; bit < 8; bit++) {
      const other = base.slice();
      other[i] ^= 1 << bit;
      assert.equal(constantTimeEqual(base, other), false, `byte ${i} bit ${bit}`);
    }
  }
  assert.equal(constantTimeEqual(base, base.slice()), true);
});
