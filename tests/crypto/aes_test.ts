import assert from "node:assert/strict";
import {
  AES_TAG_BYTES,
  aesBackend,
  aesGcmDecrypt,
  aesGcmEncrypt,
  AesGcmError,
  importAesKey,
} from "../../crypto/aes.ts";
import { concatBytes, fromHex, utf8Encode } from "../../crypto/codec.ts";

interface AeadVector {
  tcId: number;
  key: string;
  iv: string;
  aad: string;
  msg: string;
  ct: string;
  tag: string;
  result: "valid" | "invalid" | "acceptable";
}
interface AeadGroup {
  keySize: number;
  ivSize: number;
  tagSize: number;
  tests: AeadVector[];
}

const VECTORS = new URL("../fixtures/wycheproof/aes_gcm_test.json", import.meta.url);

const isAesError = (code: string) => (err: unknown) => err instanceof AesGcmError && err.code === code;

Deno.test("aesGcmEncrypt output is ciphertext followed by a 16-byte tag and round-trips", async () => {
  const key = await importAesKey(new Uint8Array(32).fill(7));
  const nonce = new Uint8Array(12).fill(1);
  const sealed = await aesGcmEncrypt(key, nonce, utf8Encode("on"), utf8Encode("home/lamp"));
  assert.equal(sealed.length, 2 + AES_TAG_BYTES);
  assert.deepEqual(await aesGcmDecrypt(key, nonce, sealed, utf8Encode("home/lamp")), utf8Encode("on"));
});

Deno.test("aesGcmDecrypt rejects different associated data with AUTH_FAILED", async () => {
  const key = await importAesKey(new Uint8Array(32).fill(7));
  const nonce = new Uint8Array(12);
  const sealed = await aesGcmEncrypt(key, nonce, utf8Encode("on"), utf8Encode("home/lamp"));
  await assert.rejects(
    () => aesGcmDecrypt(key, nonce, sealed, utf8Encode("home/door")),
    isAesError("AUTH_FAILED"),
  );
});

Deno.test("aesGcmDecrypt rejects a flipped tag bit with AUTH_FAILED", async () => {
  const key = await importAesKey(new Uint8Array(32).fill(7));
  const nonce = new Uint8Array(12);
  const sealed = await aesGcmEncrypt(key, nonce, utf8Encode("on"), new Uint8Array(0));
  sealed[sealed.length - 1] ^= 1;
  await assert.rejects(() => aesGcmDecrypt(key, nonce, sealed, new Uint8Array(0)), isAesError("AUTH_FAILED"));
});

Deno.test("importAesKey and the cipher functions refuse wrong key, nonce and ciphertext lengths", async () => {
  await assert.rejects(() => importAesKey(new Uint8Array(16)), isAesError("BAD_INPUT"));
  const key = await importAesKey(new Uint8Array(32));
  await assert.rejects(
    () => aesGcmEncrypt(key, new Uint8Array(16), new Uint8Array(1), new Uint8Array(0)),
    isAesError("BAD_INPUT"),
  );
  await assert.rejects(
    () => aesGcmDecrypt(key, new Uint8Array(12), new Uint8Array(15), new Uint8Array(0)),
    isAesError("BAD_INPUT"),
  );
});

