import assert from "node:assert/strict";
import { fromHex, fromPem, toPem } from "../../crypto/codec.ts";
import { exportPublicKeyPem, generateKeyPair, importDomainPem } from "../../crypto/dsa.ts";
import { ed25519PointProblem } from "../../crypto/ed25519_point.ts";
import { exportEd25519PublicKeyPem, generateEd25519KeyPair } from "../../crypto/ed25519.ts";
import { SUITE_DSA, SUITE_ED25519 } from "../../crypto/envelope.ts";
import { TrustError, type TrustList } from "../../store/trust.ts";
import { validateTrustKeys } from "../../store/trust_validate.ts";

const DOMAIN = importDomainPem(
  Deno.readTextFileSync(new URL("../fixtures/dsa2048_256_params.pem", import.meta.url)),
);

/** The eight points of order dividing 8, as they are usually encoded (libsodium's blocklist). */
const SMALL_ORDER_POINTS = [
  "0100000000000000000000000000000000000000000000000000000000000000", // identity
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // order 2
  "0000000000000000000000000000000000000000000000000000000000000000", // order 4
  "0000000000000000000000000000000000000000000000000000000000000080", // order 4
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a", // order 8
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa", // order 8
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05", // order 8
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85", // order 8
];

function ed25519Pem(rawHex: string): string {
  return toPem("PUBLIC KEY", fromHex("302a300506032b6570032100" + rawHex));
}

function list(sender: string, suite: string, pem: string): TrustList {
  return { version: 1, senders: { [sender]: { suite, public_key: pem, status: "active" } } };
}

Deno.test("every small-order Ed25519 point is refused", () => {
  for (const hex of SMALL_ORDER_POINTS) assert.equal(ed25519PointProblem(fromHex(hex)), "SMALL_ORDER", hex);
});

Deno.test("non-canonical Ed25519 encodings and points off the curve are refused", () => {
  // y = p (2^255 − 19) is y = 0 written the long way.
  assert.equal(
    ed25519PointProblem(fromHex("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")),
    "NON_CANONICAL",
  );
  // The identity with the sign bit of x set: x = 0 has no negative.
  assert.equal(
    ed25519PointProblem(fromHex("0100000000000000000000000000000000000000000000000000000000000080")),
    "NON_CANONICAL",
  );
  assert.equal(
    ed25519PointProblem(fromHex("0200000000000000000000000000000000000000000000000000000000000000")),
    "NOT_ON_CURVE",
  );
  assert.equal(ed25519PointProblem(new Uint8Array(31)), "WRONG_LENGTH");
});

Deno.test("generated keys of both suites pass", async () => {
  const ed = await generateEd25519KeyPair();
  const dsa = await generateKeyPair(DOMAIN);
  const trust: TrustList = {
    version: 1,
    senders: {
      "s-ed": {
        suite: SUITE_ED25519,
        public_key: await exportEd25519PublicKeyPem(ed.publicKey),
        status: "active",
      },
      "s-dsa": { suite: SUITE_DSA, public_key: exportPublicKeyPem(dsa.publicKey), status: "active" },
    },
  };
  assert.equal(validateTrustKeys(trust, "trust.json"), trust);
});

Deno.test("a small-order Ed25519 key is a TRUST_INVALID naming the file, the sender and the reason", () => {
  assert.throws(
    () =>
      validateTrustKeys(
        list("door-sensor-1", SUITE_ED25519, ed25519Pem(SMALL_ORDER_POINTS[0])),
        "keys/trust.json",
      ),
    (e: unknown) =>
      e instanceof TrustError && e.code === "TRUST_INVALID" &&
      e.message.startsWith("keys/trust.json: sender 'door-sensor-1': public key has small order"),
  );
});

/** The SPKI of a valid key with one byte flipped: the last byte of y's or of g's big-endian encoding. */
function corruptedDsaPem(der: Uint8Array, value: bigint): string {
  const hex = value.toString(16);
  const bytes = fromHex(hex.length % 2 ? "0" + hex : hex);
  const at = findBytes(der, bytes);
  assert.ok(at >= 0, "value found in the DER");
  const copy = der.slice();
  copy[at + bytes.length - 1] ^= 0x02;
  return toPem("PUBLIC KEY", copy);
}

function findBytes(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

Deno.test("a corrupted DSA key or domain is refused at load, naming the sender", async () => {
  const { publicKey } = await generateKeyPair(DOMAIN);
  const der = fromPem("PUBLIC KEY", exportPublicKeyPem(publicKey));
  const cases = [
    { pem: corruptedDsaPem(der, publicKey.y), reason: /y\^q/ },
    { pem: corruptedDsaPem(der, DOMAIN.g), reason: /g\^q/ },
  ];
  for (const { pem, reason } of cases) {
    assert.throws(
      () => validateTrustKeys(list("door-sensor-1", SUITE_DSA, pem), "trust.json"),
      (e: unknown) =>
        e instanceof TrustError && e.code === "TRUST_INVALID" && e.message.includes("'door-sensor-1'") &&
        reason.test(e.message),
      String(reason),
    );
  }
});

Deno.test("an Ed25519 entry that is not an Ed25519 SPKI is refused", async () => {
  const { publicKey } = await generateKeyPair(DOMAIN);
  assert.throws(
    () => validateTrustKeys(list("s", SUITE_ED25519, exportPublicKeyPem(publicKey)), "trust.json"),
    /not an Ed25519 SubjectPublicKeyInfo/,
  );
});
