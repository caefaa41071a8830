/**
 * Mutations of the whole input: whitespace around members, the arrival topic, random inputs, and havoc
 * (several byte and JSON mutations stacked).
 * @module
 */

import { toBase64Url } from "../../crypto/codec.ts";
import { serializeEnvelope, SUITE_DSA, SUITE_ED25519, TAG_BYTES } from "../../crypto/envelope.ts";
import { RSA_WRAPPED_KEY_BYTES } from "../../crypto/rsa.ts";
import { BYTE_MUTATIONS } from "./byte_mutations.ts";
import { type GeneratedCase, type MutationContext, unsigned } from "./case.ts";
import {
  FUZZ_NOW_MS,
  FUZZ_SENDER_DSA,
  FUZZ_SENDER_ED,
  FUZZ_SENDER_REVOKED,
  OTHER_SEED_TOPIC,
  SEED_TOPIC,
  type SeedEnvelope,
} from "./home.ts";
import { parseMembers, q, serializeMembers } from "./json_members.ts";
import { JSON_MUTATIONS } from "./json_mutations.ts";

const enc = new TextEncoder();

/**
 * The seed with whitespace between its tokens or around the object: not canonical, so MALFORMED.
 * @example
 * ```ts
 * const generated = whitespaced(ctx);
 * ```
 */
export function whitespaced(ctx: MutationContext): GeneratedCase {
  const { rng, seed } = ctx;
  const members = parseMembers(seed.bytes)!;
  const ws = rng.pick([" ", "\t", "\n", "\r\n", "  "]);
  const slots = new Set<number>();
  const n = rng.range(1, 3);
  for (let k = 0; k < n; k++) slots.add(rng.int(members.length * 4 + 1));
  let text = serializeMembers(members, (slot) => (slots.has(slot) ? ws : ""));
  let what = `${q(ws)} at slots ${[...slots].join(",")}`;
  if (rng.chance(0.25)) {
    const wrap = rng.pick(["\ufeff", " ", "\n"]);
    text = rng.chance(0.5) ? wrap + text : text + wrap;
    what = `${q(wrap)} around the object`;
  }
  return unsigned(seed.topic, enc.encode(text), what);
}

// Topic mutations: the envelope is untouched, the topic it arrives on is not.

const TOPIC_VARIANTS = (seed: SeedEnvelope): string[] => [
  seed.topic === SEED_TOPIC ? OTHER_SEED_TOPIC : SEED_TOPIC,
  seed.topic + "/",
  "/" + seed.topic,
  seed.topic.replace("/", "//"),
  seed.topic.toUpperCase(),
  seed.topic + "\u00e9",
  seed.topic.normalize("NFD") + "\u0301",
  seed.topic + " ",
  "",
  "+",
  "#",
  "home/+/door",
  "home/secure/#",
  seed.topic + "\0",
  "x".repeat(256),
  "x".repeat(257),
  "\u00e9".repeat(129),
  "\ud800",
  seed.topic + "\udc00",
  "home/secure/door\u2028",
];

/**
 * The seed verbatim on another topic: the signature binds the topic, so it must fail.
 * @example
 * ```ts
 * const generated = topicMutation(ctx); // generated.payload === ctx.seed.bytes
 * ```
 */
export function topicMutation({ rng, seed }: MutationContext): GeneratedCase {
  const topic = rng.pick(TOPIC_VARIANTS(seed));
  return unsigned(topic, seed.bytes, `topic ${q(topic).slice(0, 40)}`);
}

/**
 * Random input: bytes, text, small JSON values, or a well-shaped envelope with random content.
 * @example
 * ```ts
 * const generated = randomInput(ctx);
 * ```
 */
export function randomInput({ rng }: MutationContext): GeneratedCase {
  switch (rng.int(5)) {
    case 0:
      return unsigned(SEED_TOPIC, rng.bytes(rng.int(512)), "random bytes");
    case 1:
      return unsigned(SEED_TOPIC, rng.bytes(rng.range(8000, 10_000)), "random bytes near the cap");
    case 2: {
      const n = rng.int(300);
      const text = Array.from({ length: n }, () => String.fromCharCode(rng.range(0x20, 0x7e))).join("");
      return unsigned(SEED_TOPIC, enc.encode(text), "random printable text");
    }
    case 3: {
      const text = rng.pick(["", "null", "[]", "{}", "1", '"x"', "true", "[{}]", '{"v":1}', "{", "}"]);
      return unsigned(SEED_TOPIC, enc.encode(text), `JSON value ${q(text)}`);
    }
    default: {
      // Ten well-shaped fields with random content: reaches the trust, time and signature checks.
      const sender = rng.pick([FUZZ_SENDER_DSA, FUZZ_SENDER_ED, FUZZ_SENDER_REVOKED, "sensor-x", "a"]);
      const suite = rng.pick([SUITE_DSA, SUITE_ED25519]);
      const sigLength = suite === SUITE_ED25519 ? 64 : rng.range(8, 72);
      const envelope = serializeEnvelope({
        v: 1,
        suite,
        sender,
        counter: rng.chance(0.5) ? rng.int(20) : rng.int(2 ** 32),
        ts: FUZZ_NOW_MS + rng.range(-2, 2) * 20_000,
        msg_id: `m-${rng.int(1000)}`,
        wrapped_key: toBase64Url(rng.bytes(RSA_WRAPPED_KEY_BYTES)),
        nonce: toBase64Url(rng.bytes(12)),
        ciphertext: toBase64Url(rng.bytes(rng.range(TAG_BYTES, 200))),
        sig: toBase64Url(rng.bytes(sigLength)),
      });
      return unsigned(rng.pick([SEED_TOPIC, OTHER_SEED_TOPIC]), enc.encode(envelope), `random envelope`);
    }
  }
}

/**
 * Two to five byte and JSON mutations stacked on one seed.
 * @example
 * ```ts
 * const generated = havoc(ctx); // detail e.g. "json-field-remove + byte-flip"
 * ```
 */
export function havoc(ctx: MutationContext): GeneratedCase {
  const { rng } = ctx;
  let bytes = ctx.seed.bytes;
  const steps: string[] = [];
  const n = rng.range(2, 5);
  for (let k = 0; k < n; k++) {
    const members = rng.chance(0.6) ? parseMembers(bytes) : undefined;
    if (members && members.length > 0) {
      const name = rng.pick(Object.keys(JSON_MUTATIONS).filter((m) => m !== "sig-malleate"));
      try {
        JSON_MUTATIONS[name](ctx, members);
        bytes = enc.encode(serializeMembers(members));
        steps.push(name);
        continue;
      } catch {
        // A mutation that needs a field the previous steps removed: fall through to a byte mutation.
      }
    }
    const name = rng.pick(Object.keys(BYTE_MUTATIONS).filter((m) => m !== "byte-extend"));
    [bytes] = BYTE_MUTATIONS[name](rng, bytes);
    steps.push(name);
  }
  return unsigned(ctx.seed.topic, bytes, steps.join(" + "));
}
