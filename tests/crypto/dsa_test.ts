import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { fromHex, toHex, toPem } from "../../crypto/codec.ts";
import { encodeInteger, encodeOctetString, encodeOid, encodeSequence } from "../../crypto/der.ts";
import {
  decodeSignatureDer,
  digestForKey,
  DSA_OID,
  type DsaDomain,
  DsaError,
  type DsaErrorCode,
  type DsaPrivateKey,
  type DsaPublicKey,
  encodeSignatureDer,
  exportDomainPem,
  exportPrivateKeyPem,
  exportPublicKeyDer,
  exportPublicKeyPem,
  generateDomain,
  generateKeyPair,
  importDomainPem,
  importPrivateKeyPem,
  importPublicKeyDer,
  importPublicKeyPem,
  publicKeyOf,
  rfc6979Nonces,
  sharedDomain,
  sign,
  signDigest,
  validateDomain,
  validatePublicKey,
  verify,
  verifyDigest,
} from "../../crypto/dsa.ts";
import { signDigestUnprotected, signUnprotected } from "../../crypto/dsa_unprotected.ts";
import { bitLength, modPow } from "../../crypto/modarith.ts";

const fixtures = new URL("../fixtures/", import.meta.url);
const readFixture = (name: string) => Deno.readTextFileSync(new URL(name, fixtures));

const domain256 = importDomainPem(readFixture("dsa2048_256_params.pem"));
const domain224 = importDomainPem(readFixture("dsa2048_224_params.pem"));
const keys256 = await generateKeyPair(domain256);
const keys224 = await generateKeyPair(domain224);
const message = new TextEncoder().encode("temperature=21.5");

function isDsaError(code: DsaErrorCode) {
  return (e: unknown) => e instanceof DsaError && e.code === code;
}

function flipBit(bytes: Uint8Array, index: number): Uint8Array {
  const copy = bytes.slice();
  copy[index] ^= 1;
  return copy;
}

interface Rfc6979Fixture {
  p: string;
  q: string;
  g: string;
  x: string;
  y: string;
  signatures: { hash: "SHA-224" | "SHA-256"; message: string; r: string; s: string }[];
}

const rfc = JSON.parse(readFixture("rfc6979_dsa2048.json")) as Rfc6979Fixture;
const rfcDomain: DsaDomain = { p: BigInt("0x" + rfc.p), q: BigInt("0x" + rfc.q), g: BigInt("0x" + rfc.g) };
const rfcKey: DsaPrivateKey = {
  type: "dsa-private",
  domain: rfcDomain,
  x: BigInt("0x" + rfc.x),
  y: BigInt("0x" + rfc.y),
};

for (const vector of rfc.signatures) {
  Deno.test(`RFC 6979 A.2.2: DSA-2048 with ${vector.hash} over "${vector.message}" gives the published r and s`, () => {
    const digest = createHash(vector.hash === "SHA-224" ? "sha224" : "sha256").update(vector.message)
      .digest();
    const { r, s } = signDigest(rfcKey, new Uint8Array(digest), vector.hash);
    assert.equal(r, BigInt("0x" + vector.r));
    assert.equal(s, BigInt("0x" + vector.s));
    assert.ok(verifyDigest(publicKeyOf(rfcKey), new Uint8Array(digest), { r, s }));
  });
}

Deno.test("the blinded signer gives the RFC 6979 signatures every time, and so does the unprotected baseline", () => {
  for (const vector of rfc.signatures) {
    const digest = new Uint8Array(
      createHash(vector.hash === "SHA-224" ? "sha224" : "sha256").update(vector.message).digest(),
    );
    const expected = { r: BigInt("0x" + vector.r), s: BigInt("0x" + vector.s) };
    // Fresh blinds on every call: none of them may show in r or s.
    for (let i = 0; i < 8; i++) assert.deepEqual(signDigest(rfcKey, digest, vector.hash), expected);
    assert.deepEqual(signDigestUnprotected(rfcKey, digest, vector.hash), expected);
  }
});

Deno.test("rfc6979Nonces yields the k behind each RFC 6979 A.2.2 signature: r = (g^k mod p) mod q", () => {
  for (const vector of rfc.signatures) {
    const digest = new Uint8Array(
      createHash(vector.hash === "SHA-224" ? "sha224" : "sha256").update(vector.message).digest(),
    );
    const k = rfc6979Nonces(rfcKey, digest, vector.hash)();
    assert.equal(modPow(rfcDomain.g, k, rfcDomain.p) % rfcDomain.q, BigInt("0x" + vector.r));
  }
});

