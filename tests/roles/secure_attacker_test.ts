import { topicMismatch } from "../../roles/secure_actuator.ts";
import assert from "node:assert/strict";
import type { Clock } from "../../core/clock.ts";
import { payloadDigest } from "../../core/digest.ts";
import { utf8Encode } from "../../crypto/codec.ts";
import { importDomainPem } from "../../crypto/dsa.ts";
import {
  ENVELOPE_FIELDS,
  newEpochKey,
  open,
  type OpenDeps,
  seal,
  type Suite,
  SUITE_DSA,
  SUITE_ED25519,
} from "../../crypto/envelope.ts";
import {
  type DsaDomain,
  generateSignatureKeyPair,
  type SigningKey,
  type VerifyingKey,
} from "../../crypto/signature.ts";
import { loadEnvelopeFixtureKeys } from "../../testkit/fixture_keys.ts";
import { Log, type LogRecord, memoryLogWriter } from "../../log/jsonl.ts";
import { TransportError } from "../../transport/client.ts";
import { SECURE_TOPIC } from "../../roles/door.ts";
import {
  ATTACK_CATALOGUE,
  DEFAULT_SECURE_ATTACK,
  runSecureAttacks,
  SECURE_ATTACK_CLASSES,
  type SecureAttackClass,
  type SecureAttackOptions,
} from "../../roles/secure_attacker.ts";

const NOW_MS = 1_700_000_000_000;
const SENSOR = "door-sensor-1";
const GENUINE_COUNT = 4;
const OWN = { username: "mallory", password: "mallory-pw" };
const fixture = (name: string) => Deno.readTextFile(new URL(`../fixtures/${name}`, import.meta.url));
const randomBytes = (n: number) => crypto.getRandomValues(new Uint8Array(n));

const fixtureKeys = await loadEnvelopeFixtureKeys();
const rsaPublicKey = fixtureKeys.rsaPublic;
const rsaPrivateKey = fixtureKeys.rsaPrivate;

/** A clock that stands still: every expectation and every open() see the same instant. */
const fixedClock: Clock = { now: () => NOW_MS, sleep: () => Promise.resolve() };

interface Sensor {
  suite: Suite;
  signingKey: SigningKey;
  verifyingKey: VerifyingKey;
}

async function genuineEnvelopes(sensor: Sensor, count: number): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (let k = 1; k <= count; k++) {
    out.push(
      await seal({
        topic: SECURE_TOPIC,
        sender: SENSOR,
        counter: k,
        ts: NOW_MS - (count - k + 1) * 1_000,
        msgId: `m-${k}`,
        plaintext: utf8Encode(`{"event":"open","counter":${k}}`),
        suite: sensor.suite,
        signingKey: sensor.signingKey,
        epochKey: await newEpochKey(rsaPublicKey, randomBytes),
        randomBytes,
      }),
    );
  }
  return out;
}

/** An in-memory broker: feeds the genuine envelopes on subscribe and echoes every publish to `#`. */
function fakeBroker(genuine: Uint8Array[]) {
  const handlers: ((topic: string, payload: Uint8Array) => void)[] = [];
  const published: { topic: string; payload: Uint8Array }[] = [];
  const deliver = (topic: string, payload: Uint8Array) => handlers.forEach((h) => h(topic, payload));
  const transport = {
    publish(topic: string, payload: Uint8Array | string) {
      const bytes = typeof payload === "string" ? utf8Encode(payload) : payload.slice();
      published.push({ topic, payload: bytes });
      deliver(topic, bytes);
      return Promise.resolve();
    },
    subscribe(_filter: string) {
      for (const payload of genuine) deliver(SECURE_TOPIC, payload);
      return Promise.resolve();
    },
    onMessage(handler: (topic: string, payload: Uint8Array) => void) {
      handlers.push(handler);
    },
  };
  return { transport, published };
}

