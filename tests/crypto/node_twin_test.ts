import assert from "node:assert/strict";
import { KeyObject } from "node:crypto";
import { backendOf, nodeTwin } from "../../crypto/node_twin.ts";

async function aesKey(): Promise<CryptoKey> {
  return await crypto.subtle.importKey("raw", new Uint8Array(32).fill(5), { name: "AES-GCM" }, false, [
    "encrypt",
    "decrypt",
  ]);
}

Deno.test("nodeTwin: a key that fits gets a KeyObject of the same material, asked once and cached", async () => {
  const key = await aesKey();
  let asked = 0;
  const fits = () => {
    asked++;
    return true;
  };
  const twin = nodeTwin(key, fits);
  assert.ok(twin instanceof KeyObject);
  assert.equal(twin.type, "secret");
  assert.equal(twin.symmetricKeySize, 32);
  assert.equal(nodeTwin(key, fits), twin, "the same twin the second time");
  assert.equal(asked, 1);
  assert.equal(backendOf(twin), "node:crypto");
});

Deno.test("nodeTwin: a key that does not fit, or that KeyObject.from refuses, has no twin", async () => {
  assert.equal(nodeTwin(await aesKey(), () => false), null);
  assert.equal(backendOf(null), "webcrypto");
  const refused = { algorithm: { name: "AES-GCM" } } as unknown as CryptoKey; // not a real CryptoKey
  assert.equal(nodeTwin(refused, () => true), null);
});
