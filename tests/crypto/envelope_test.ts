import assert from "node:assert/strict";
import { concatBytes, fromBase64Url, toBase64Url, utf8Decode, utf8Encode } from "../../crypto/codec.ts";
import {
  EnvelopeError,
  type EnvelopeJson,
  envelopeSignedBytes,
  EpochKeyCache,
  importEpochKey,
  newEpochKey,
  open,
  type OpenDeps,
  type OpenResult,
  REASON_CODES,
  type ReasonCode,
  seal,
  type SealInput,
  serializeEnvelope,
  SIGNED_BYTES_LABEL,
  type Suite,
  SUITE_DSA,
  SUITE_ED25519,
  TIMESTAMP_WINDOW_MS,
  type TrustEntry,
} from "../../crypto/envelope.ts";
import { generateRsaKeyPair } from "../../crypto/rsa.ts";
import { type SigningKey, signMessage } from "../../crypto/signature.ts";
import { loadEnvelopeFixtureKeys } from "../../testkit/fixture_keys.ts";

const NOW_MS = 1_700_000_000_000;
const TOPIC = "home/livingroom/lamp/set";
const randomBytes = (n: number) => crypto.getRandomValues(new Uint8Array(n));

const { rsaPublic, rsaPrivate, senders: fixtureSenders } = await loadEnvelopeFixtureKeys();
const { signingKey: dsaSigning, publicKey: dsaVerifying } = fixtureSenders[SUITE_DSA];
const { signingKey: edSigning, publicKey: edVerifying } = fixtureSenders[SUITE_ED25519];

/** One trusted sender per suite, plus a revoked one. */
const SENDERS: Record<string, { suite: Suite; signingKey: SigningKey; entry: TrustEntry }> = {
  "sensor-dsa": {
    suite: SUITE_DSA,
    signingKey: dsaSigning,
    entry: { publicKey: dsaVerifying, suite: SUITE_DSA, status: "active" },
  },
  "sensor-ed": {
    suite: SUITE_ED25519,
    signingKey: edSigning,
    entry: { publicKey: edVerifying, suite: SUITE_ED25519, status: "active" },
  },
  "sensor-revoked": {
    suite: SUITE_ED25519,
    signingKey: edSigning,
    entry: { publicKey: edVerifying, suite: SUITE_ED25519, status: "revoked" },
  },
};
const SENDER_OF: Record<Suite, string> = { [SUITE_DSA]: "sensor-dsa", [SUITE_ED25519]: "sensor-ed" };

/** Highest accepted counter per sender; `isFresh` only reads it. */
function makeDeps(overrides: Partial<OpenDeps> = {}, highest = new Map<string, number>()): OpenDeps {
  return {
    clock: { now: () => NOW_MS },
    trust: { lookup: (sender) => SENDERS[sender]?.entry },
    replay: { isFresh: (sender, counter) => counter > (highest.get(sender) ?? -1) },
    recipientPrivateKey: rsaPrivate,
    perfNow: () => performance.now(),
    ...overrides,
  };
}

async function sealFor(
  suite: Suite,
  overrides: Partial<SealInput> = {},
): Promise<{ bytes: Uint8Array; input: SealInput }> {
  const sender = overrides.sender ?? SENDER_OF[suite];
  const input: SealInput = {
    topic: TOPIC,
    sender,
    counter: 42,
    ts: NOW_MS - 1_000,
    msgId: "msg-0042",
    plaintext: utf8Encode('{"state":"on"}'),
    suite,
    signingKey: SENDERS[sender]?.signingKey ?? SENDERS[SENDER_OF[suite]].signingKey,
    epochKey: await newEpochKey(rsaPublic, randomBytes),
    randomBytes,
    ...overrides,
  };
  return { bytes: await seal(input), input };
}

const parse = (bytes: Uint8Array) => JSON.parse(utf8Decode(bytes)) as EnvelopeJson;
const encode = (envelope: EnvelopeJson) => utf8Encode(serializeEnvelope(envelope));

/** Signs arbitrary (possibly garbage) wrapped key / ciphertext so the checks after the signature run. */
async function signedWith(
  envelope: EnvelopeJson,
  signingKey: SigningKey,
  topic = TOPIC,
): Promise<Uint8Array> {
  const signed = envelopeSignedBytes({
    suite: envelope.suite,
    topic,
    sender: envelope.sender,
    counter: envelope.counter,
    ts: envelope.ts,
    msgId: envelope.msg_id,
    wrappedKey: fromBase64Url(envelope.wrapped_key),
    nonce: fromBase64Url(envelope.nonce),
    ciphertext: fromBase64Url(envelope.ciphertext),
  });
  return encode({ ...envelope, sig: toBase64Url(await signMessage(signingKey, signed)) });
}