/** A `connect` that refuses everyone but the attacker's own account, whose connections it records. */
function fakeConnect() {
  const calls: { username?: string; password?: string; clientId: string }[] = [];
  const sessions: {
    clientId: string;
    published: { topic: string; payload: Uint8Array }[];
    closed: boolean;
  }[] = [];
  const connect = (opts: { username?: string; password?: string; clientId: string }) => {
    calls.push(opts);
    if (opts.username !== OWN.username || opts.password !== OWN.password) {
      return Promise.reject(new TransportError("NOT_AUTHORIZED", "broker refused the connection"));
    }
    const session = {
      clientId: opts.clientId,
      published: [] as { topic: string; payload: Uint8Array }[],
      closed: false,
    };
    sessions.push(session);
    return Promise.resolve({
      publish(topic: string, payload: Uint8Array | string) {
        session.published.push({
          topic,
          payload: typeof payload === "string" ? utf8Encode(payload) : payload,
        });
        return Promise.resolve();
      },
      close() {
        session.closed = true;
        return Promise.resolve();
      },
      subscribe: () => Promise.resolve(),
      onMessage() {},
      onState() {},
    });
  };
  return { connect, calls, sessions };
}

function openDeps(sensor: Sensor, clock: Clock = fixedClock): OpenDeps {
  return {
    clock,
    trust: {
      lookup: (sender) =>
        sender === SENSOR
          ? { publicKey: sensor.verifyingKey, suite: sensor.suite, status: "active" }
          : undefined,
    },
    // The actuator accepted every genuine counter.
    replay: { isFresh: (_sender, counter) => counter > GENUINE_COUNT },
    recipientPrivateKey: rsaPrivateKey,
  };
}

async function runAgainst(
  sensor: Sensor,
  options: Partial<SecureAttackOptions>,
  extra: { dsaDomain?: DsaDomain; restartVictim?: () => Promise<void>; genuine?: number; clock?: Clock } = {},
) {
  const clock = extra.clock ?? fixedClock;
  const writer = memoryLogWriter();
  const log = new Log(writer, { role: "attacker", run: "test", clock });
  const broker = fakeBroker(await genuineEnvelopes(sensor, extra.genuine ?? GENUINE_COUNT));
  const connect = fakeConnect();
  const result = await runSecureAttacks(
    { ...DEFAULT_SECURE_ATTACK, gapMs: 0, captureTimeoutMs: 100, victimUsername: SENSOR, ...options },
    {
      clock,
      log,
      transport: broker.transport,
      connect: connect.connect,
      ownCredentials: OWN,
      actuatorPublicKey: rsaPublicKey,
      dsaDomain: extra.dsaDomain,
      restartVictim: extra.restartVictim,
    },
  );
  return { result, records: writer.records, broker, connect };
}

/**
 * Judges every message the attacker published with the receiver's real checks (the topic binding, then
 * open()): none may be accepted, and each must
 * be refused with exactly the code the attacker logged as `expect`. Returns "class/variant" → code.
 */
async function assertEveryExpectationHolds(
  sensor: Sensor,
  records: LogRecord[],
  published: { topic: string; payload: Uint8Array }[],
  clock: Clock = fixedClock,
): Promise<Map<string, string>> {
  const byDigest = new Map(published.map((m) => [`${m.topic} ${payloadDigest(m.payload)}`, m]));
  const seen = new Map<string, string>();
  const deps = openDeps(sensor, clock);
  for (const record of records.filter((r) => r.event === "attack_sent" && r.expect !== "BROKER_DENIED")) {
    const message = byDigest.get(`${record.topic} ${record.digest}`);
    assert.ok(message, `published message for ${record.attack_id}`);
    // Judged as the receiver judges: the topic binding (check 0b, roles/secure_actuator.ts) before open().
    const mismatch = topicMismatch(message.topic, message.payload);
    const result = mismatch
      ? {
        ok: false as const,
        code: "TOPIC_MISMATCH",
        detail: `sender ${mismatch.sender} on ${mismatch.device}'s topic`,
      }
      : await open(message.payload, message.topic, deps);
    assert.equal(result.ok, false, `${record.attack_id} (${record.variant}) was accepted`);
    if (!result.ok) {
      assert.equal(
        result.code,
        record.expect,
        `${record.attack_id} (${record.variant}): the receiver said ${result.code} (${result.detail})`,
      );
    }
    seen.set(`${record.class}/${record.variant}`, record.expect as string);
  }
  return seen;
}

const MESSAGE_CLASSES = SECURE_ATTACK_CLASSES.filter((c) => ATTACK_CATALOGUE[c].level === "envelope");

