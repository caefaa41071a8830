/**
 * Where the committed fixtures are, for tests, benches and the fuzzer alike: the one module outside tests/
 * that names tests/fixtures/. They are data (PEM, JSON), read, never imported.
 * @module
 */

import { type DsaDomain, importDomainPem } from "../crypto/dsa.ts";

/**
 * The folder of committed fixtures.
 * @example
 * ```ts
 * const corpus = new URL("fuzz_corpus/", FIXTURES_DIR);
 * ```
 */
export const FIXTURES_DIR: URL = new URL("../tests/fixtures/", import.meta.url);

/**
 * The committed DSA-2048 domain with a `qBits`-bit q (generating one takes about a second).
 * @example
 * ```ts
 * const domain = fixtureDsaDomain(256);
 * domain.q.toString(2).length; // 256
 * ```
 */
export function fixtureDsaDomain(qBits: 224 | 256 = 256): DsaDomain {
  return importDomainPem(Deno.readTextFileSync(new URL(`dsa2048_${qBits}_params.pem`, FIXTURES_DIR)));
}