function assertCode(result: OpenResult, code: ReasonCode, context = ""): void {
  if (result.ok) assert.fail(`${context}: expected ${code}, got ok`);
  assert.equal(result.code, code, `${context}: ${result.detail}`);
}

for (const suite of [SUITE_DSA, SUITE_ED25519] as const) {
  Deno.test(`${suite}: seal then open returns the plaintext and all fields`, async () => {
    const { bytes } = await sealFor(suite);
    const result = await open(bytes, TOPIC, makeDeps());
    if (!result.ok) assert.fail(`${result.code}: ${result.detail}`);
    assert.deepEqual(result.message, {
      sender: SENDER_OF[suite],
      counter: 42,
      ts: NOW_MS - 1_000,
      msg_id: "msg-0042",
      suite,
      plaintext: utf8Encode('{"state":"on"}'),
    });
    for (const stage of ["parse", "verify", "replay", "unwrap", "decrypt"] as const) {
      assert.equal(typeof result.stages[stage], "number", stage);
    }
    assert.equal(result.stages.unwrapCached, false);
  });

  Deno.test(`${suite}: the envelope has exactly the ten fields, in canonical order`, async () => {
    const { bytes } = await sealFor(suite);
    assert.deepEqual(Object.keys(parse(bytes)), [
      "v",
      "suite",
      "sender",
      "counter",
      "ts",
      "msg_id",
      "wrapped_key",
      "nonce",
      "ciphertext",
      "sig",
    ]);
    assert.equal(parse(bytes).v, 1);
    assert.equal(parse(bytes).suite, suite);
  });

  Deno.test(`${suite}: flipping any byte of any binary field's decoded bytes gives BAD_SIGNATURE`, async () => {
    const { bytes } = await sealFor(suite);
    const envelope = parse(bytes);
    let runs = 0;
    for (const field of ["wrapped_key", "nonce", "ciphertext", "sig"] as const) {
      const decoded = fromBase64Url(envelope[field]);
      for (let i = 0; i < decoded.length; i++) {
        const mutated = decoded.slice();
        mutated[i] ^= 0x01;
        const result = await open(encode({ ...envelope, [field]: toBase64Url(mutated) }), TOPIC, makeDeps());
        assertCode(result, "BAD_SIGNATURE", `${field}[${i}]`);
        assert.equal(result.stages.unwrap, undefined, "nothing unauthenticated reaches RSA");
        assert.equal(result.stages.decrypt, undefined, "nothing unauthenticated reaches AES");
        runs++;
      }
    }
    assert.ok(runs > 300);
  });

  Deno.test(`${suite}: changing any signed scalar field gives the right code`, async () => {
    const { bytes } = await sealFor(suite);
    const envelope = parse(bytes);
    const cases: [Partial<EnvelopeJson>, ReasonCode][] = [
      [{ counter: 43 }, "BAD_SIGNATURE"],
      [{ counter: 41 }, "BAD_SIGNATURE"],
      [{ ts: envelope.ts + 1 }, "BAD_SIGNATURE"],
      [{ ts: envelope.ts - 1 }, "BAD_SIGNATURE"],
      [{ msg_id: "msg-0043" }, "BAD_SIGNATURE"],
      [{ sender: SENDER_OF[suite] + "x" }, "UNKNOWN_SENDER"],
      [{ ts: NOW_MS - TIMESTAMP_WINDOW_MS - 1 }, "STALE"],
      [{ ts: NOW_MS + TIMESTAMP_WINDOW_MS + 1 }, "FUTURE"],
      [{ v: 2 }, "UNSUPPORTED"],
      [{ v: 0 }, "UNSUPPORTED"],
      // A DSA signature never has Ed25519's 64 bytes' shape, so that direction fails as MALFORMED; an
      // Ed25519 signature fits DSA's 8..72 range, so that direction is caught as a downgrade.
      [
        { suite: suite === SUITE_DSA ? SUITE_ED25519 : SUITE_DSA },
        suite === SUITE_DSA ? "MALFORMED" : "UNSUPPORTED",
      ],
      [{ suite: "rsa-oaep-2048+aes-128-gcm+ed25519" }, "UNSUPPORTED"],
    ];
    for (const [change, code] of cases) {
      assertCode(
        await open(encode({ ...envelope, ...change }), TOPIC, makeDeps()),
        code,
        JSON.stringify(change),
      );
    }
  });

  Deno.test(`${suite}: moving the envelope to another topic gives BAD_SIGNATURE`, async () => {
    const { bytes } = await sealFor(suite);
    assertCode(await open(bytes, "home/livingroom/lamp/set2", makeDeps()), "BAD_SIGNATURE");
    assertCode(await open(bytes, "home/door/lock/set", makeDeps()), "BAD_SIGNATURE");
  });

  Deno.test(`${suite}: flipping any byte of the JSON text gives the code its position implies`, async () => {
    const { bytes } = await sealFor(suite);
    const text = utf8Decode(bytes);
    const envelope = parse(bytes);
    // Where each field's value sits in the text (values are unescaped, so offsets are exact).
    const spans: { field: keyof EnvelopeJson; start: number; end: number }[] = [];
    let cursor = 0;
    for (const field of Object.keys(envelope) as (keyof EnvelopeJson)[]) {
      const raw = JSON.stringify(envelope[field]);
      const keyAt = text.indexOf(`"${field}":`, cursor);
      const start = keyAt + field.length + 3 + (typeof envelope[field] === "string" ? 1 : 0);
      const end = keyAt + field.length + 3 + raw.length - (typeof envelope[field] === "string" ? 1 : 0);
      spans.push({ field, start, end });
      cursor = end;
    }
    const expectedFor = (i: number, flipped: string): ReasonCode => {
      const span = spans.find((s) => i >= s.start && i < s.end);
      if (span === undefined) return "MALFORMED"; // structure, key names, quotes
      const value = flipped.slice(span.start, span.end);
      switch (span.field) {
        case "v":
          return "UNSUPPORTED";
        case "suite":
          return "UNSUPPORTED";
        case "sender":
          return /^[A-Za-z0-9._-]{1,64}$/.test(value) ? "UNKNOWN_SENDER" : "MALFORMED";
        case "msg_id":
          return /^[A-Za-z0-9._:-]{1,64}$/.test(value) ? "BAD_SIGNATURE" : "MALFORMED";
        case "counter":
          return /^(0|[1-9][0-9]*)$/.test(value) ? "BAD_SIGNATURE" : "MALFORMED";
        case "ts": {
          if (!/^(0|[1-9][0-9]*)$/.test(value)) return "MALFORMED";
          const ts = Number(value);
          if (ts < NOW_MS - TIMESTAMP_WINDOW_MS) return "STALE";
          if (ts > NOW_MS + TIMESTAMP_WINDOW_MS) return "FUTURE";
          return "BAD_SIGNATURE";
        }
        default: {
          try {
            fromBase64Url(value);
          } catch {
            return "MALFORMED";
          }
          return "BAD_SIGNATURE";
        }
      }
    };
    const counts: Record<string, number> = {};
    for (let i = 0; i < bytes.length; i++) {
      const mutated = bytes.slice();
      mutated[i] ^= 0x01;
      const expected = expectedFor(i, new TextDecoder().decode(mutated));
      assertCode(await open(mutated, TOPIC, makeDeps()), expected, `byte ${i} (${text[i]})`);
      counts[expected] = (counts[expected] ?? 0) + 1;
    }
    for (const code of ["MALFORMED", "UNSUPPORTED", "UNKNOWN_SENDER", "BAD_SIGNATURE"]) {
      assert.ok((counts[code] ?? 0) > 0, `expected some ${code}: ${JSON.stringify(counts)}`);
    }
  });
}