Deno.test("secure attacker: every Ed25519-suite attack is refused with the code it expected", async () => {
  const pair = await generateSignatureKeyPair("ed25519");
  const sensor: Sensor = { suite: SUITE_ED25519, ...pair };
  let restarts = 0;
  const attempts = 20;
  const dsaDomain = importDomainPem(await fixture("dsa2048_256_params.pem"));
  const { result, records, broker } = await runAgainst(sensor, { attempts }, {
    dsaDomain,
    restartVictim: () => {
      restarts++;
      return Promise.resolve();
    },
  });
  const seen = await assertEveryExpectationHolds(sensor, records, broker.published);

  assert.equal(restarts, 1);
  for (const cls of MESSAGE_CLASSES) {
    const sent = records.filter((r) => r.event === "attack_sent" && r.class === cls);
    assert.equal(sent.length, attempts, cls);
    assert.ok(sent.every((r, k) => r.attack_id === `s-${cls}-${k + 1}` && r.phase === "secure"), cls);
  }
  assert.deepEqual(Object.fromEntries([...seen].sort()), {
    "bad-session-key/rewrapped-random": "BAD_SIGNATURE",
    "bad-session-key/swapped-from-other": "BAD_SIGNATURE",
    "bitflip/ciphertext": "BAD_SIGNATURE",
    "bitflip/counter": "BAD_SIGNATURE",
    "bitflip/msg_id": "BAD_SIGNATURE",
    "bitflip/nonce": "BAD_SIGNATURE",
    "bitflip/sender": "TOPIC_MISMATCH", // on a device topic, the topic binding (check 0b) refuses it first
    "bitflip/sig": "BAD_SIGNATURE",
    "bitflip/suite": "UNSUPPORTED",
    "bitflip/tag": "BAD_SIGNATURE",
    "bitflip/ts": "BAD_SIGNATURE",
    "bitflip/wrapped_key": "BAD_SIGNATURE",
    "cross-topic-replay/verbatim": "TOPIC_MISMATCH", // another device's topic: the topic binding first
    "downgrade/other-suite": "UNSUPPORTED",
    "downgrade/plaintext-phase1": "MALFORMED",
    "downgrade/unknown-suite": "UNSUPPORTED",
    "downgrade/v0": "UNSUPPORTED",
    "downgrade/v2": "UNSUPPORTED",
    "forged-signature/random-sig": "BAD_SIGNATURE",
    "forged-signature/reused-sig": "BAD_SIGNATURE",
    "future-timestamp/max-safe": "FUTURE",
    "future-timestamp/plus-10min": "FUTURE",
    "inject-unsigned/empty-sig": "MALFORMED",
    "inject-unsigned/no-sig": "MALFORMED",
    "inject-unsigned/zero-sig": "BAD_SIGNATURE",
    "malformed/duplicate-key": "MALFORMED",
    "malformed/garbage": "MALFORMED",
    "malformed/nested": "MALFORMED",
    "malformed/non-canonical": "MALFORMED",
    "malformed/oversize": "MALFORMED",
    "malformed/proto-keys": "MALFORMED",
    "malformed/truncated": "MALFORMED",
    "malformed/wrong-types": "MALFORMED",
    "replay/after-restart": "REPLAY",
    "replay/verbatim": "REPLAY",
    "spoof-own-key/other-suite": "UNSUPPORTED",
    "spoof-own-key/own-identity": "TOPIC_MISMATCH", // its own name on the victim's topic
    "spoof-own-key/own-key": "BAD_SIGNATURE",
    "stale-timestamp/epoch-zero": "STALE",
    "stale-timestamp/minus-10min": "STALE",
  });
  assert.equal(result.sent, attempts * (MESSAGE_CLASSES.length + 1));
  // anonymous-connect and wrong-password, then the three account probes: the fake broker hands the
  // takeover nothing, refuses every guess and keeps no retained message. The wire probes have no raw
  // stream or relay here, so they are skipped.
  assert.equal(result.refused, attempts * 2 + attempts * 3);
  assert.equal(result.succeeded, 0);
  const probeCodes = (
    cls: string,
  ) => [
    ...new Set(records.filter((r) => r.event === "attack_refused" && r.class === cls).map((r) => r.code)),
  ];
  assert.deepEqual(probeCodes("client-id-takeover"), ["NO_SESSION"]);
  assert.deepEqual(probeCodes("password-guessing"), ["NOT_AUTHORIZED"]);
  assert.deepEqual(probeCodes("retained-poison"), ["NOT_RETAINED"]);
  assert.deepEqual(
    records.filter((r) => r.event === "attack_skipped").map((r) => r.class),
    ["preauth-oversize", "credential-sniff"],
  );
  assert.equal(result.captured, GENUINE_COUNT);
});

