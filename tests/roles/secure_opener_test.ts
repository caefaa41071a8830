/**
 * The secure opener's check 10: the counter is recorded while the message is decrypted (overlapCommit) or
 * after it (overlapCommit: false, the default); either way nothing is acted on before the counter is durable.
 */

import assert from "node:assert/strict";
import { FakeClock } from "../../core/clock.ts";
import {
  EpochKeyCache,
  importEpochKey,
  newEpochKey,
  seal,
  type Suite,
  SUITE_ED25519,
} from "../../crypto/envelope.ts";
import { wrapSessionKey } from "../../crypto/rsa.ts";
import type { Verdict } from "../../roles/actuator.ts";
import type { CommitOutcome } from "../../roles/commit_batcher.ts";
import { encodeReading, makeReading } from "../../roles/door.ts";
import { secureOpener, type SecureOpenerDeps } from "../../roles/secure_actuator.ts";
import { webCryptoRandom } from "../../roles/secure_sensor.ts";
import { type AcceptItem, MemoryReplayStore, StateError } from "../../store/replay.ts";
import { loadEnvelopeFixtureKeys } from "../../testkit/fixture_keys.ts";

const keys = await loadEnvelopeFixtureKeys();
const SUITE: Suite = SUITE_ED25519;
const SENDER = keys.senders[SUITE];
/** Not a device topic, so check 0b does not bind it to a sender. */
const TOPIC = "home/secure/door";
const NOW_MS = 1_700_000_000_000;

/** A memory store that records every counter it was asked to accept, and can be made to fail. */
class RecordingStore extends MemoryReplayStore {
  accepted: AcceptItem[] = [];
  fail = false;
  override acceptBatch(items: readonly AcceptItem[]) {
    if (this.fail) throw new StateError("STATE_WRITE_FAILED", "disk full");
    this.accepted.push(...items);
    return super.acceptBatch(items);
  }
}

function openerWith(replay: RecordingStore, extra: Partial<SecureOpenerDeps> = {}) {
  return secureOpener({
    clock: new FakeClock(NOW_MS),
    trust: { lookup: () => ({ publicKey: SENDER.publicKey, suite: SUITE, status: "active" }) },
    replay,
    recipientPrivateKey: keys.rsaPrivate,
    timestampWindowMs: 30_000,
    keyCache: new EpochKeyCache(),
    overlapCommit: true, // the tests named "overlap"; the others say false
    ...extra,
  });
}

/**
 * A validly signed envelope; `content: "undecryptable"` wraps another key than the one it encrypts under
 * (BAD_CIPHERTEXT), `content: "not a reading"` encrypts text that is no door reading (BAD_READING).
 */
async function envelope(
  counter: number,
  content: "reading" | "undecryptable" | "not a reading" = "reading",
): Promise<Uint8Array> {
  const reading = makeReading(SENDER.sender, counter, NOW_MS, 21);
  const epochKey = content === "undecryptable"
    ? await importEpochKey(
      webCryptoRandom(32),
      await wrapSessionKey(keys.rsaPublic, webCryptoRandom(32)),
    )
    : await newEpochKey(keys.rsaPublic, webCryptoRandom);
  return await seal({
    topic: TOPIC,
    sender: SENDER.sender,
    counter,
    ts: NOW_MS,
    msgId: reading.msg_id,
    plaintext: content === "not a reading" ? new TextEncoder().encode("door open") : encodeReading(reading),
    suite: SUITE,
    signingKey: SENDER.signingKey,
    epochKey,
    randomBytes: webCryptoRandom,
  });
}

function codeOf(verdict: Verdict): string {
  return verdict.ok ? "accept" : verdict.code;
}