Deno.test("the unprotected baseline signs byte for byte like sign, for both sizes and many messages", () => {
  for (const keys of [keys256, keys224]) {
    for (let i = 0; i < 8; i++) {
      const m = new TextEncoder().encode(`reading ${i}`);
      assert.deepEqual(signUnprotected(keys.privateKey, m), sign(keys.privateKey, m));
    }
  }
});

Deno.test("sign then verify succeeds for a 2048/256 key", () => {
  assert.ok(verify(keys256.publicKey, message, sign(keys256.privateKey, message)));
});

Deno.test("sign then verify succeeds for a 2048/224 key", () => {
  assert.ok(verify(keys224.publicKey, message, sign(keys224.privateKey, message)));
});

Deno.test("the hash follows N: a 2048/224 signature is over SHA-224 of the message", () => {
  const signature = sign(keys224.privateKey, message);
  const sha224 = new Uint8Array(createHash("sha224").update(message).digest());
  assert.ok(verifyDigest(keys224.publicKey, sha224, decodeSignatureDer(signature)));
  assert.equal(digestForKey(keys256.publicKey, message).length, 32);
});

Deno.test("signing is deterministic: the same key and message give the same bytes", () => {
  assert.deepEqual(sign(keys256.privateKey, message), sign(keys256.privateKey, message));
});

Deno.test("different messages give different signatures", () => {
  const other = new TextEncoder().encode("temperature=21.6");
  assert.notDeepEqual(sign(keys256.privateKey, message), sign(keys256.privateKey, other));
});

Deno.test("a digest longer than N bits is truncated to its leftmost N bits (FIPS 186-4 §4.6)", () => {
  const digest = new Uint8Array(createHash("sha256").update(message).digest());
  const longer = new Uint8Array([...digest, 0xff, 0xee]);
  // 224-bit q: both digests share their leftmost 224 bits, so z and the RFC 6979 k are the same.
  const a = signDigest(keys224.privateKey, digest, "SHA-256");
  const b = signDigest(keys224.privateKey, longer, "SHA-256");
  assert.deepEqual(a, b);
  assert.ok(verifyDigest(keys224.publicKey, longer, a));
  const changedTail = digest.slice();
  changedTail[31] ^= 0xff; // beyond bit 224: ignored
  assert.ok(verifyDigest(keys224.publicKey, changedTail, a));
  const changedHead = digest.slice();
  changedHead[0] ^= 0x01;
  assert.equal(verifyDigest(keys224.publicKey, changedHead, a), false);
});

Deno.test("verify rejects a tampered message", () => {
  const signature = sign(keys256.privateKey, message);
  assert.equal(verify(keys256.publicKey, flipBit(message, 3), signature), false);
});

Deno.test("verify rejects a signature with any single bit of r or s flipped", () => {
  const signature = sign(keys256.privateKey, message);
  for (let i = 0; i < signature.length; i++) {
    assert.equal(verify(keys256.publicKey, message, flipBit(signature, i)), false, `bit flip at byte ${i}`);
  }
});

Deno.test("verify rejects a signature made by another key over the same domain", async () => {
  const other = await generateKeyPair(domain256);
  assert.equal(verify(keys256.publicKey, message, sign(other.privateKey, message)), false);
});

Deno.test("verify returns false for r or s outside (0, q)", () => {
  const { q } = keys256.publicKey.domain;
  const good = decodeSignatureDer(sign(keys256.privateKey, message));
  const cases = [
    { r: 0n, s: good.s },
    { r: good.r, s: 0n },
    { r: q, s: good.s },
    { r: good.r, s: q },
    { r: good.r + q, s: good.s },
    { r: good.r, s: good.s + q },
    { r: -good.r, s: good.s },
    { r: good.r - q, s: good.s },
  ];
  for (const sig of cases) {
    assert.equal(verify(keys256.publicKey, message, encodeSignatureDer(sig)), false, `r=${sig.r} s=${sig.s}`);
  }
});