Deno.test("secure attacker: captures show only envelope field names, never values, and not its own messages", async () => {
  const sensor: Sensor = { suite: SUITE_ED25519, ...await generateSignatureKeyPair("ed25519") };
  const { records } = await runAgainst(sensor, { attempts: 2, classes: ["replay", "malformed"] });
  const captured = records.filter((r) => r.event === "captured");
  assert.equal(captured.length, GENUINE_COUNT);
  for (const record of captured) {
    assert.equal(record.readable, false);
    assert.equal(record.phase, "secure");
    assert.deepEqual(record.fields, [...ENVELOPE_FIELDS]);
  }
});

Deno.test("secure attacker: anonymous and wrong-password logins are logged as refused by the broker", async () => {
  const sensor: Sensor = { suite: SUITE_ED25519, ...await generateSignatureKeyPair("ed25519") };
  const classes: SecureAttackClass[] = ["anonymous-connect", "wrong-password"];
  const { records, connect } = await runAgainst(sensor, { attempts: 3, classes });
  for (const cls of classes) {
    const refused = records.filter((r) => r.event === "attack_refused" && r.class === cls);
    assert.equal(refused.length, 3);
    assert.ok(refused.every((r) => r.code === "NOT_AUTHORIZED"));
  }
  assert.equal(records.filter((r) => r.event === "attack_sent").length, 0);
  const anonymous = connect.calls.filter((c) => c.clientId.includes("anonymous-connect"));
  assert.ok(anonymous.every((c) => c.username === undefined && c.password === undefined));
  const wrong = connect.calls.filter((c) => c.clientId.includes("wrong-password"));
  assert.ok(
    wrong.every((c) => c.username === SENSOR && typeof c.password === "string" && c.password.length > 0),
  );
  assert.equal(new Set(wrong.map((c) => c.password)).size, wrong.length);
});

Deno.test("secure attacker: an anonymous login the broker lets in is published and flagged, not claimed", async () => {
  const sensor: Sensor = { suite: SUITE_ED25519, ...await generateSignatureKeyPair("ed25519") };
  const writer = memoryLogWriter();
  const log = new Log(writer, { role: "attacker", run: "test", clock: fixedClock });
  const broker = fakeBroker(await genuineEnvelopes(sensor, GENUINE_COUNT));
  const open: { topic: string; payload: Uint8Array }[] = [];
  await runSecureAttacks(
    { ...DEFAULT_SECURE_ATTACK, gapMs: 0, attempts: 2, classes: ["anonymous-connect"] },
    {
      clock: fixedClock,
      log,
      transport: broker.transport,
      connect: () =>
        Promise.resolve({
          publish: (topic: string, payload: Uint8Array | string) => {
            open.push({ topic, payload: payload as Uint8Array });
            return Promise.resolve();
          },
          close: () => Promise.resolve(),
          subscribe: () => Promise.resolve(),
          onMessage() {},
          onState() {},
        }),
      ownCredentials: OWN,
      actuatorPublicKey: rsaPublicKey,
    },
  );
  const sent = writer.records.filter((r) => r.event === "attack_sent");
  assert.equal(sent.length, 2);
  assert.ok(
    sent.every((r) => r.broker_accepted === true && r.expect === "REPLAY" && r.topic === SECURE_TOPIC),
  );
  assert.equal(open.length, 2);
  assert.equal(writer.records.filter((r) => r.event === "attack_refused").length, 0);
});

