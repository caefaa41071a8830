import assert from "node:assert/strict";
import type { Clock } from "../../core/clock.ts";
import { utf8Encode } from "../../crypto/codec.ts";
import { newEpochKey, seal, SUITE_DSA, SUITE_ED25519 } from "../../crypto/envelope.ts";
import { Log, memoryLogWriter } from "../../log/jsonl.ts";
import { ATTACK_CATALOGUE, SECURE_ATTACK_CLASSES } from "../../roles/attacks/catalogue.ts";
import type { Template } from "../../roles/attacks/capture.ts";
import { createAttackContext } from "../../roles/attacks/context.ts";
import { readEnvelope } from "../../roles/attacks/envelope_edit.ts";
import { DEFAULT_SECURE_ATTACK } from "../../roles/attacks/run.ts";
import { SECURE_TOPIC } from "../../roles/door.ts";
import { SECURE_ATTACK_CLASSES as REEXPORTED_CLASSES } from "../../roles/secure_attacker.ts";
import { loadEnvelopeFixtureKeys } from "../../testkit/fixture_keys.ts";

const NOW_MS = 1_700_000_000_000;
const fixedClock: Clock = { now: () => NOW_MS, sleep: () => Promise.resolve() };
const randomBytes = (n: number) => crypto.getRandomValues(new Uint8Array(n));
const keys = await loadEnvelopeFixtureKeys();

/** `count` genuine Ed25519 envelopes, each under a session key of its own, captured a minute ago. */
async function captures(count: number): Promise<Template[]> {
  const out: Template[] = [];
  for (let k = 1; k <= count; k++) {
    const payload = await seal({
      topic: SECURE_TOPIC,
      sender: "door-sensor-1",
      counter: k,
      ts: NOW_MS - 60_000,
      msgId: `m-${k}`,
      plaintext: utf8Encode(`{"event":"open","counter":${k}}`),
      suite: SUITE_ED25519,
      signingKey: keys.senders[SUITE_ED25519].signingKey,
      epochKey: await newEpochKey(keys.rsaPublic, randomBytes),
      randomBytes,
    });
    out.push({ payload, json: readEnvelope(payload)!, at: NOW_MS - 60_000, synthetic: false });
  }
  return out;
}

/** The variants every class plans, given what the attacker holds. */
async function plannedVariants(
  envelopes: Template[],
  extra: { restart: boolean; dsaDomain: boolean; wire?: boolean },
): Promise<Record<string, readonly string[]>> {
  const signingKey = keys.senders[SUITE_DSA].signingKey;
  const ctx = createAttackContext(
    DEFAULT_SECURE_ATTACK,
    {
      clock: fixedClock,
      log: new Log(memoryLogWriter(), { role: "attacker", run: "test", clock: fixedClock }),
      transport: {
        publish: () => Promise.resolve(),
        subscribe: () => Promise.resolve(),
        onMessage: () => {},
      },
      connect: () => Promise.reject(new Error("no broker in this test")),
      ownCredentials: { username: "mallory", password: "mallory-pw" },
      actuatorPublicKey: keys.rsaPublic,
      dsaDomain: extra.dsaDomain && signingKey.scheme === "dsa-2048" ? signingKey.key.domain : undefined,
      restartVictim: extra.restart ? () => Promise.resolve() : undefined,
      openStream: extra.wire ? () => Promise.reject(new Error("no broker in this test")) : undefined,
      relay: extra.wire ? { observations: () => [] } : undefined,
    },
    envelopes,
    () => Promise.resolve(),
  );
  const out: Record<string, readonly string[]> = {};
  for (const cls of SECURE_ATTACK_CLASSES) out[cls] = await ATTACK_CATALOGUE[cls].plan(ctx);
  return out;
}

