/**
 * `deno bench bench/compare_bench.ts` — the leaky early-exit comparison against the constant-time one on
 * 32-byte inputs that are equal, differ at the first byte, or differ at the last byte. The leak shows as
 * `vulnerableEqual` being faster on an early difference than on a late one.
 * @module
 */

import { constantTimeEqual, vulnerableEqual } from "../crypto/compare.ts";

const secret = crypto.getRandomValues(new Uint8Array(32));
const equal = secret.slice();
const early = secret.slice();
early[0] ^= 1;
const late = secret.slice();
late[31] ^= 1;

const inputs = { equal, "early difference": early, "late difference": late };
for (const [name, candidate] of Object.entries(inputs)) {
  Deno.bench(`vulnerableEqual: ${name}`, { group: `compare ${name}`, baseline: true }, () => {
    vulnerableEqual(secret, candidate);
  });
  Deno.bench(`constantTimeEqual: ${name}`, { group: `compare ${name}` }, () => {
    constantTimeEqual(secret, candidate);
  });
}