Deno.test("secure attacker: acl-violation uses a fresh connection of its own account per attempt", async () => {
  const sensor: Sensor = { suite: SUITE_ED25519, ...await generateSignatureKeyPair("ed25519") };
  const attempts = 3;
  const { records, connect, broker } = await runAgainst(sensor, { attempts, classes: ["acl-violation"] });
  const sent = records.filter((r) => r.event === "attack_sent");
  assert.equal(sent.length, attempts);
  assert.ok(sent.every((r) => r.expect === "BROKER_DENIED" && r.topic === "home/secure/window"));
  assert.equal(connect.sessions.length, attempts);
  assert.equal(new Set(connect.sessions.map((s) => s.clientId)).size, attempts);
  assert.ok(connect.sessions.every((s) => s.closed && s.published.length === 1));
  assert.ok(connect.sessions.every((s) => s.published[0].topic === "home/secure/window"));
  assert.ok(connect.calls.every((c) => c.username === OWN.username && c.password === OWN.password));
  assert.equal(broker.published.length, 0, "nothing on the main connection");
  // Each attempt has a digest of its own, so the actuator's log can be checked for it.
  const digests = new Set(sent.map((r) => r.digest));
  assert.equal(digests.size, attempts);
  assert.ok(!records.some((r) => r.event === "captured" && digests.has(r.digest)));
});

Deno.test("secure attacker: every DSA-suite attack is refused with the code it expected", async () => {
  const { signingKey, publicKey: verifyingKey } = fixtureKeys.senders[SUITE_DSA];
  assert.equal(signingKey.scheme, "dsa-2048");
  const dsaDomain = signingKey.scheme === "dsa-2048" ? signingKey.key.domain : undefined;
  const sensor: Sensor = { suite: SUITE_DSA, signingKey, verifyingKey };
  const attempts = 10;
  const { records, broker } = await runAgainst(sensor, { attempts, classes: MESSAGE_CLASSES }, { dsaDomain });
  const seen = await assertEveryExpectationHolds(sensor, records, broker.published);
  assert.equal(seen.get("spoof-own-key/own-key"), "BAD_SIGNATURE");
  assert.equal(seen.get("spoof-own-key/other-suite"), "UNSUPPORTED");
  assert.equal(seen.get("bitflip/sig"), "BAD_SIGNATURE");
  assert.equal(records.filter((r) => r.event === "attack_sent").length, attempts * MESSAGE_CLASSES.length);
  const ownKey = records.filter((r) => r.event === "attack_sent" && r.variant === "own-key");
  assert.ok(ownKey.every((r) => r.signed_with === "dsa-2048"));
});

Deno.test("secure attacker: without the DSA domain, own-key forgeries on the DSA suite still get honest codes", async () => {
  const { signingKey, publicKey: verifyingKey } = fixtureKeys.senders[SUITE_DSA];
  const sensor: Sensor = { suite: SUITE_DSA, signingKey, verifyingKey };
  const { records, broker } = await runAgainst(sensor, {
    attempts: 6,
    classes: ["spoof-own-key", "forged-signature", "downgrade"],
  });
  await assertEveryExpectationHolds(sensor, records, broker.published);
});

Deno.test("secure attacker: with nothing captured it says so and attacks from a synthesised envelope", async () => {
  const sensor: Sensor = { suite: SUITE_ED25519, ...await generateSignatureKeyPair("ed25519") };
  let now = NOW_MS;
  const clock: Clock = {
    now: () => now,
    sleep: (ms) => {
      now += ms;
      return Promise.resolve();
    },
  };
  const { records, broker, result } = await runAgainst(
    sensor,
    { attempts: 10, classes: MESSAGE_CLASSES, captureTimeoutMs: 200 },
    { genuine: 0, clock },
  );
  const incomplete = records.find((r) => r.event === "capture_incomplete");
  assert.ok(incomplete);
  assert.equal(incomplete.got, 0);
  assert.equal(result.captured, 0);
  const seen = await assertEveryExpectationHolds(sensor, records, broker.published, clock);
  // Nothing genuine to replay: the verbatim replay of the attacker's own envelope fails its signature.
  assert.equal(seen.get("replay/verbatim"), "BAD_SIGNATURE");
  assert.ok(
    records.filter((r) => r.event === "attack_sent" && r.class === "replay").every((r) => r.synthetic),
  );
});

Deno.test("secure attacker: class names are stable and in order", () => {
  assert.deepEqual([...SECURE_ATTACK_CLASSES], [
    "replay",
    "cross-topic-replay",
    "inject-unsigned",
    "spoof-own-key",
    "forged-signature",
    "bitflip",
    "stale-timestamp",
    "future-timestamp",
    "bad-session-key",
    "downgrade",
    "malformed",
    "anonymous-connect",
    "wrong-password",
    "acl-violation",
    "client-id-takeover",
    "preauth-oversize",
    "password-guessing",
    "retained-poison",
    "credential-sniff",
  ]);
});