Deno.test("verify returns false for non-DER encodings of a valid signature", () => {
  const good = sign(keys256.privateKey, message);
  const { r, s } = decodeSignatureDer(good);
  const rBytes = encodeInteger(r);
  const sBytes = encodeInteger(s);
  const body = new Uint8Array([...rBytes, ...sBytes]);
  const longLength = new Uint8Array([0x30, 0x81, body.length, ...body]); // non-minimal length
  const indefinite = new Uint8Array([0x30, 0x80, ...body, 0, 0]); // BER
  const paddedR = new Uint8Array([0x02, rBytes[1] + 1, 0x00, ...rBytes.subarray(2)]); // non-minimal integer
  const paddedInteger = encodeSequence(paddedR, sBytes).slice();
  assert.ok(verify(keys256.publicKey, message, good));
  for (
    const [name, bad] of [
      ["trailing byte", new Uint8Array([...good, 0])],
      ["long-form length", longLength],
      ["indefinite length", indefinite],
      ["padded integer", paddedInteger],
      ["truncated", good.subarray(0, good.length - 1)],
      ["empty", new Uint8Array()],
      ["extra integer", encodeSequence(rBytes, sBytes, encodeInteger(1n))],
      ["r only", encodeSequence(rBytes)],
    ] as const
  ) {
    assert.equal(verify(keys256.publicKey, message, bad), false, name);
  }
});

Deno.test("verify returns false rather than throwing for malformed keys and arguments", () => {
  const signature = sign(keys256.privateKey, message);
  const { domain, y } = keys256.publicKey;
  const hostileKeys: unknown[] = [
    null,
    undefined,
    {},
    { type: "dsa-public", domain, y: 1n },
    { type: "dsa-public", domain, y: domain.p - 1n },
    { type: "dsa-public", domain, y: Number(5) },
    { type: "dsa-public", domain: null, y },
    { type: "dsa-public", domain: { ...domain, q: domain.q + 2n }, y },
    { type: "dsa-public", domain: { ...domain, p: domain.p >> 1024n }, y },
    { type: "dsa-private", domain, y },
  ];
  for (const key of hostileKeys) {
    assert.equal(
      verify(key as DsaPublicKey, message, signature),
      false,
      JSON.stringify(key, (_, v) => String(v)),
    );
  }
  assert.equal(verify(keys256.publicKey, "text" as unknown as Uint8Array, signature), false);
  assert.equal(verify(keys256.publicKey, message, null as unknown as Uint8Array), false);
  assert.equal(verifyDigest(keys256.publicKey, message, null as unknown as { r: bigint; s: bigint }), false);
});

Deno.test("verify notices a key mutated after it was first validated", () => {
  const key: DsaPublicKey = { type: "dsa-public", domain: { ...domain256 }, y: keys256.publicKey.y };
  const signature = sign(keys256.privateKey, message);
  assert.ok(verify(key, message, signature));
  key.y = 1n;
  assert.equal(verify(key, message, signature), false);
  key.y = keys256.publicKey.y;
  key.domain.g = 1n;
  assert.equal(verify(key, message, signature), false);
});

Deno.test("keys imported with one domain get their own domain objects: mutating one leaves the others valid", () => {
  const pem = exportPublicKeyPem(keys256.publicKey);
  const a = importPublicKeyPem(pem);
  const b = importPublicKeyPem(pem);
  const c = importPrivateKeyPem(exportPrivateKeyPem(keys256.privateKey));
  assert.notEqual(a.domain, b.domain);
  assert.notEqual(a.domain, c.domain);
  assert.deepEqual(a.domain, sharedDomain({ ...domain256 }));
  const signature = sign(c, message);
  a.domain.g = 1n;
  assert.equal(verify(a, message, signature), false);
  assert.ok(verify(b, message, signature));
  assert.ok(verify(importPublicKeyPem(pem), message, sign(c, message)));
});

Deno.test("sharedDomain refuses what validateDomain refuses, also once a good domain of that p is known", () => {
  const { p, q, g } = domain256;
  sharedDomain(domain256);
  assert.throws(() => sharedDomain({ p, q, g: 1n }), isDsaError("DSA_INVALID_DOMAIN"));
  assert.throws(() => sharedDomain({ p, q: q + 2n, g }), isDsaError("DSA_INVALID_DOMAIN"));
  assert.throws(() => sharedDomain({ p: p >> 1n, q, g }), isDsaError("DSA_UNSUPPORTED_SIZE"));
});