Deno.test("check order: a bad signature from a revoked sender reports REVOKED", async () => {
  const { bytes } = await sealFor(SUITE_ED25519, { sender: "sensor-revoked" });
  assertCode(await open(bytes, TOPIC, makeDeps()), "REVOKED", "valid signature");
  const envelope = parse(bytes);
  const sig = fromBase64Url(envelope.sig);
  sig[0] ^= 1;
  assertCode(
    await open(encode({ ...envelope, sig: toBase64Url(sig) }), TOPIC, makeDeps()),
    "REVOKED",
    "bad sig",
  );
});

Deno.test("check order: an unknown sender with a bad signature reports UNKNOWN_SENDER", async () => {
  const { bytes } = await sealFor(SUITE_ED25519, { sender: "stranger", signingKey: edSigning });
  assertCode(await open(bytes, TOPIC, makeDeps()), "UNKNOWN_SENDER");
});

Deno.test("check order: a stale envelope with a bad signature reports STALE, a future one FUTURE", async () => {
  const stale = parse((await sealFor(SUITE_ED25519, { ts: NOW_MS - 60_000 })).bytes);
  assertCode(await open(encode({ ...stale, counter: 1 }), TOPIC, makeDeps()), "STALE");
  const future = parse((await sealFor(SUITE_ED25519, { ts: NOW_MS + 60_000 })).bytes);
  assertCode(await open(encode({ ...future, counter: 1 }), TOPIC, makeDeps()), "FUTURE");
});

