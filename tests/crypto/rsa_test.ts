import assert from "node:assert/strict";
import { fromHex } from "../../crypto/codec.ts";
import {
  exportRsaPrivateKeyPem,
  exportRsaPublicKeyPem,
  generateRsaKeyPair,
  importRsaPrivateKeyPem,
  importRsaPublicKeyPem,
  RSA_WRAPPED_KEY_BYTES,
  RsaError,
  rsaOaepDecrypt,
  unwrapSessionKey,
  wrapSessionKey,
} from "../../crypto/rsa.ts";

interface OaepVector {
  tcId: number;
  msg: string;
  ct: string;
  label: string;
  result: "valid" | "invalid" | "acceptable";
}
interface OaepGroup {
  keySize: number;
  sha: string;
  mgfSha: string;
  privateKeyPem: string;
  tests: OaepVector[];
}

const VECTORS = new URL(
  "../fixtures/wycheproof/rsa_oaep_2048_sha256_mgf1sha256_test.json",
  import.meta.url,
);
const FIXTURES = new URL("../fixtures/envelope_v1/", import.meta.url);

const isRsaError = (code: string) => (err: unknown) => err instanceof RsaError && err.code === code;

const pair = await generateRsaKeyPair();

Deno.test("wrapSessionKey gives 256 bytes that unwrapSessionKey turns back into the 32-byte key", async () => {
  const sessionKey = crypto.getRandomValues(new Uint8Array(32));
  const wrapped = await wrapSessionKey(pair.publicKey, sessionKey);
  assert.equal(wrapped.length, RSA_WRAPPED_KEY_BYTES);
  assert.deepEqual(await unwrapSessionKey(pair.privateKey, wrapped), sessionKey);
});

Deno.test("wrapSessionKey is randomised: two wraps of one key differ", async () => {
  const sessionKey = new Uint8Array(32).fill(1);
  const a = await wrapSessionKey(pair.publicKey, sessionKey);
  const b = await wrapSessionKey(pair.publicKey, sessionKey);
  assert.notDeepEqual(a, b);
});

Deno.test("wrapSessionKey refuses a session key that is not 32 bytes", async () => {
  await assert.rejects(() => wrapSessionKey(pair.publicKey, new Uint8Array(16)), isRsaError("BAD_KEY"));
});

Deno.test("unwrapSessionKey fails with UNWRAP_FAILED on a flipped bit, a wrong length, or another key", async () => {
  const wrapped = await wrapSessionKey(pair.publicKey, new Uint8Array(32));
  const flipped = wrapped.slice();
  flipped[100] ^= 1;
  await assert.rejects(() => unwrapSessionKey(pair.privateKey, flipped), isRsaError("UNWRAP_FAILED"));
  await assert.rejects(
    () => unwrapSessionKey(pair.privateKey, wrapped.slice(1)),
    isRsaError("UNWRAP_FAILED"),
  );
  const other = await generateRsaKeyPair();
  await assert.rejects(() => unwrapSessionKey(other.privateKey, wrapped), isRsaError("UNWRAP_FAILED"));
});

Deno.test("unwrapSessionKey refuses a valid OAEP ciphertext that does not hold exactly 32 bytes", async () => {
  const sixteen = new Uint8Array(
    await crypto.subtle.encrypt({ name: "RSA-OAEP" }, pair.publicKey, new Uint8Array(16)),
  );
  await assert.rejects(() => unwrapSessionKey(pair.privateKey, sixteen), isRsaError("UNWRAP_FAILED"));
});

Deno.test("PEM export then import round-trips both halves (SPKI and PKCS#8)", async () => {
  const publicPem = await exportRsaPublicKeyPem(pair.publicKey);
  const privatePem = await exportRsaPrivateKeyPem(pair.privateKey);
  assert.match(publicPem, /^-----BEGIN PUBLIC KEY-----\n/);
  assert.match(privatePem, /^-----BEGIN PRIVATE KEY-----\n/);
  const sessionKey = crypto.getRandomValues(new Uint8Array(32));
  const wrapped = await wrapSessionKey(await importRsaPublicKeyPem(publicPem), sessionKey);
  assert.deepEqual(await unwrapSessionKey(await importRsaPrivateKeyPem(privatePem), wrapped), sessionKey);
});

Deno.test("the OpenSSL-made fixture key pair imports and works", async () => {
  const publicKey = await importRsaPublicKeyPem(await Deno.readTextFile(new URL("rsa_public.pem", FIXTURES)));
  const privateKey = await importRsaPrivateKeyPem(
    await Deno.readTextFile(new URL("rsa_private.pem", FIXTURES)),
  );
  const sessionKey = new Uint8Array(32).fill(0x42);
  assert.deepEqual(
    await unwrapSessionKey(privateKey, await wrapSessionKey(publicKey, sessionKey)),
    sessionKey,
  );
});

Deno.test("PEM import refuses garbage, the wrong label, and a non-2048-bit key", async () => {
  await assert.rejects(() => importRsaPublicKeyPem("not a pem"), isRsaError("BAD_KEY"));
  const privatePem = await exportRsaPrivateKeyPem(pair.privateKey);
  await assert.rejects(() => importRsaPublicKeyPem(privatePem), isRsaError("BAD_KEY"));
  const small = await crypto.subtle.generateKey(
    { name: "RSA-OAEP", hash: "SHA-256", modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]) },
    true,
    ["encrypt", "decrypt"],
  );
  await assert.rejects(
    async () => importRsaPublicKeyPem(await exportRsaPublicKeyPem(small.publicKey)),
    isRsaError("BAD_KEY"),
  );
});

Deno.test("Wycheproof RSA-OAEP-2048 SHA-256/MGF1-SHA-256: every vector, labels included", async () => {
  const file = JSON.parse(await Deno.readTextFile(VECTORS)) as { testGroups: OaepGroup[] };
  const counts = { valid: 0, invalid: 0, acceptable: 0 };
  for (const group of file.testGroups) {
    assert.equal(group.keySize, 2048);
    assert.equal(group.sha, "SHA-256");
    assert.equal(group.mgfSha, "SHA-256");
    const privateKey = await importRsaPrivateKeyPem(group.privateKeyPem);
    for (const t of group.tests) {
      let message: Uint8Array | undefined;
      try {
        message = await rsaOaepDecrypt(privateKey, fromHex(t.ct), fromHex(t.label));
      } catch (err) {
        assert.ok(
          err instanceof RsaError && err.code === "UNWRAP_FAILED",
          `tcId ${t.tcId}: unexpected ${err}`,
        );
      }
      if (t.result === "valid") assert.deepEqual(message, fromHex(t.msg), `tcId ${t.tcId} should decrypt`);
      else if (t.result === "invalid") assert.equal(message, undefined, `tcId ${t.tcId} should be rejected`);
      counts[t.result]++;
    }
  }
  console.log(`Wycheproof RSA-OAEP-2048-SHA256: ${JSON.stringify(counts)}`);
  assert.ok(counts.valid > 0 && counts.invalid > 0);
});
