/** The secure sealer's key epochs, with and without keys made ahead of use. */

import assert from "node:assert/strict";
import { utf8Decode } from "../../crypto/codec.ts";
import { open, type Suite, SUITE_ED25519 } from "../../crypto/envelope.ts";
import { makeReading, SECURE_TOPIC } from "../../roles/door.ts";
import { secureSealer } from "../../roles/secure_sensor.ts";
import { loadEnvelopeFixtureKeys } from "../../testkit/fixture_keys.ts";

const keys = await loadEnvelopeFixtureKeys();
const SUITE: Suite = SUITE_ED25519;
const SENDER = keys.senders[SUITE];
const NOW_MS = 1_700_000_000_000;

function sealerFor(epochLength: number, prefetchKeys?: boolean) {
  return secureSealer({
    topic: SECURE_TOPIC,
    sensorId: SENDER.sender,
    suite: SUITE,
    signingKey: SENDER.signingKey,
    recipientPublicKey: keys.rsaPublic,
    epochLength,
    prefetchKeys,
  });
}

/** Seals `count` readings; returns each envelope's wrapped key and the sealer's `key_source`. */
async function sealMany(seal: ReturnType<typeof sealerFor>, count: number) {
  const out: { wrappedKey: string; key: string; payload: Uint8Array }[] = [];
  for (let counter = 1; counter <= count; counter++) {
    // Let the background preparation finish, as the pause between two readings does.
    await seal.idle();
    const { payload, fields } = await seal(makeReading(SENDER.sender, counter, NOW_MS, 21));
    const envelope = JSON.parse(utf8Decode(payload));
    out.push({ wrappedKey: envelope.wrapped_key, key: fields!.key_source as string, payload });
  }
  await seal.idle();
  return out;
}

Deno.test("with epochs, each prepared key opens exactly one epoch and is never reused by the next", async () => {
  const sealed = await sealMany(sealerFor(3), 8);
  const wrapped = sealed.map((s) => s.wrappedKey);
  // Epochs of 3, 3 and 2 messages, each under its own key.
  assert.deepEqual(wrapped.map((w) => wrapped.indexOf(w)), [0, 0, 0, 3, 3, 3, 6, 6]);
  assert.equal(new Set(wrapped).size, 3);
  assert.deepEqual(sealed.map((s) => s.key), [
    "ready",
    "reused",
    "reused",
    "ready",
    "reused",
    "reused",
    "ready",
    "reused",
  ]);
});

Deno.test("with a fresh key per message, every message takes its own prepared key", async () => {
  const sealed = await sealMany(sealerFor(1), 5);
  assert.equal(new Set(sealed.map((s) => s.wrappedKey)).size, 5);
  assert.deepEqual(sealed.map((s) => s.key), Array(5).fill("ready"));
});

Deno.test("prefetchKeys: false makes each epoch's key inside the seal that opens the epoch", async () => {
  const sealed = await sealMany(sealerFor(2, false), 4);
  assert.deepEqual(sealed.map((s) => s.key), ["on_demand", "reused", "on_demand", "reused"]);
  assert.equal(new Set(sealed.map((s) => s.wrappedKey)).size, 2);
});

Deno.test("a seal that comes before the prepared key is finished waits for that key, and it opens", async () => {
  const seal = sealerFor(1);
  // No idle(): the first key was started when the sealer was made and may still be in flight.
  const first = await seal(makeReading(SENDER.sender, 1, NOW_MS, 21));
  const second = await seal(makeReading(SENDER.sender, 2, NOW_MS, 21));
  await seal.idle();
  const sources = [first, second].map((s) => s.fields!.key_source as string);
  for (const source of sources) assert.ok(["ready", "in_flight"].includes(source), source);
  for (const [i, { payload }] of [first, second].entries()) {
    const result = await open(payload, SECURE_TOPIC, {
      clock: { now: () => NOW_MS },
      trust: { lookup: () => ({ publicKey: SENDER.publicKey, suite: SUITE, status: "active" }) },
      replay: { isFresh: () => true },
      recipientPrivateKey: keys.rsaPrivate,
    });
    assert.ok(result.ok, JSON.stringify(result));
    assert.equal(JSON.parse(utf8Decode(result.message.plaintext)).counter, i + 1);
  }
  const wrapped = [first, second].map((s) => JSON.parse(utf8Decode(s.payload)).wrapped_key);
  assert.notEqual(wrapped[0], wrapped[1]);
});
