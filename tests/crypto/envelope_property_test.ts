import assert from "node:assert/strict";
import fc from "fast-check";
import { utf8Decode, utf8Encode } from "../../crypto/codec.ts";
import {
  ENVELOPE_FIELDS,
  newEpochKey,
  open,
  type OpenDeps,
  REASON_CODES,
  seal,
  type Suite,
  SUITE_DSA,
  SUITE_ED25519,
} from "../../crypto/envelope.ts";
import { fixtureTrust, loadEnvelopeFixtureKeys } from "../../testkit/fixture_keys.ts";

const NOW_MS = 1_700_000_000_000;
const TOPIC = "home/kitchen/kettle/set";
const NUM_RUNS = 300;
const randomBytes = (n: number) => crypto.getRandomValues(new Uint8Array(n));

const { rsaPublic, rsaPrivate, senders: keys } = await loadEnvelopeFixtureKeys();

const deps: OpenDeps = {
  clock: { now: () => NOW_MS },
  trust: fixtureTrust(keys),
  replay: { isFresh: () => true },
  recipientPrivateKey: rsaPrivate,
};

async function sealed(suite: Suite): Promise<Uint8Array> {
  return await seal({
    topic: TOPIC,
    sender: keys[suite].sender,
    counter: 9,
    ts: NOW_MS,
    msgId: "m-9",
    plaintext: utf8Encode("boil"),
    suite,
    signingKey: keys[suite].signingKey,
    epochKey: await newEpochKey(rsaPublic, randomBytes),
    randomBytes,
  });
}

const valid = { [SUITE_DSA]: await sealed(SUITE_DSA), [SUITE_ED25519]: await sealed(SUITE_ED25519) };
const suiteArb = fc.constantFrom<Suite>(SUITE_DSA, SUITE_ED25519);

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Opens `bytes` and asserts a well-formed rejection; an exception fails the property by itself. */
async function assertRejected(bytes: Uint8Array, topic = TOPIC): Promise<void> {
  const result = await open(bytes, topic, deps);
  if (result.ok) assert.fail(`accepted a mutated envelope: ${utf8Decode(bytes).slice(0, 200)}`);
  assert.ok(REASON_CODES.includes(result.code));
  assert.equal(typeof result.detail, "string");
}

Deno.test("property: the unmutated envelopes open (sanity check for the properties below)", async () => {
  for (const suite of [SUITE_DSA, SUITE_ED25519] as const) {
    assert.ok((await open(valid[suite], TOPIC, deps)).ok);
  }
});

Deno.test("property: random bytes are never accepted and never throw", async () => {
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 9000 }), (bytes) => assertRejected(bytes)),
    { numRuns: NUM_RUNS },
  );
});

Deno.test("property: random JSON objects are never accepted and never throw", async () => {
  await fc.assert(
    fc.asyncProperty(fc.object(), (value) => assertRejected(utf8Encode(JSON.stringify(value)))),
    { numRuns: NUM_RUNS },
  );
});

Deno.test("property: byte-level edits of a valid envelope are never accepted", async () => {
  const edit = fc.record({
    position: fc.nat(),
    kind: fc.constantFrom("xor", "insert", "delete", "truncate"),
    byte: fc.integer({ min: 1, max: 255 }),
  });
  await fc.assert(
    fc.asyncProperty(suiteArb, fc.array(edit, { minLength: 1, maxLength: 4 }), async (suite, edits) => {
      let bytes = valid[suite].slice();
      for (const { position, kind, byte } of edits) {
        const at = position % (bytes.length + 1);
        if (kind === "xor" && at < bytes.length) bytes[at] ^= byte;
        else if (kind === "insert") {
          bytes = Uint8Array.from([...bytes.slice(0, at), byte, ...bytes.slice(at)]);
        } else if (kind === "delete") {
          bytes = Uint8Array.from([...bytes.slice(0, at), ...bytes.slice(at + 1)]);
        } else if (kind === "truncate") bytes = bytes.slice(0, at);
      }
      fc.pre(!sameBytes(bytes, valid[suite]));
      await assertRejected(bytes);
    }),
    { numRuns: NUM_RUNS },
  );
});

Deno.test("property: replacing, deleting or adding fields of a valid envelope is never accepted", async () => {
  const fieldArb = fc.constantFrom(...ENVELOPE_FIELDS, "__proto__", "constructor", "topic", "extra");
  await fc.assert(
    fc.asyncProperty(
      suiteArb,
      fieldArb,
      fc.option(fc.jsonValue(), { nil: undefined }),
      async (suite, field, replacement) => {
        const text = utf8Decode(valid[suite]);
        const envelope = JSON.parse(text);
        let mutated: string;
        if (replacement === undefined) {
          delete envelope[field];
          mutated = JSON.stringify(envelope);
        } else if (Object.hasOwn(envelope, field)) {
          envelope[field] = replacement;
          mutated = JSON.stringify(envelope);
        } else {
          // Splice the raw key in so "__proto__" arrives as a real key.
          mutated = text.slice(0, -1) + `,${JSON.stringify(field)}:${JSON.stringify(replacement)}}`;
        }
        fc.pre(mutated !== text);
        await assertRejected(utf8Encode(mutated));
      },
    ),
    { numRuns: NUM_RUNS },
  );
});

Deno.test("property: a valid envelope opened on any other topic is never accepted", async () => {
  await fc.assert(
    fc.asyncProperty(suiteArb, fc.string({ maxLength: 300 }), async (suite, topic) => {
      fc.pre(topic !== TOPIC);
      await assertRejected(valid[suite], topic);
    }),
    { numRuns: NUM_RUNS },
  );
});