Deno.test("public and private keys round-trip through PEM", () => {
  const pub = importPublicKeyPem(exportPublicKeyPem(keys256.publicKey));
  const priv = importPrivateKeyPem(exportPrivateKeyPem(keys256.privateKey));
  assert.deepEqual(pub, keys256.publicKey);
  assert.deepEqual(priv, keys256.privateKey);
  assert.ok(verify(pub, message, sign(priv, message)));
});

Deno.test("exported PEM has the SPKI and PKCS#8 labels and the DSA OID", () => {
  const pub = exportPublicKeyPem(keys224.publicKey);
  const priv = exportPrivateKeyPem(keys224.privateKey);
  assert.match(pub, /^-----BEGIN PUBLIC KEY-----\n[A-Za-z0-9+/=\n]+-----END PUBLIC KEY-----\n$/);
  assert.match(priv, /^-----BEGIN PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+-----END PRIVATE KEY-----\n$/);
  assert.equal(DSA_OID, "1.2.840.10040.4.1");
  assert.ok(toHex(exportPublicKeyDer(keys224.publicKey)).includes("06072a8648ce380401"));
});

Deno.test("an OpenSSL-made PKCS#8 key and SPKI public key import and match", () => {
  const priv = importPrivateKeyPem(readFixture("dsa2048_256_openssl_private.pem"));
  const pub = importPublicKeyPem(readFixture("dsa2048_256_openssl_public.pem"));
  assert.equal(priv.y, pub.y);
  assert.deepEqual(priv.domain, domain256);
  assert.equal(exportPrivateKeyPem(priv), readFixture("dsa2048_256_openssl_private.pem"));
  assert.equal(exportPublicKeyPem(pub), readFixture("dsa2048_256_openssl_public.pem"));
});

Deno.test("a signature made by `openssl dgst -sha256 -sign` verifies, and fails for another message", () => {
  const pub = importPublicKeyPem(readFixture("dsa2048_256_openssl_public.pem"));
  const signature = Deno.readFileSync(new URL("dsa2048_256_openssl_sample.sig", fixtures));
  assert.ok(verify(pub, new TextEncoder().encode("sample"), signature));
  assert.equal(verify(pub, new TextEncoder().encode("sampla"), signature), false);
});

Deno.test("DSA parameters round-trip through PEM", () => {
  assert.deepEqual(importDomainPem(exportDomainPem(domain224)), domain224);
  assert.equal(exportDomainPem(domain256), readFixture("dsa2048_256_params.pem"));
});

Deno.test("importPublicKeyPem rejects a PEM with the wrong label or broken base64", () => {
  const pem = exportPublicKeyPem(keys256.publicKey);
  assert.throws(
    () => importPublicKeyPem(pem.replaceAll("PUBLIC KEY", "RSA PUBLIC KEY")),
    isDsaError("DSA_INVALID_KEY_ENCODING"),
  );
  assert.throws(() => importPublicKeyPem(pem.replace("M", "*")), isDsaError("DSA_INVALID_KEY_ENCODING"));
});

Deno.test("importPublicKeyDer rejects another algorithm's OID", () => {
  const der = exportPublicKeyDer(keys256.publicKey);
  const hex = toHex(der).replace("06072a8648ce380401", "06072a8648ce3d0201"); // id-ecPublicKey
  assert.throws(() => importPublicKeyDer(fromHex(hex)), isDsaError("DSA_INVALID_KEY_ENCODING"));
});

Deno.test("importPublicKeyDer rejects trailing bytes after the SPKI", () => {
  const der = exportPublicKeyDer(keys256.publicKey);
  assert.throws(
    () => importPublicKeyDer(new Uint8Array([...der, 0])),
    isDsaError("DSA_INVALID_KEY_ENCODING"),
  );
});

Deno.test("importPrivateKeyPem rejects x = 0 and x ≥ q", () => {
  const { p, q, g } = domain256;
  for (const x of [0n, q, q + 1n]) {
    // Built by hand: exportPrivateKeyPem refuses invalid keys.
    const der = encodeSequence(
      encodeInteger(0n),
      encodeSequence(
        encodeOid(DSA_OID),
        encodeSequence(encodeInteger(p), encodeInteger(q), encodeInteger(g)),
      ),
      encodeOctetString(encodeInteger(x)),
    );
    assert.throws(
      () => importPrivateKeyPem(toPem("PRIVATE KEY", der)),
      isDsaError("DSA_INVALID_PRIVATE_KEY"),
      `x=${x}`,
    );
  }
});

