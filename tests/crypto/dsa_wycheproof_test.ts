import assert from "node:assert/strict";
import { fromHex } from "../../crypto/codec.ts";
import {
  decodeSignatureP1363,
  digestForKey,
  type DsaPublicKey,
  importPublicKeyDer,
  importPublicKeyPem,
  verify,
  verifyDigest,
} from "../../crypto/dsa.ts";

interface WycheproofTest {
  tcId: number;
  comment: string;
  msg: string;
  sig: string;
  result: "valid" | "invalid" | "acceptable";
  flags: string[];
}

interface WycheproofGroup {
  publicKey: { p: string; q: string; g: string; y: string; keySize: number };
  publicKeyDer: string;
  publicKeyPem: string;
  sha: string;
  tests: WycheproofTest[];
}

interface WycheproofFile {
  algorithm: string;
  numberOfTests: number;
  testGroups: WycheproofGroup[];
}

const vectors = new URL("../fixtures/wycheproof/", import.meta.url);

/** Verifies every vector of a file; returns counts and the tcIds that went the wrong way. */
function runFile(name: string, encoding: "der" | "p1363") {
  const file = JSON.parse(Deno.readTextFileSync(new URL(name, vectors))) as WycheproofFile;
  const counts = { ran: 0, valid: 0, invalid: 0, acceptable: 0, acceptedAcceptable: 0 };
  const wrong: string[] = [];
  for (const group of file.testGroups) {
    const key: DsaPublicKey = importPublicKeyDer(fromHex(group.publicKeyDer));
    // The same key in its three published forms must agree.
    assert.deepEqual(importPublicKeyPem(group.publicKeyPem), key);
    assert.equal(key.y, BigInt("0x" + group.publicKey.y));
    assert.equal(key.domain.q, BigInt("0x" + group.publicKey.q));
    assert.equal(group.sha, key.domain.q.toString(2).length === 224 ? "SHA-224" : "SHA-256");
    for (const test of group.tests) {
      const msg = fromHex(test.msg);
      const sig = fromHex(test.sig);
      let accepted: boolean;
      if (encoding === "der") {
        accepted = verify(key, msg, sig);
      } else {
        let decoded;
        try {
          decoded = decodeSignatureP1363(sig, key.domain.q);
        } catch {
          decoded = undefined;
        }
        accepted = decoded !== undefined && verifyDigest(key, digestForKey(key, msg), decoded);
      }
      counts.ran++;
      counts[test.result]++;
      if (test.result === "acceptable") {
        if (accepted) counts.acceptedAcceptable++;
      } else if (accepted !== (test.result === "valid")) {
        wrong.push(`tcId ${test.tcId} (${test.result}, ${test.comment})`);
      }
    }
  }
  console.log(
    `${name}: ran ${counts.ran}/${file.numberOfTests} (valid ${counts.valid}, invalid ${counts.invalid}, ` +
      `acceptable ${counts.acceptable} of which accepted ${counts.acceptedAcceptable}); wrong: ${wrong.length}`,
  );
  return { counts, wrong, total: file.numberOfTests };
}

for (
  const [name, encoding] of [
    ["dsa_2048_224_sha224_test.json", "der"],
    ["dsa_2048_256_sha256_test.json", "der"],
    ["dsa_2048_256_sha256_p1363_test.json", "p1363"],
  ] as const
) {
  Deno.test(`Wycheproof ${name}: every valid signature verifies and every invalid one is rejected`, () => {
    const { counts, wrong, total } = runFile(name, encoding);
    assert.ok(counts.ran > 0, "no vectors ran");
    assert.equal(counts.ran, total, "every vector of the file ran");
    assert.deepEqual(wrong, []);
  });
}
