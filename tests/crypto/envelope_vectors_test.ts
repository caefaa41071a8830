import assert from "node:assert/strict";
import { fromBase64Url, fromHex, toHex, utf8Decode, utf8Encode } from "../../crypto/codec.ts";
import {
  envelopeAssociatedData,
  envelopeSignedBytes,
  importEpochKey,
  open,
  seal,
  type Suite,
  SUITE_SIGNATURE_SCHEME,
} from "../../crypto/envelope.ts";
import { importRsaPrivateKeyPem, unwrapSessionKey } from "../../crypto/rsa.ts";
import { importSigningKeyPem, importVerifyingKeyPem, verifySignature } from "../../crypto/signature.ts";

interface VectorCase {
  suite: Suite;
  sender: string;
  signing_key_pem: string;
  verifying_key_pem: string;
  aad_hex: string;
  signed_bytes_hex: string;
  envelope: string;
}
interface VectorFile {
  recipient_rsa_private_key_pem: string;
  session_key_hex: string;
  wrapped_key_b64url: string;
  nonce_hex: string;
  topic: string;
  counter: number;
  ts: number;
  msg_id: string;
  plaintext_utf8: string;
  cases: VectorCase[];
}

const DIR = new URL("../fixtures/envelope_v1/", import.meta.url);
const read = (name: string) => Deno.readTextFile(new URL(name, DIR));
const vectors = JSON.parse(await read("vectors.json")) as VectorFile;
const sessionKey = fromHex(vectors.session_key_hex);
const wrappedKey = fromBase64Url(vectors.wrapped_key_b64url);
const nonce = fromHex(vectors.nonce_hex);
const recipientPrivateKey = await importRsaPrivateKeyPem(await read(vectors.recipient_rsa_private_key_pem));

Deno.test("vectors: the fixed wrapped key unwraps to the fixed session key with the fixture RSA key", async () => {
  assert.deepEqual(await unwrapSessionKey(recipientPrivateKey, wrappedKey), sessionKey);
});

Deno.test("vectors: both suites are covered", () => {
  assert.deepEqual(vectors.cases.map((c) => c.suite).sort(), Object.keys(SUITE_SIGNATURE_SCHEME).sort());
});

for (const vector of vectors.cases) {
  const scheme = SUITE_SIGNATURE_SCHEME[vector.suite];
  const fields = {
    suite: vector.suite,
    topic: vectors.topic,
    sender: vector.sender,
    counter: vectors.counter,
    ts: vectors.ts,
  };

  Deno.test(`vectors ${vector.suite}: seal reproduces the envelope byte for byte`, async () => {
    const bytes = await seal({
      ...fields,
      msgId: vectors.msg_id,
      plaintext: utf8Encode(vectors.plaintext_utf8),
      signingKey: await importSigningKeyPem(scheme, await read(vector.signing_key_pem)),
      epochKey: await importEpochKey(sessionKey, wrappedKey),
      randomBytes: () => nonce.slice(),
    });
    assert.equal(utf8Decode(bytes), vector.envelope);
  });

  Deno.test(`vectors ${vector.suite}: AAD and signed bytes match the spec layout byte for byte`, async () => {
    const envelope = JSON.parse(vector.envelope);
    const ciphertext = fromBase64Url(envelope.ciphertext);
    assert.equal(toHex(envelopeAssociatedData(fields)), vector.aad_hex);
    const signed = envelopeSignedBytes({ ...fields, msgId: vectors.msg_id, wrappedKey, nonce, ciphertext });
    assert.equal(toHex(signed), vector.signed_bytes_hex);
    const verifyingKey = await importVerifyingKeyPem(scheme, await read(vector.verifying_key_pem));
    assert.equal(await verifySignature(verifyingKey, signed, fromBase64Url(envelope.sig)), true);
    // Decrypt with bare WebCrypto, independent of crypto/aes.ts.
    const key = await crypto.subtle.importKey("raw", sessionKey.slice(), "AES-GCM", false, ["decrypt"]);
    const plaintext = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: nonce.slice(), additionalData: fromHex(vector.aad_hex).slice() },
      key,
      ciphertext.slice(),
    );
    assert.equal(new TextDecoder().decode(plaintext), vectors.plaintext_utf8);
  });

  Deno.test(`vectors ${vector.suite}: open() accepts the envelope and returns the plaintext`, async () => {
    const publicKey = await importVerifyingKeyPem(scheme, await read(vector.verifying_key_pem));
    const result = await open(utf8Encode(vector.envelope), vectors.topic, {
      clock: { now: () => vectors.ts },
      trust: {
        lookup: (sender) =>
          sender === vector.sender ? { publicKey, suite: vector.suite, status: "active" } : undefined,
      },
      replay: { isFresh: () => true },
      recipientPrivateKey,
    });
    if (!result.ok) assert.fail(`${result.code}: ${result.detail}`);
    assert.equal(utf8Decode(result.message.plaintext), vectors.plaintext_utf8);
    assert.equal(result.message.msg_id, vectors.msg_id);
  });

  Deno.test(`vectors ${vector.suite}: docs/PROTOCOL.md quotes this exact envelope`, async () => {
    const spec = await Deno.readTextFile(new URL("../../docs/PROTOCOL.md", import.meta.url));
    assert.ok(spec.includes(vector.envelope), "PROTOCOL.md is out of date with vectors.json");
  });
}