/** Lets every pending promise callback run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

Deno.test("overlap: the verdict waits for the commit, and an accepted message's counter is durable", async () => {
  const replay = new RecordingStore();
  let finishCommit!: (outcome: CommitOutcome) => void;
  const submitted: number[] = [];
  const opener = openerWith(replay, {
    batcher: {
      submit: (_sender, counter) => {
        submitted.push(Number(counter));
        return new Promise((resolve) => finishCommit = resolve);
      },
    },
  });
  let verdict: Verdict | undefined;
  const judging = opener(TOPIC, await envelope(1)).then((v) => verdict = v);
  // Let the decryption and the reading check finish: the commit is still pending, so no verdict yet.
  while (submitted.length === 0) await new Promise((resolve) => setTimeout(resolve, 0));
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(verdict === undefined, true, "no verdict before the commit is durable");
  finishCommit({ ok: true });
  const decided = await judging;
  assert.equal(codeOf(decided), "accept");
  assert.deepEqual(submitted, [1]);
  assert.equal(decided.fields?.commit_overlapped, true);
});

Deno.test("overlap: a commit that fails rejects with STATE_WRITE_FAILED and nothing is acted on", async () => {
  const replay = new RecordingStore();
  replay.fail = true;
  const verdict = await openerWith(replay)(TOPIC, await envelope(1));
  assert.equal(codeOf(verdict), "STATE_WRITE_FAILED");
  replay.fail = false;
  // Nothing was recorded: the same envelope is accepted once the state is writable.
  assert.equal(codeOf(await openerWith(replay)(TOPIC, await envelope(1))), "accept");
});

Deno.test("overlap: a batched commit that fails rejects with STATE_WRITE_FAILED", async () => {
  const opener = openerWith(new RecordingStore(), {
    batcher: {
      submit: () => Promise.resolve({ ok: false, code: "STATE_WRITE_FAILED", detail: "disk full" }),
    },
  });
  const verdict = await opener(TOPIC, await envelope(1));
  assert.equal(codeOf(verdict), "STATE_WRITE_FAILED");
});

Deno.test("overlap: a decryption failure keeps its code but consumes the counter; the copy is REPLAY", async () => {
  const replay = new RecordingStore();
  const opener = openerWith(replay);
  const bad = await envelope(1, "undecryptable");
  assert.equal(codeOf(await opener(TOPIC, bad)), "BAD_CIPHERTEXT");
  assert.deepEqual(replay.accepted, [{ sender: SENDER.sender, counter: 1 }]);
  assert.equal(codeOf(await opener(TOPIC, bad)), "REPLAY");
  assert.equal(codeOf(await opener(TOPIC, await envelope(1))), "REPLAY");
  assert.equal(codeOf(await opener(TOPIC, await envelope(2))), "accept");
});

Deno.test("overlap: a bad reading keeps its code but consumes the counter", async () => {
  const replay = new RecordingStore();
  const opener = openerWith(replay);
  assert.equal(codeOf(await opener(TOPIC, await envelope(1, "not a reading"))), "BAD_READING");
  assert.equal(codeOf(await opener(TOPIC, await envelope(1))), "REPLAY");
});

for (const overlapCommit of [false, undefined]) {
  Deno.test(`overlapCommit ${overlapCommit ?? "left at its default"}: failures of checks 7–9 leave the counter unconsumed`, async () => {
    const replay = new RecordingStore();
    const opener = openerWith(replay, { overlapCommit });
    const bad = await envelope(1, "undecryptable");
    assert.equal(codeOf(await opener(TOPIC, bad)), "BAD_CIPHERTEXT");
    assert.equal(codeOf(await opener(TOPIC, bad)), "BAD_CIPHERTEXT");
    assert.equal(codeOf(await opener(TOPIC, await envelope(1, "not a reading"))), "BAD_READING");
    assert.deepEqual(replay.accepted, []);
    const verdict = await opener(TOPIC, await envelope(1));
    assert.equal(codeOf(verdict), "accept");
    assert.equal(verdict.fields?.commit_overlapped, false);
  });
}

Deno.test("overlap: a rate-limited message never reaches the store, so its counter is not consumed", async () => {
  const replay = new RecordingStore();
  let allow = false;
  const opener = openerWith(replay, { senderLimit: { take: () => allow } });
  assert.equal(codeOf(await opener(TOPIC, await envelope(1))), "RATE_LIMITED");
  assert.deepEqual(replay.accepted, []);
  allow = true;
  assert.equal(codeOf(await opener(TOPIC, await envelope(1))), "accept");
});

Deno.test("overlap: a rate-limited message that also fails decryption is reported by the earlier check", async () => {
  const opener = openerWith(new RecordingStore(), { senderLimit: { take: () => false } });
  assert.equal(codeOf(await opener(TOPIC, await envelope(1, "undecryptable"))), "BAD_CIPHERTEXT");
});

for (const overlapCommit of [true, false]) {
  Deno.test(`overlapCommit ${overlapCommit}: a message refused early does not let a later one commit before an earlier one`, async () => {
    const replay = new RecordingStore();
    // The first lookup waits until released, so the first message is still opening when the others come.
    let releaseFirst!: () => void;
    const firstGate = new Promise<void>((resolve) => releaseFirst = resolve);
    let lookups = 0;
    const entry = { publicKey: SENDER.publicKey, suite: SUITE, status: "active" as const };
    const opener = openerWith(replay, {
      overlapCommit,
      trust: { lookup: () => lookups++ === 0 ? firstGate.then(() => entry) : entry },
    });
    const [five, six] = [await envelope(5), await envelope(6)];
    const first = opener(TOPIC, five);
    const malformed = opener(TOPIC, new TextEncoder().encode("not an envelope"));
    const third = opener(TOPIC, six);
    assert.equal(codeOf(await malformed), "MALFORMED");
    // Give the third message every chance to finish opening; its commit must still wait for the first's.
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setTimeout(resolve, 0));
    await settle();
    const committed = () => replay.accepted.map((item) => Number(item.counter));
    assert.deepEqual(committed(), []);
    releaseFirst();
    assert.deepEqual([codeOf(await first), codeOf(await third)], ["accept", "accept"]);
    assert.deepEqual(committed(), [5, 6]);
  });
}
