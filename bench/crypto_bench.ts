/**
 * `deno bench bench/crypto_bench.ts` — cost of each primitive and of the envelope: RSA-OAEP wrap/unwrap,
 * AES-256-GCM on a small payload, Ed25519 and DSA-2048 sign/verify, and `seal`/`open` per suite with a
 * fresh epoch key per message versus a cached epoch key.
 * @module
 */

import { aesGcmDecrypt, aesGcmEncrypt, importAesKey } from "../crypto/aes.ts";
import { utf8Encode } from "../crypto/codec.ts";
import {
  EpochKeyCache,
  newEpochKey,
  open,
  type OpenDeps,
  seal,
  type Suite,
  SUITE_DSA,
  SUITE_ED25519,
} from "../crypto/envelope.ts";
import { generateEd25519KeyPair, signEd25519, verifyEd25519 } from "../crypto/ed25519.ts";
import { unwrapSessionKey, wrapSessionKey } from "../crypto/rsa.ts";
import { signMessage, verifySignature } from "../crypto/signature.ts";
import { fixtureTrust, loadEnvelopeFixtureKeys } from "../testkit/fixture_keys.ts";

const randomBytes = (n: number) => crypto.getRandomValues(new Uint8Array(n));
const TOPIC = "home/livingroom/lamp/set";
const PAYLOAD = utf8Encode('{"state":"on","brightness":80}');

const { rsaPublic, rsaPrivate, senders: keys } = await loadEnvelopeFixtureKeys();

// --- primitives -------------------------------------------------------------------------------------

const sessionKey = randomBytes(32);
const wrapped = await wrapSessionKey(rsaPublic, sessionKey);
Deno.bench("RSA-OAEP-2048 wrap 32-byte key", { group: "rsa" }, async () => {
  await wrapSessionKey(rsaPublic, sessionKey);
});
Deno.bench("RSA-OAEP-2048 unwrap", { group: "rsa" }, async () => {
  await unwrapSessionKey(rsaPrivate, wrapped);
});

const aesKey = await importAesKey(sessionKey);
const nonce = randomBytes(12);
const aad = utf8Encode(TOPIC);
const aesSealed = await aesGcmEncrypt(aesKey, nonce, PAYLOAD, aad);
Deno.bench("AES-256-GCM encrypt 30 B", { group: "aes" }, async () => {
  await aesGcmEncrypt(aesKey, nonce, PAYLOAD, aad);
});
Deno.bench("AES-256-GCM decrypt 30 B", { group: "aes" }, async () => {
  await aesGcmDecrypt(aesKey, nonce, aesSealed, aad);
});

// AES-GCM inline through node:crypto (what aesGcmEncrypt/aesGcmDecrypt do) against the same key through
// WebCrypto, whose calls hop to a worker thread and back; 200 B is about a door reading's plaintext.
{
  const plaintext = randomBytes(200);
  const sealed = new Uint8Array(await aesGcmEncrypt(aesKey, nonce, plaintext, aad));
  const params = {
    name: "AES-GCM",
    iv: new Uint8Array(nonce),
    additionalData: new Uint8Array(aad),
    tagLength: 128,
  };
  Deno.bench(
    "AES-256-GCM decrypt 200 B, node:crypto inline",
    { group: "aes-backend", baseline: true },
    async () => {
      await aesGcmDecrypt(aesKey, nonce, sealed, aad);
    },
  );
  Deno.bench("AES-256-GCM decrypt 200 B, WebCrypto", { group: "aes-backend" }, async () => {
    await crypto.subtle.decrypt(params, aesKey, sealed);
  });
  Deno.bench("AES-256-GCM encrypt 200 B, node:crypto inline", { group: "aes-backend" }, async () => {
    await aesGcmEncrypt(aesKey, nonce, plaintext, aad);
  });
  Deno.bench("AES-256-GCM encrypt 200 B, WebCrypto", { group: "aes-backend" }, async () => {
    await crypto.subtle.encrypt(params, aesKey, plaintext);
  });
}

