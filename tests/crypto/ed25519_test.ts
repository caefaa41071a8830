import assert from "node:assert/strict";
import { fromHex, utf8Encode } from "../../crypto/codec.ts";
import {
  ED25519_SIGNATURE_BYTES,
  ed25519Backend,
  Ed25519Error,
  exportEd25519PrivateKeyPem,
  exportEd25519PublicKeyPem,
  generateEd25519KeyPair,
  importEd25519PrivateKeyPem,
  importEd25519PublicKeyPem,
  signEd25519,
  verifyEd25519,
} from "../../crypto/ed25519.ts";

interface EddsaVector {
  tcId: number;
  msg: string;
  sig: string;
  result: "valid" | "invalid" | "acceptable";
}
interface EddsaGroup {
  publicKeyPem: string;
  tests: EddsaVector[];
}

const VECTORS = new URL("../fixtures/wycheproof/ed25519_test.json", import.meta.url);
const FIXTURES = new URL("../fixtures/envelope_v1/", import.meta.url);

const pair = await generateEd25519KeyPair();

Deno.test("signEd25519 gives 64 deterministic bytes that verifyEd25519 accepts", async () => {
  const message = utf8Encode("lamp on");
  const sig = await signEd25519(pair.privateKey, message);
  assert.equal(sig.length, ED25519_SIGNATURE_BYTES);
  assert.deepEqual(await signEd25519(pair.privateKey, message), sig);
  assert.equal(await verifyEd25519(pair.publicKey, message, sig), true);
});

Deno.test("verifyEd25519 is false for another message, a flipped bit, a wrong length or a wrong key", async () => {
  const message = utf8Encode("lamp on");
  const sig = await signEd25519(pair.privateKey, message);
  assert.equal(await verifyEd25519(pair.publicKey, utf8Encode("lamp off"), sig), false);
  const flipped = sig.slice();
  flipped[10] ^= 1;
  assert.equal(await verifyEd25519(pair.publicKey, message, flipped), false);
  assert.equal(await verifyEd25519(pair.publicKey, message, sig.slice(1)), false);
  assert.equal(await verifyEd25519((await generateEd25519KeyPair()).publicKey, message, sig), false);
});

Deno.test("verifyEd25519 never throws, even when handed a key of another algorithm", async () => {
  const aes = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt"]);
  assert.equal(await verifyEd25519(aes as CryptoKey, new Uint8Array(1), new Uint8Array(64)), false);
});

Deno.test("PEM round trip, and the OpenSSL-made fixture keys sign and verify", async () => {
  const publicKey = await importEd25519PublicKeyPem(await exportEd25519PublicKeyPem(pair.publicKey));
  const privateKey = await importEd25519PrivateKeyPem(await exportEd25519PrivateKeyPem(pair.privateKey));
  const message = utf8Encode("x");
  assert.equal(await verifyEd25519(publicKey, message, await signEd25519(privateKey, message)), true);

  const fixturePublic = await importEd25519PublicKeyPem(
    await Deno.readTextFile(new URL("ed25519_public.pem", FIXTURES)),
  );
  const fixturePrivate = await importEd25519PrivateKeyPem(
    await Deno.readTextFile(new URL("ed25519_private.pem", FIXTURES)),
  );
  assert.equal(await verifyEd25519(fixturePublic, message, await signEd25519(fixturePrivate, message)), true);
});

Deno.test("signEd25519 (node:crypto) gives WebCrypto's bytes, and verifyEd25519 takes WebCrypto's signatures", async () => {
  const pair = await generateEd25519KeyPair();
  assert.equal(ed25519Backend(pair.privateKey), "node:crypto");
  const message = utf8Encode("door open");
  const web = new Uint8Array(await crypto.subtle.sign("Ed25519", pair.privateKey, message.slice()));
  assert.deepEqual(await signEd25519(pair.privateKey, message), web);
  assert.equal(await verifyEd25519(pair.publicKey, message, web), true);
});

Deno.test("PEM import refuses garbage and the wrong label with Ed25519Error", async () => {
  await assert.rejects(() => importEd25519PublicKeyPem("nope"), (e) => e instanceof Ed25519Error);
  const privatePem = await exportEd25519PrivateKeyPem(pair.privateKey);
  await assert.rejects(() => importEd25519PublicKeyPem(privatePem), (e) => e instanceof Ed25519Error);
});

Deno.test("RFC 8032 §7.1 TEST 1 (empty message) verifies", async () => {
  const spki = new Uint8Array([
    ...fromHex("302a300506032b6570032100"),
    ...fromHex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"),
  ]);
  const publicKey = await crypto.subtle.importKey("spki", spki, { name: "Ed25519" }, true, ["verify"]);
  const sig = fromHex(
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
  );
  assert.equal(await verifyEd25519(publicKey, new Uint8Array(0), sig), true);
});

Deno.test("Wycheproof Ed25519: every verify vector, and the node:crypto path agrees with a WebCrypto verify on each", async () => {
  const file = JSON.parse(await Deno.readTextFile(VECTORS)) as { testGroups: EddsaGroup[] };
  const counts = { valid: 0, invalid: 0, acceptable: 0 };
  for (const group of file.testGroups) {
    const publicKey = await importEd25519PublicKeyPem(group.publicKeyPem);
    assert.equal(ed25519Backend(publicKey), "node:crypto");
    for (const t of group.tests) {
      const ok = await verifyEd25519(publicKey, fromHex(t.msg), fromHex(t.sig));
      if (t.result === "valid") assert.equal(ok, true, `tcId ${t.tcId} should verify`);
      else if (t.result === "invalid") assert.equal(ok, false, `tcId ${t.tcId} should be rejected`);
      const web = await crypto.subtle.verify(
        "Ed25519",
        publicKey,
        fromHex(t.sig).slice(),
        fromHex(t.msg).slice(),
      ).catch(() => false);
      assert.equal(ok, web, `tcId ${t.tcId}: node:crypto and WebCrypto give one verdict`);
      counts[t.result]++;
    }
  }
  console.log(`Wycheproof Ed25519: ${JSON.stringify(counts)}`);
  assert.ok(counts.valid > 0 && counts.invalid > 0);
});