Deno.test("check order: a replayed counter with a bad signature reports BAD_SIGNATURE", async () => {
  const { bytes } = await sealFor(SUITE_ED25519);
  const highest = new Map([["sensor-ed", 100]]);
  assertCode(await open(bytes, TOPIC, makeDeps({}, highest)), "REPLAY", "valid signature");
  const envelope = parse(bytes);
  const sig = fromBase64Url(envelope.sig);
  sig[63] ^= 0x10;
  const result = await open(encode({ ...envelope, sig: toBase64Url(sig) }), TOPIC, makeDeps({}, highest));
  assertCode(result, "BAD_SIGNATURE");
  assert.equal(result.stages.replay, undefined);
});

Deno.test("check order: REPLAY stops before any RSA or AES work", async () => {
  const { bytes } = await sealFor(SUITE_DSA);
  const result = await open(bytes, TOPIC, makeDeps({}, new Map([["sensor-dsa", 42]])));
  assertCode(result, "REPLAY");
  assert.equal(typeof result.stages.replay, "number");
  assert.equal(result.stages.unwrap, undefined);
  assert.equal(result.stages.decrypt, undefined);
});

Deno.test("check order: a corrupted ciphertext is stopped by the signature, never reaching decrypt", async () => {
  const { bytes } = await sealFor(SUITE_DSA);
  const envelope = parse(bytes);
  const ciphertext = fromBase64Url(envelope.ciphertext);
  ciphertext[0] ^= 0xff;
  let unwrapCalls = 0;
  const spyKey = new Proxy(rsaPrivate, {
    get(target, prop) {
      unwrapCalls++;
      return Reflect.get(target, prop);
    },
  });
  const result = await open(
    encode({ ...envelope, ciphertext: toBase64Url(ciphertext) }),
    TOPIC,
    makeDeps({ recipientPrivateKey: spyKey }),
  );
  assertCode(result, "BAD_SIGNATURE");
  assert.deepEqual(Object.keys(result.stages).sort(), ["parse", "verify"]);
  assert.equal(unwrapCalls, 0);
});

Deno.test("a validly signed envelope whose wrapped key does not unwrap reports BAD_KEY", async () => {
  const envelope = parse((await sealFor(SUITE_ED25519)).bytes);
  const garbage = { ...envelope, wrapped_key: toBase64Url(new Uint8Array(256).fill(7)) };
  const result = await open(await signedWith(garbage, edSigning), TOPIC, makeDeps());
  assertCode(result, "BAD_KEY");
  assert.equal(result.stages.decrypt, undefined);
  const otherRecipient = await generateRsaKeyPair();
  const forOther = await sealFor(SUITE_DSA, {
    epochKey: await newEpochKey(otherRecipient.publicKey, randomBytes),
  });
  assertCode(await open(forOther.bytes, TOPIC, makeDeps()), "BAD_KEY", "wrapped to someone else");
});

Deno.test("a validly signed envelope whose ciphertext does not authenticate reports BAD_CIPHERTEXT", async () => {
  const envelope = parse((await sealFor(SUITE_ED25519)).bytes);
  const ciphertext = fromBase64Url(envelope.ciphertext);
  ciphertext[ciphertext.length - 1] ^= 1;
  const tampered = { ...envelope, ciphertext: toBase64Url(ciphertext) };
  assertCode(await open(await signedWith(tampered, edSigning), TOPIC, makeDeps()), "BAD_CIPHERTEXT");
});