const message = randomBytes(700); // about the size of an envelope's signed bytes

for (const suite of [SUITE_ED25519, SUITE_DSA] as const) {
  const { signingKey, publicKey } = keys[suite];
  const sig = await signMessage(signingKey, message);
  Deno.bench(`${signingKey.scheme} sign 700 B`, { group: "signature" }, async () => {
    await signMessage(signingKey, message);
  });
  Deno.bench(`${signingKey.scheme} verify 700 B`, { group: "signature" }, async () => {
    await verifySignature(publicKey, message, sig);
  });
}

// Ed25519 inline through node:crypto (what signEd25519/verifyEd25519 do) against the same key through
// WebCrypto, whose calls hop to a worker thread and back.
{
  const pair = await generateEd25519KeyPair();
  const sig = await signEd25519(pair.privateKey, message);
  Deno.bench("Ed25519 verify 700 B, node:crypto inline", { group: "ed25519", baseline: true }, async () => {
    await verifyEd25519(pair.publicKey, message, sig);
  });
  Deno.bench("Ed25519 verify 700 B, WebCrypto", { group: "ed25519" }, async () => {
    await crypto.subtle.verify("Ed25519", pair.publicKey, sig.slice(), message);
  });
  Deno.bench("Ed25519 sign 700 B, node:crypto inline", { group: "ed25519" }, async () => {
    await signEd25519(pair.privateKey, message);
  });
  Deno.bench("Ed25519 sign 700 B, WebCrypto", { group: "ed25519" }, async () => {
    await crypto.subtle.sign("Ed25519", pair.privateKey, message);
  });
}

// --- envelope ---------------------------------------------------------------------------------------

function depsFor(keyCache?: EpochKeyCache): OpenDeps {
  return {
    clock: { now: () => 1_700_000_000_000 },
    trust: fixtureTrust(keys),
    replay: { isFresh: () => true },
    recipientPrivateKey: rsaPrivate,
    keyCache,
  };
}

async function sealOne(suite: Suite, epochKey: Awaited<ReturnType<typeof newEpochKey>>) {
  return await seal({
    topic: TOPIC,
    sender: keys[suite].sender,
    counter: 1,
    ts: 1_700_000_000_000,
    msgId: "m-1",
    plaintext: PAYLOAD,
    suite,
    signingKey: keys[suite].signingKey,
    epochKey,
    randomBytes,
  });
}

for (const suite of [SUITE_DSA, SUITE_ED25519] as const) {
  const scheme = keys[suite].signingKey.scheme;

  Deno.bench(
    `seal ${scheme}, epoch length 1 (RSA wrap per message)`,
    { group: `seal ${scheme}` },
    async () => {
      await sealOne(suite, await newEpochKey(rsaPublic, randomBytes));
    },
  );
  let epoch = await newEpochKey(rsaPublic, randomBytes, { maxMessages: 65_536 });
  Deno.bench(`seal ${scheme}, shared epoch key`, { group: `seal ${scheme}` }, async () => {
    if (epoch.exhausted) epoch = await newEpochKey(rsaPublic, randomBytes, { maxMessages: 65_536 });
    await sealOne(suite, epoch);
  });

  const fresh = await sealOne(suite, await newEpochKey(rsaPublic, randomBytes));
  Deno.bench(`open ${scheme}, no cache (RSA unwrap per message)`, { group: `open ${scheme}` }, async () => {
    const result = await open(fresh, TOPIC, depsFor());
    if (!result.ok) throw new Error(result.code);
  });
  const cache = new EpochKeyCache();
  const cached = await sealOne(suite, await newEpochKey(rsaPublic, randomBytes));
  await open(cached, TOPIC, depsFor(cache));
  Deno.bench(`open ${scheme}, cached epoch key`, { group: `open ${scheme}` }, async () => {
    const result = await open(cached, TOPIC, depsFor(cache));
    if (!result.ok || !result.stages.unwrapCached) throw new Error("expected a cache hit");
  });
}