Deno.test("attack catalogue: the class list is the table's keys, in the order the classes run", () => {
  assert.deepEqual([...SECURE_ATTACK_CLASSES], Object.keys(ATTACK_CATALOGUE));
  assert.equal(REEXPORTED_CLASSES, SECURE_ATTACK_CLASSES);
  assert.deepEqual(DEFAULT_SECURE_ATTACK.classes, SECURE_ATTACK_CLASSES);
  assert.ok(Object.isFrozen(SECURE_ATTACK_CLASSES));
  // Envelope-level classes first, then broker-level ones, probes last: the order logs and reports have always had.
  assert.deepEqual(SECURE_ATTACK_CLASSES.map((cls) => [cls, ATTACK_CATALOGUE[cls].level]), [
    ["replay", "envelope"],
    ["cross-topic-replay", "envelope"],
    ["inject-unsigned", "envelope"],
    ["spoof-own-key", "envelope"],
    ["forged-signature", "envelope"],
    ["bitflip", "envelope"],
    ["stale-timestamp", "envelope"],
    ["future-timestamp", "envelope"],
    ["bad-session-key", "envelope"],
    ["downgrade", "envelope"],
    ["malformed", "envelope"],
    ["anonymous-connect", "broker"],
    ["wrong-password", "broker"],
    ["acl-violation", "broker"],
    ["client-id-takeover", "probe"],
    ["preauth-oversize", "probe"],
    ["password-guessing", "probe"],
    ["retained-poison", "probe"],
    ["credential-sniff", "probe"],
  ]);
});

Deno.test("attack catalogue: class names are unique, stable log names", () => {
  assert.equal(new Set(SECURE_ATTACK_CLASSES).size, SECURE_ATTACK_CLASSES.length);
  for (const cls of SECURE_ATTACK_CLASSES) assert.match(cls, /^[a-z]+(-[a-z0-9]+)*$/, cls);
});

Deno.test("attack catalogue: every class has a plan, a build, a one-line description and its defence", () => {
  for (const cls of SECURE_ATTACK_CLASSES) {
    const entry = ATTACK_CATALOGUE[cls];
    assert.equal(typeof entry.plan, "function", cls);
    assert.equal(typeof entry.build, "function", cls);
    assert.ok(entry.level === "envelope" || entry.level === "broker" || entry.level === "probe", cls);
    for (const text of [entry.description, entry.defence]) {
      assert.equal(typeof text, "string", cls);
      assert.ok(text.trim().length > 0 && !text.includes("\n"), `${cls}: ${JSON.stringify(text)}`);
    }
  }
  const descriptions = SECURE_ATTACK_CLASSES.map((cls) => ATTACK_CATALOGUE[cls].description);
  assert.equal(new Set(descriptions).size, descriptions.length, "each class describes itself");
});

Deno.test("attack catalogue: with everything available, every class plans its full variant list", async () => {
  assert.deepEqual(await plannedVariants(await captures(2), { restart: true, dsaDomain: true, wire: true }), {
    "replay": ["verbatim", "after-restart"],
    "cross-topic-replay": ["verbatim"],
    "inject-unsigned": ["zero-sig", "no-sig", "empty-sig"],
    "spoof-own-key": ["own-key", "own-identity", "other-suite"],
    "forged-signature": ["random-sig", "reused-sig"],
    "bitflip": [
      "ciphertext",
      "nonce",
      "tag",
      "wrapped_key",
      "counter",
      "ts",
      "sender",
      "sig",
      "msg_id",
      "suite",
    ],
    "stale-timestamp": ["minus-10min", "epoch-zero"],
    "future-timestamp": ["plus-10min", "max-safe"],
    "bad-session-key": ["swapped-from-other", "rewrapped-random"],
    "downgrade": ["v2", "v0", "other-suite", "unknown-suite", "plaintext-phase1"],
    "malformed": [
      "garbage",
      "truncated",
      "oversize",
      "nested",
      "proto-keys",
      "duplicate-key",
      "wrong-types",
      "non-canonical",
    ],
    "anonymous-connect": ["no-credentials"],
    "wrong-password": ["random-password"],
    "acl-violation": ["denied-topic"],
    "client-id-takeover": ["persistent-session"],
    "preauth-oversize": ["connect-200mib"],
    "password-guessing": ["random-guess"],
    "retained-poison": ["captured-envelope"],
    "credential-sniff": ["through-relay"],
  });
});

Deno.test("attack catalogue: variants that need a restart, a DSA key or a second session key drop out", async () => {
  const planned = await plannedVariants(await captures(1), { restart: false, dsaDomain: false });
  assert.deepEqual(planned["replay"], ["verbatim"]);
  assert.deepEqual(planned["spoof-own-key"], ["own-key", "own-identity"]);
  assert.deepEqual(planned["bad-session-key"], ["rewrapped-random"]);
  // Without a raw stream to the broker or an on-path relay, the wire probes plan nothing and are skipped.
  assert.deepEqual(planned["preauth-oversize"], []);
  assert.deepEqual(planned["credential-sniff"], []);
});