Deno.test("AAD binds the topic: a sender re-signing for another topic cannot reuse the ciphertext", async () => {
  const envelope = parse((await sealFor(SUITE_ED25519)).bytes);
  const other = "home/door/lock/set";
  assertCode(await open(await signedWith(envelope, edSigning, other), other, makeDeps()), "BAD_CIPHERTEXT");
});

Deno.test("no downgrade: a sender trusted for DSA cannot send an Ed25519 envelope", async () => {
  const { bytes } = await sealFor(SUITE_ED25519, { sender: "sensor-dsa", signingKey: edSigning });
  assertCode(await open(bytes, TOPIC, makeDeps()), "UNSUPPORTED");
});

Deno.test("a trust entry whose key does not fit its suite verifies nothing (BAD_SIGNATURE)", async () => {
  const { bytes } = await sealFor(SUITE_ED25519);
  const mismatched: TrustEntry = { publicKey: dsaVerifying, suite: SUITE_ED25519, status: "active" };
  const trust = { lookup: () => mismatched };
  assertCode(await open(bytes, TOPIC, makeDeps({ trust })), "BAD_SIGNATURE");
});

Deno.test("timestamp window: edges are inclusive and the window is configurable", async () => {
  for (
    const [ts, code] of [
      [NOW_MS - TIMESTAMP_WINDOW_MS, undefined],
      [NOW_MS + TIMESTAMP_WINDOW_MS, undefined],
      [NOW_MS - TIMESTAMP_WINDOW_MS - 1, "STALE"],
      [NOW_MS + TIMESTAMP_WINDOW_MS + 1, "FUTURE"],
    ] as const
  ) {
    const result = await open((await sealFor(SUITE_ED25519, { ts })).bytes, TOPIC, makeDeps());
    if (code === undefined) assert.ok(result.ok, `ts ${ts}`);
    else assertCode(result, code, `ts ${ts}`);
  }
  const { bytes } = await sealFor(SUITE_ED25519, { ts: NOW_MS - 5_000 });
  assertCode(await open(bytes, TOPIC, makeDeps({ timestampWindowMs: 1_000 })), "STALE");
});