Deno.test("exportPrivateKeyPem refuses a key whose y does not match x", () => {
  const bad: DsaPrivateKey = { ...keys256.privateKey, y: keys224.privateKey.y };
  assert.throws(() => exportPrivateKeyPem(bad), isDsaError("DSA_INVALID_PRIVATE_KEY"));
});

Deno.test("sign refuses an invalid private key with a DsaError", () => {
  const bad: DsaPrivateKey = { ...keys256.privateKey, x: 0n };
  assert.throws(() => sign(bad, message), isDsaError("DSA_INVALID_PRIVATE_KEY"));
});

Deno.test("validateDomain accepts the fixture domains, including the primality check", () => {
  validateDomain(domain224, { checkPrimes: true });
  validateDomain(domain256, { checkPrimes: true });
  assert.equal(bitLength(domain224.q), 224);
  assert.equal(bitLength(domain256.q), 256);
});

Deno.test("validateDomain rejects sizes other than 2048/224 and 2048/256", () => {
  const { p, q, g } = domain256;
  assert.throws(() => validateDomain({ p: p >> 1024n, q, g }), isDsaError("DSA_UNSUPPORTED_SIZE"));
  assert.throws(() => validateDomain({ p: (p << 1024n) + 1n, q, g }), isDsaError("DSA_UNSUPPORTED_SIZE"));
  assert.throws(() => validateDomain({ p, q: q >> 96n, g }), isDsaError("DSA_UNSUPPORTED_SIZE"));
  assert.throws(() => validateDomain({ p, q: q << 8n, g }), isDsaError("DSA_UNSUPPORTED_SIZE"));
});

Deno.test("validateDomain rejects q that does not divide p − 1", () => {
  const { p, q, g } = domain256;
  assert.throws(() => validateDomain({ p, q: q + 2n, g }), isDsaError("DSA_INVALID_DOMAIN"));
});

Deno.test("validateDomain rejects g outside (1, p) or of order other than q", () => {
  const { p, q } = domain256;
  for (const g of [0n, 1n, p, p + 5n, -2n]) {
    assert.throws(() => validateDomain({ p, q, g }), isDsaError("DSA_INVALID_DOMAIN"), `g=${g}`);
  }
  const g = 2n; // a generator of the full group, not of the order-q subgroup
  assert.notEqual(modPow(g, q, p), 1n);
  assert.throws(() => validateDomain({ p, q, g }), isDsaError("DSA_INVALID_DOMAIN"));
});

Deno.test("validatePublicKey rejects y outside [2, p − 2] or with y^q ≠ 1", () => {
  const { domain } = keys256.publicKey;
  for (const y of [0n, 1n, domain.p - 1n, domain.p, 2n]) {
    assert.throws(
      () => validatePublicKey({ type: "dsa-public", domain, y }),
      isDsaError("DSA_INVALID_PUBLIC_KEY"),
      `y=${y}`,
    );
  }
  validatePublicKey(keys256.publicKey);
});

Deno.test("generateKeyPair given a domain keeps it and draws x in [1, q − 1] with y = g^x", async () => {
  const { publicKey, privateKey } = await generateKeyPair(domain224);
  assert.deepEqual(publicKey.domain, domain224);
  assert.ok(privateKey.x >= 1n && privateKey.x < domain224.q);
  assert.equal(publicKey.y, modPow(domain224.g, privateKey.x, domain224.p));
  assert.notEqual(privateKey.x, keys224.privateKey.x);
});

Deno.test("generateDomain makes a valid 2048/256 domain with prime p and q, usable for signing", async () => {
  const started = performance.now();
  const domain = await generateDomain("2048-256");
  const elapsedMs = performance.now() - started;
  console.log(`generateDomain("2048-256") took ${elapsedMs.toFixed(0)} ms`);
  validateDomain(domain, { checkPrimes: true });
  assert.equal(bitLength(domain.p), 2048);
  assert.equal(bitLength(domain.q), 256);
  const { publicKey, privateKey } = await generateKeyPair(domain);
  assert.ok(verify(publicKey, message, sign(privateKey, message)));
});

Deno.test("generateDomain rejects an unsupported size", async () => {
  await assert.rejects(() => generateDomain("1024-160" as "2048-256"), isDsaError("DSA_UNSUPPORTED_SIZE"));
});
