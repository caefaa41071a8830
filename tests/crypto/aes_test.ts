import assert from "node:assert/strict";
import { AES_TAG_BYTES, aesGcmDecrypt, aesGcmEncrypt, AesGcmError, importAesKey } from "../../crypto/aes.ts";
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
      const nonce = fromHex(t.iv);
      const aad = fromHex(t.aad);
      const sealed = concatBytes(fromHex(t.ct), fromHex(t.tag));
      let opened: Uint8Array | undefined;
      try {
        opened = await aesGcmDecrypt(key, nonce, sealed, aad);
      } catch (err) {
        assert.ok(err instanceof AesGcmError, `tcId ${t.tcId}: unexpected ${err}`);
      }
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