Deno.test("MALFORMED: duplicate keys, forbidden keys, unknown or missing fields, oversize, bad UTF-8", async () => {
  const { bytes } = await sealFor(SUITE_ED25519);
  const text = utf8Decode(bytes);
  const envelope = parse(bytes);
  const { sig: _sig, ...withoutSig } = envelope;
  const inputs: [string, Uint8Array][] = [
    ["duplicate key, same value", utf8Encode(text.replace('"v":1,', '"v":1,"v":1,'))],
    ["duplicate key, later wins", utf8Encode(text.replace('"counter":42', '"counter":1,"counter":42'))],
    ["__proto__", utf8Encode(text.slice(0, -1) + ',"__proto__":{}}')],
    ["constructor", utf8Encode(text.slice(0, -1) + ',"constructor":1}')],
    ["prototype", utf8Encode(text.slice(0, -1) + ',"prototype":1}')],
    ["unknown field", utf8Encode(text.slice(0, -1) + ',"topic":"x"}')],
    ["missing field", utf8Encode(text.replace(/,"msg_id":"[^"]*"/, ""))],
    ["oversize", utf8Encode(text.slice(0, -1) + ',"pad":"' + "a".repeat(8192) + '"}')],
    ["one byte over the cap", new Uint8Array(8193).fill(0x20)],
    ["invalid UTF-8", concatBytes(bytes.slice(0, 20), new Uint8Array([0xc3, 0x28]), bytes.slice(20))],
    ["not JSON", utf8Encode("hello")],
    ["empty", new Uint8Array(0)],
    ["array", utf8Encode(`[${text}]`)],
    ["null", utf8Encode("null")],
    ["number", utf8Encode("1")],
    ["leading whitespace", utf8Encode(" " + text)],
    ["pretty-printed", utf8Encode(JSON.stringify(envelope, null, 2))],
    ["fields reordered", utf8Encode(JSON.stringify({ sig: envelope.sig, ...withoutSig }))],
    ["escaped character", utf8Encode(text.replace('"sensor-ed"', '"sensor\\u002ded"'))],
    ["exponent number", utf8Encode(text.replace('"counter":42', '"counter":4.2e1'))],
    ["BOM", concatBytes(new Uint8Array([0xef, 0xbb, 0xbf]), bytes)],
  ];
  const typed: [string, Record<string, unknown>][] = [
    ["v as string", { v: "1" }],
    ["counter as string", { counter: "42" }],
    ["negative counter", { counter: -1 }],
    ["fractional counter", { counter: 1.5 }],
    ["unsafe counter", { counter: 2 ** 53 }],
    ["ts as string", { ts: String(NOW_MS) }],
    ["ts null", { ts: null }],
    ["sender empty", { sender: "" }],
    ["sender too long", { sender: "s".repeat(65) }],
    ["sender with a slash", { sender: "a/b" }],
    ["sender non-ASCII", { sender: "sensör" }],
    ["msg_id too long", { msg_id: "m".repeat(65) }],
    ["msg_id with space", { msg_id: "a b" }],
    ["suite as number", { suite: 1 }],
    ["suite too long", { suite: "s".repeat(65) }],
    ["wrapped_key 255 bytes", { wrapped_key: toBase64Url(new Uint8Array(255)) }],
    ["wrapped_key 257 bytes", { wrapped_key: toBase64Url(new Uint8Array(257)) }],
    ["nonce 11 bytes", { nonce: toBase64Url(new Uint8Array(11)) }],
    ["nonce 16 bytes", { nonce: toBase64Url(new Uint8Array(16)) }],
    ["nonce padded", { nonce: envelope.nonce + "==" }],
    ["nonce standard base64 alphabet", { nonce: "++++++++++++++++" }],
    ["ciphertext shorter than a tag", { ciphertext: toBase64Url(new Uint8Array(15)) }],
    ["ciphertext non-canonical trailing bits", {
      ciphertext: toBase64Url(new Uint8Array(17)).slice(0, -1) + "B",
    }],
    ["sig 63 bytes for Ed25519", { sig: toBase64Url(new Uint8Array(63)) }],
    ["sig 65 bytes for Ed25519", { sig: toBase64Url(new Uint8Array(65)) }],
    ["sig empty", { sig: "" }],
    ["sig as array", { sig: [1, 2] }],
  ];
  for (const [name, change] of typed) {
    inputs.push([name, utf8Encode(JSON.stringify({ ...envelope, ...change }))]);
  }
  for (const [name, input] of inputs) {
    const result = await open(input, TOPIC, makeDeps());
    assertCode(result, "MALFORMED", name);
    assert.deepEqual(Object.keys(result.stages), ["parse"], name);
  }
});

Deno.test("MALFORMED: a DSA sig longer than 72 bytes, and topics that cannot be publish topics", async () => {
  const envelope = parse((await sealFor(SUITE_DSA)).bytes);
  const long = encode({ ...envelope, sig: toBase64Url(new Uint8Array(73)) });
  assertCode(await open(long, TOPIC, makeDeps()), "MALFORMED", "73-byte sig");
  const bytes = encode(envelope);
  for (const topic of ["", "home/+/set", "home/#", "a\u0000b", "t".repeat(257), "\ud800"]) {
    assertCode(await open(bytes, topic, makeDeps()), "MALFORMED", JSON.stringify(topic));
  }
});

Deno.test("open never throws on non-bytes input", async () => {
  for (const input of [undefined, null, "text", 42, {}] as unknown[]) {
    assertCode(await open(input as Uint8Array, TOPIC, makeDeps()), "MALFORMED", String(input));
  }
});

Deno.test("REASON_CODES lists the closed union in check order", () => {
  assert.deepEqual(REASON_CODES, [
    "MALFORMED",
    "UNSUPPORTED",
    "UNKNOWN_SENDER",
    "REVOKED",
    "STALE",
    "FUTURE",
    "BAD_SIGNATURE",
    "REPLAY",
    "BAD_KEY",
    "BAD_CIPHERTEXT",
  ]);
});

Deno.test("envelopeSignedBytes: label, then every field length-prefixed, integers as u64 big-endian", () => {
  const signed = envelopeSignedBytes({
    suite: "S",
    topic: "t/é",
    sender: "ab",
    counter: 258,
    ts: 2 ** 32 + 1,
    msgId: "m",
    wrappedKey: new Uint8Array([0xaa]),
    nonce: new Uint8Array([0xbb, 0xcc]),
    ciphertext: new Uint8Array([]),
  });
  const expected = concatBytes(
    utf8Encode(SIGNED_BYTES_LABEL),
    new Uint8Array([1]),
    new Uint8Array([0, 0, 0, 1, 0x53]),
    new Uint8Array([0, 0, 0, 4, 0x74, 0x2f, 0xc3, 0xa9]),
    new Uint8Array([0, 0, 0, 2, 0x61, 0x62]),
    new Uint8Array([0, 0, 0, 0, 0, 0, 1, 2]),
    new Uint8Array([0, 0, 0, 1, 0, 0, 0, 1]),
    new Uint8Array([0, 0, 0, 1, 0x6d]),
    new Uint8Array([0, 0, 0, 1, 0xaa]),
    new Uint8Array([0, 0, 0, 2, 0xbb, 0xcc]),
    new Uint8Array([0, 0, 0, 0]),
  );
  assert.equal(SIGNED_BYTES_LABEL.length, 20);
  assert.deepEqual(signed, expected);
});

Deno.test("epoch key: one wrapped key serves several messages with fresh nonces, then refuses", async () => {
  const epochKey = await newEpochKey(rsaPublic, randomBytes, { maxMessages: 3 });
  const sealed = [];
  for (let counter = 1; counter <= 3; counter++) {
    sealed.push(parse((await sealFor(SUITE_ED25519, { epochKey, counter })).bytes));
  }
  assert.equal(new Set(sealed.map((e) => e.wrapped_key)).size, 1);
  assert.equal(new Set(sealed.map((e) => e.nonce)).size, 3);
  assert.equal(epochKey.messagesSealed, 3);
  assert.equal(epochKey.exhausted, true);
  await assert.rejects(
    () => sealFor(SUITE_ED25519, { epochKey, counter: 4 }),
    (e) => e instanceof EnvelopeError && e.code === "EPOCH_EXHAUSTED",
  );
});

Deno.test("epoch key: the default epoch length is one message", async () => {
  const epochKey = await newEpochKey(rsaPublic, randomBytes);
  await sealFor(SUITE_ED25519, { epochKey });
  await assert.rejects(
    () => sealFor(SUITE_ED25519, { epochKey }),
    (e) => e instanceof EnvelopeError && e.code === "EPOCH_EXHAUSTED",
  );
});

Deno.test("epoch key: a random source that repeats a nonce is refused with NONCE_REUSE", async () => {
  const stuck = (n: number) => new Uint8Array(n).fill(9);
  const epochKey = await newEpochKey(rsaPublic, randomBytes, { maxMessages: 10 });
  await sealFor(SUITE_ED25519, { epochKey, randomBytes: stuck });
  await assert.rejects(
    () => sealFor(SUITE_ED25519, { epochKey, randomBytes: stuck, counter: 43 }),
    (e) => e instanceof EnvelopeError && e.code === "NONCE_REUSE",
  );
});

Deno.test("epoch key: lengths outside 1..65536 and wrong key sizes are refused", async () => {
  const isInvalid = (e: unknown) => e instanceof EnvelopeError && e.code === "INVALID_INPUT";
  await assert.rejects(() => newEpochKey(rsaPublic, randomBytes, { maxMessages: 0 }), isInvalid);
  await assert.rejects(() => newEpochKey(rsaPublic, randomBytes, { maxMessages: 65_537 }), isInvalid);
  await assert.rejects(() => importEpochKey(new Uint8Array(32), new Uint8Array(255)), isInvalid);
  await assert.rejects(() => importEpochKey(new Uint8Array(31), new Uint8Array(256)), isInvalid);
});

Deno.test("key cache: the second message of an epoch skips the RSA unwrap", async () => {
  const keyCache = new EpochKeyCache(4);
  const epochKey = await newEpochKey(rsaPublic, randomBytes, { maxMessages: 2 });
  const first = await sealFor(SUITE_DSA, { epochKey, counter: 1 });
  const second = await sealFor(SUITE_DSA, { epochKey, counter: 2 });
  const r1 = await open(first.bytes, TOPIC, makeDeps({ keyCache }));
  assert.ok(r1.ok);
  assert.equal(r1.stages.unwrapCached, false);
  assert.equal(keyCache.size, 1);
  // A recipient key that cannot unwrap anything proves the RSA operation did not run.
  const wrongKey = (await generateRsaKeyPair()).privateKey;
  const r2 = await open(second.bytes, TOPIC, makeDeps({ keyCache, recipientPrivateKey: wrongKey }));
  if (!r2.ok) assert.fail(`${r2.code}: ${r2.detail}`);
  assert.equal(r2.stages.unwrapCached, true);
  assert.equal(r2.stages.unwrap, 0);
  assert.deepEqual(r2.message.plaintext, second.input.plaintext);
});

Deno.test("key cache: keyed by sender, so another sender's envelope with the same wrapped key misses", async () => {
  const keyCache = new EpochKeyCache(4);
  const epochKey = await newEpochKey(rsaPublic, randomBytes, { maxMessages: 2 });
  assert.ok((await open((await sealFor(SUITE_DSA, { epochKey })).bytes, TOPIC, makeDeps({ keyCache }))).ok);
  const fromEd = await sealFor(SUITE_ED25519, { epochKey });
  const result = await open(fromEd.bytes, TOPIC, makeDeps({ keyCache }));
  assert.ok(result.ok);
  assert.equal(result.stages.unwrapCached, false);
  assert.equal(keyCache.size, 2);
});

Deno.test("key cache: failed decryptions are not cached", async () => {
  const keyCache = new EpochKeyCache(4);
  const envelope = parse((await sealFor(SUITE_ED25519)).bytes);
  const ciphertext = fromBase64Url(envelope.ciphertext);
  ciphertext[0] ^= 1;
  const tampered = await signedWith({ ...envelope, ciphertext: toBase64Url(ciphertext) }, edSigning);
  assertCode(await open(tampered, TOPIC, makeDeps({ keyCache })), "BAD_CIPHERTEXT");
  assert.equal(keyCache.size, 0);
});

Deno.test("EpochKeyCache is a bounded LRU", async () => {
  const cache = new EpochKeyCache(2);
  const key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt"]);
  const w = (n: number) => new Uint8Array(256).fill(n);
  cache.set("a", w(1), key);
  cache.set("a", w(2), key);
  assert.equal(cache.get("a", w(1)), key); // 1 is now most recent
  cache.set("a", w(3), key); // evicts 2
  assert.equal(cache.size, 2);
  assert.equal(cache.get("a", w(2)), undefined);
  assert.equal(cache.get("a", w(1)), key);
  assert.equal(cache.get("a", w(3)), key);
  assert.equal(cache.get("b", w(1)), undefined);
  assert.throws(() => new EpochKeyCache(0), EnvelopeError);
});

Deno.test("seal refuses inputs it could never open: wrong key scheme, bad ids, oversize plaintext", async () => {
  const isInvalid = (e: unknown) => e instanceof EnvelopeError && e.code === "INVALID_INPUT";
  await assert.rejects(() => sealFor(SUITE_DSA, { signingKey: edSigning }), isInvalid);
  await assert.rejects(() => sealFor(SUITE_ED25519, { sender: "bad sender" }), isInvalid);
  await assert.rejects(() => sealFor(SUITE_ED25519, { msgId: "" }), isInvalid);
  await assert.rejects(() => sealFor(SUITE_ED25519, { counter: -1 }), isInvalid);
  await assert.rejects(() => sealFor(SUITE_ED25519, { ts: 1.5 }), isInvalid);
  await assert.rejects(() => sealFor(SUITE_ED25519, { topic: "home/#" }), isInvalid);
  await assert.rejects(() => sealFor(SUITE_ED25519, { plaintext: new Uint8Array(4097) }), isInvalid);
  await assert.rejects(() => sealFor(SUITE_ED25519, { randomBytes: () => new Uint8Array(8) }), isInvalid);
  await assert.rejects(
    () => sealFor("rsa+aes+rot13" as Suite, { sender: "sensor-ed", signingKey: edSigning }),
    isInvalid,
  );
});

Deno.test("the largest envelope (4096-byte plaintext, longest ids, DSA) fits under the 8 KiB cap and opens", async () => {
  const sender = "s".repeat(64);
  const trust = { lookup: (s: string) => s === sender ? SENDERS["sensor-dsa"].entry : undefined };
  const { bytes } = await sealFor(SUITE_DSA, {
    sender,
    signingKey: dsaSigning,
    msgId: "m".repeat(64),
    counter: Number.MAX_SAFE_INTEGER,
    ts: NOW_MS,
    plaintext: new Uint8Array(4096).fill(0x41),
  });
  assert.ok(bytes.length <= 8192, `${bytes.length} bytes`);
  assert.ok((await open(bytes, TOPIC, makeDeps({ trust }))).ok);
});