Deno.test("Wycheproof AES-GCM: every 256-bit-key, 96-bit-nonce, 128-bit-tag vector", async () => {
  const file = JSON.parse(await Deno.readTextFile(VECTORS)) as { testGroups: AeadGroup[] };
  const counts = { valid: 0, invalid: 0, acceptable: 0 };
  for (const group of file.testGroups) {
    if (group.keySize !== 256 || group.ivSize !== 96 || group.tagSize !== 128) continue;
    for (const t of group.tests) {
      const key = await importAesKey(fromHex(t.key));
      assert.equal(aesBackend(key), "node:crypto");
      const nonce = fromHex(t.iv);
      const aad = fromHex(t.aad);
      const sealed = concatBytes(fromHex(t.ct), fromHex(t.tag));
      let opened: Uint8Array | undefined;
      try {
        opened = await aesGcmDecrypt(key, nonce, sealed, aad);
      } catch (err) {
        assert.ok(err instanceof AesGcmError, `tcId ${t.tcId}: unexpected ${err}`);
      }
      // The same vector through WebCrypto, which the inline node:crypto path stands in for.
      let web: Uint8Array | undefined;
      try {
        web = new Uint8Array(
          await crypto.subtle.decrypt(
            { name: "AES-GCM", iv: nonce.slice(), additionalData: aad.slice(), tagLength: 128 },
            key,
            sealed.slice(),
          ),
        );
      } catch {
        web = undefined;
      }
      assert.deepEqual(opened, web, `tcId ${t.tcId}: node:crypto and WebCrypto give one verdict`);
      if (t.result === "valid") {
        assert.deepEqual(opened, fromHex(t.msg), `tcId ${t.tcId} should decrypt`);
        assert.deepEqual(
          await aesGcmEncrypt(key, nonce, fromHex(t.msg), aad),
          sealed,
          `tcId ${t.tcId} encrypt`,
        );
      } else if (t.result === "invalid") {
        assert.equal(opened, undefined, `tcId ${t.tcId} should be rejected`);
      }
      counts[t.result]++;
    }
  }
  console.log(`Wycheproof AES-GCM-256/96: ${JSON.stringify(counts)}`);
  assert.ok(counts.valid > 0 && counts.invalid > 0);
});

Deno.test("the inline path and WebCrypto seal the same bytes, and each opens what the other sealed", async () => {
  const key = await importAesKey(crypto.getRandomValues(new Uint8Array(32)));
  assert.equal(aesBackend(key), "node:crypto");
  const params = { name: "AES-GCM", iv: new Uint8Array(12).fill(9), additionalData: utf8Encode("home/door") };
  for (const size of [0, 1, 15, 16, 17, 200, 4096]) {
    const plaintext = crypto.getRandomValues(new Uint8Array(size));
    const inline = await aesGcmEncrypt(key, params.iv, plaintext, params.additionalData);
    const web = new Uint8Array(await crypto.subtle.encrypt(params, key, plaintext));
    assert.deepEqual(inline, web, `${size} bytes`);
    assert.deepEqual(await aesGcmDecrypt(key, params.iv, web, params.additionalData), plaintext);
    assert.deepEqual(new Uint8Array(await crypto.subtle.decrypt(params, key, inline)), plaintext);
  }
});

Deno.test("the inline decrypt hands out a private copy, never a view into a shared buffer", async () => {
  const key = await importAesKey(new Uint8Array(32).fill(3));
  const nonce = new Uint8Array(12);
  const sealed = await aesGcmEncrypt(key, nonce, utf8Encode("on"), new Uint8Array(0));
  const opened = await aesGcmDecrypt(key, nonce, sealed, new Uint8Array(0));
  assert.equal(Object.getPrototypeOf(opened), Uint8Array.prototype);
  assert.equal(opened.byteOffset, 0);
  assert.equal(opened.buffer.byteLength, opened.length);
});

Deno.test("a key that is not AES-256-GCM goes through WebCrypto, and WebCrypto refuses it", async () => {
  const key128 = await crypto.subtle.importKey("raw", new Uint8Array(16), { name: "AES-GCM" }, false, [
    "encrypt",
    "decrypt",
  ]);
  assert.equal(aesBackend(key128), "webcrypto");
  const encryptOnly = await crypto.subtle.importKey("raw", new Uint8Array(32), { name: "AES-GCM" }, false, [
    "encrypt",
  ]);
  const sealed = await aesGcmEncrypt(encryptOnly, new Uint8Array(12), utf8Encode("on"), new Uint8Array(0));
  // A key without the decrypt usage is not decrypted with inline: WebCrypto refuses it, as it always did.
  await assert.rejects(
    () => aesGcmDecrypt(encryptOnly, new Uint8Array(12), sealed, new Uint8Array(0)),
    isAesError("AUTH_FAILED"),
  );
});
