/**
 * Signed mutations: built with a sender's own key, so they reach the checks after the signature (the
 * wrapped key, the ciphertext and its binding, and the reading inside).
 * @module
 */

import { aesGcmEncrypt, importAesKey } from "../../crypto/aes.ts";
import { toBase64Url, utf8Encode } from "../../crypto/codec.ts";
import {
  ENVELOPE_VERSION,
  envelopeAssociatedData,
  envelopeSignedBytes,
  serializeEnvelope,
  type SignedFields,
  type Suite,
  TAG_BYTES,
  TIMESTAMP_WINDOW_MS,
} from "../../crypto/envelope.ts";
import { RSA_WRAPPED_KEY_BYTES, wrapSessionKey } from "../../crypto/rsa.ts";
import { type SigningKey, signMessage } from "../../crypto/signature.ts";
import { encodeReading, makeReading } from "../../roles/door.ts";
import type { GeneratedCase, MutationContext } from "./case.ts";
import {
  activeSeeds,
  FUZZ_ACCEPTED_HIGHEST,
  FUZZ_NOW_MS,
  FUZZ_SENDER_DSA,
  FUZZ_SENDER_ED,
  type FuzzSigner,
  OTHER_SEED_TOPIC,
  SEED_TOPIC,
} from "./home.ts";
import { nested, q } from "./json_members.ts";
import type { FuzzRng } from "./rng.ts";

const enc = new TextEncoder();

/** The signed fields of a case (under a suite the tree knows) and the key that signs them. */
interface SignedParts extends SignedFields {
  suite: Suite;
  signingKey: SigningKey;
}

async function signParts(p: SignedParts): Promise<Uint8Array> {
  const sig = await signMessage(p.signingKey, envelopeSignedBytes(p));
  return utf8Encode(serializeEnvelope({
    v: ENVELOPE_VERSION,
    suite: p.suite,
    sender: p.sender,
    counter: p.counter,
    ts: p.ts,
    msg_id: p.msgId,
    wrapped_key: toBase64Url(p.wrappedKey),
    nonce: toBase64Url(p.nonce),
    ciphertext: toBase64Url(p.ciphertext),
    sig: toBase64Url(sig),
  }));
}

function activeSigner(ctx: MutationContext): FuzzSigner {
  return ctx.home.signers[ctx.rng.pick([FUZZ_SENDER_DSA, FUZZ_SENDER_ED])];
}

/** A counter above everything accepted, so the replay check passes and later checks run. */
function freshCounter(rng: FuzzRng, sender: string): number {
  return FUZZ_ACCEPTED_HIGHEST[sender] + 1 + rng.int(1_000_000);
}

function freshTs(rng: FuzzRng): number {
  return FUZZ_NOW_MS + rng.range(-TIMESTAMP_WINDOW_MS, TIMESTAMP_WINDOW_MS);
}

/**
 * Everything of a signed case but its ciphertext, with a fresh nonce. The caller draws the counter and the
 * timestamp: where they fall in the draw order differs from case to case, and a seed's cases depend on it.
 */
function unsealedParts(
  rng: FuzzRng,
  signer: FuzzSigner,
  topic: string,
  counter: number,
  ts: number,
  msgId: string,
  wrappedKey: Uint8Array,
): Omit<SignedParts, "ciphertext"> {
  const { suite, sender, signingKey } = signer;
  return { suite, topic, sender, counter, ts, msgId, nonce: rng.bytes(12), wrappedKey, signingKey };
}

async function encryptFor(
  sessionKey: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  p: Pick<SignedParts, "suite" | "topic" | "sender" | "counter" | "ts">,
): Promise<Uint8Array> {
  return await aesGcmEncrypt(await importAesKey(sessionKey), nonce, plaintext, envelopeAssociatedData(p));
}

/**
 * A case signed with a real key whose wrapped session key is bad: must be BAD_KEY.
 * @example
 * ```ts
 * const generated = await signedBadKey(ctx); // generated.expect === "BAD_KEY"
 * ```
 */
export async function signedBadKey(ctx: MutationContext): Promise<GeneratedCase> {
  const { rng, home } = ctx;
  const signer = activeSigner(ctx);
  const sessionKey = rng.bytes(32);
  let wrappedKey: Uint8Array;
  let what: string;
  const rsaEncrypt = async (key: CryptoKey, data: Uint8Array) =>
    new Uint8Array(await crypto.subtle.encrypt({ name: "RSA-OAEP" }, key, data.slice()));
  switch (rng.int(6)) {
    case 0:
      wrappedKey = rng.bytes(RSA_WRAPPED_KEY_BYTES);
      what = "random wrapped_key";
      break;
    case 1:
      wrappedKey = await rsaEncrypt(home.foreignRsaPublicKey, sessionKey);
      what = "wrapped to another RSA key";
      break;
    case 2: {
      const length = rng.pick([0, 1, 16, 24, 31, 33, 64]);
      wrappedKey = await rsaEncrypt(home.recipientPublicKey, rng.bytes(length));
      what = `wrapped a ${length}-byte key`;
      break;
    }
    case 3: {
      wrappedKey = ctx.seed.wrappedKey.slice();
      wrappedKey[rng.int(wrappedKey.length)] ^= 1 << rng.int(8);
      what = "seed's wrapped_key with a bit flipped";
      break;
    }
    case 4:
      wrappedKey = new Uint8Array(RSA_WRAPPED_KEY_BYTES).fill(0xff);
      what = "wrapped_key >= n";
      break;
    default:
      wrappedKey = new Uint8Array(RSA_WRAPPED_KEY_BYTES);
      what = "all-zero wrapped_key";
  }
  const counter = freshCounter(rng, signer.sender);
  const parts = unsealedParts(rng, signer, SEED_TOPIC, counter, freshTs(rng), `k-${counter}`, wrappedKey);
  const plaintext = encodeReading(makeReading(signer.sender, counter, parts.ts, 20));
  const ciphertext = await encryptFor(sessionKey, parts.nonce, plaintext, parts);
  return {
    topic: parts.topic,
    payload: await signParts({ ...parts, ciphertext }),
    detail: what,
    authentic: false,
    signed: true,
    expect: "BAD_KEY",
  };
}

/**
 * A case signed with a real key whose ciphertext, tag or nonce is bad: must be BAD_CIPHERTEXT.
 * @example
 * ```ts
 * const generated = await signedBadCiphertext(ctx);
 * ```
 */
export async function signedBadCiphertext(ctx: MutationContext): Promise<GeneratedCase> {
  const { rng, home } = ctx;
  const seed = rng.pick(activeSeeds(home));
  const signer = home.signers[seed.sender];
  const counter = freshCounter(rng, signer.sender);
  // The seed's epoch: a key the actuator already holds in its cache.
  const parts = unsealedParts(
    rng,
    signer,
    seed.topic,
    counter,
    freshTs(rng),
    `c-${counter}`,
    seed.wrappedKey,
  );
  const plaintext = encodeReading(makeReading(signer.sender, counter, parts.ts, 20));
  let ciphertext = await encryptFor(seed.sessionKey, parts.nonce, plaintext, parts);
  let nonce = parts.nonce;
  let what: string;
  switch (rng.int(5)) {
    case 0:
      ciphertext[rng.int(ciphertext.length - TAG_BYTES)] ^= 1 << rng.int(8);
      what = "ciphertext bit flip";
      break;
    case 1:
      ciphertext[ciphertext.length - 1 - rng.int(TAG_BYTES)] ^= 1 << rng.int(8);
      what = "tag bit flip";
      break;
    case 2:
      nonce = nonce.slice();
      nonce[rng.int(nonce.length)] ^= 1 << rng.int(8);
      what = "other nonce";
      break;
    case 3:
      ciphertext = await encryptFor(rng.bytes(32), parts.nonce, plaintext, parts);
      what = "encrypted under another key than the wrapped one";
      break;
    default:
      ciphertext = ciphertext.slice(0, TAG_BYTES + rng.int(ciphertext.length - TAG_BYTES));
      what = "ciphertext truncated";
  }
  const payload = await signParts({ ...parts, nonce, ciphertext });
  return {
    topic: parts.topic,
    payload,
    detail: `${what} (${seed.sender} epoch)`,
    authentic: false,
    signed: true,
    expect: "BAD_CIPHERTEXT",
  };
}

/**
 * A seed's ciphertext re-signed with other associated data: must be BAD_CIPHERTEXT.
 * @example
 * ```ts
 * const generated = await signedRebind(ctx);
 * ```
 */
export async function signedRebind(ctx: MutationContext): Promise<GeneratedCase> {
  // A seed's wrapped key, nonce and ciphertext re-signed with other AAD fields: only the AEAD binding
  // can refuse it. The counter always changes (else REPLAY would answer first).
  const { rng, home } = ctx;
  const seed = rng.pick(activeSeeds(home));
  let signer = home.signers[seed.sender];
  let topic = seed.topic;
  let ts = seed.ts;
  const changed = ["counter"];
  switch (rng.int(4)) {
    case 0:
      topic = topic === SEED_TOPIC ? OTHER_SEED_TOPIC : SEED_TOPIC;
      changed.push("topic");
      break;
    case 1:
      ts = seed.ts + rng.pick([-1, 1, 1000]);
      changed.push("ts");
      break;
    case 2:
      signer = home.signers[seed.sender === FUZZ_SENDER_DSA ? FUZZ_SENDER_ED : FUZZ_SENDER_DSA];
      changed.push("sender", "suite");
      break;
    default:
      break;
  }
  const payload = await signParts({
    suite: signer.suite,
    topic,
    sender: signer.sender,
    counter: freshCounter(rng, signer.sender),
    ts,
    msgId: seed.msgId,
    wrappedKey: seed.wrappedKey,
    nonce: seed.nonce,
    ciphertext: seed.ciphertext,
    signingKey: signer.signingKey,
  });
  return {
    topic,
    payload,
    detail: `${seed.sender}#${seed.counter} re-signed with new ${changed.join(",")}`,
    authentic: false,
    signed: true,
    expect: "BAD_CIPHERTEXT",
  };
}

/**
 * Plaintexts that are never a valid reading of (sender, counter): each is invalid by construction
 * (a wrong type, a missing field, another identity, not JSON), never by chance.
 */
function hostileReading(rng: FuzzRng, sender: string, counter: number, ts: number): [Uint8Array, string] {
  const reading: Record<string, unknown> = { ...makeReading(sender, counter, ts, 20) };
  const text = (value: unknown) => enc.encode(JSON.stringify(value));
  const field = rng.pick(["sensor_id", "event", "timestamp", "counter", "temperature", "status", "msg_id"]);
  const bad: Record<string, unknown[]> = {
    sensor_id: [sender === FUZZ_SENDER_DSA ? FUZZ_SENDER_ED : FUZZ_SENDER_DSA, "", "s".repeat(65), 7, null],
    event: ["OPEN", "opened", "", null, 1, ["open"]],
    timestamp: ["now", null, String(ts), [ts]],
    counter: [counter + 1, counter - 1, String(counter), counter + 0.5, -1, 2 ** 53, null],
    temperature: ["20", null, [20], {}],
    status: ["s".repeat(33), 5, null, ["ok"]],
    msg_id: ["", "m".repeat(65), 5, null],
  };
  switch (rng.int(8)) {
    case 0: {
      delete reading[field];
      return [text(reading), `reading without ${field}`];
    }
    case 1: {
      // The last duplicate wins in JSON.parse: make that one the bad one.
      const value = rng.pick(bad[field]);
      const body = JSON.stringify(reading).slice(0, -1);
      return [enc.encode(`${body},${q(field)}:${JSON.stringify(value)}}`), `duplicate ${field}, last bad`];
    }
    case 2: {
      const raw = rng.pick(["", "{", "open", "1e999", "null", "[]", "1", '"open"', "true", "\ufeff{}"]);
      return [enc.encode(raw), `plaintext ${q(raw)}`];
    }
    case 3:
      return [new Uint8Array([0xff, 0xfe, 0x7b, 0x7d]), "plaintext not UTF-8"];
    case 4:
      return [text([reading]), "reading inside an array"];
    case 5:
      return [enc.encode(`{"__proto__":${JSON.stringify(reading)}}`), "reading under __proto__"];
    case 6:
      return [enc.encode(nested(rng, rng.pick([64, 1500]))), "deeply nested plaintext"];
    default: {
      const value = rng.pick(bad[field]);
      reading[field] = value;
      return [text(reading), `${field} = ${JSON.stringify(value)?.slice(0, 24)}`];
    }
  }
}

/**
 * An authentic envelope around a hostile reading: `open()` may accept it, the actuator must refuse it.
 * @example
 * ```ts
 * const generated = await signedPlaintext(ctx); // generated.authentic === true
 * ```
 */
export async function signedPlaintext(ctx: MutationContext): Promise<GeneratedCase> {
  const { rng, home } = ctx;
  const signer = activeSigner(ctx);
  const counter = freshCounter(rng, signer.sender);
  const ts = freshTs(rng);
  const [plaintext, what] = hostileReading(rng, signer.sender, counter, ts);
  // Half of them on a cached epoch key, half with a fresh RSA wrap.
  const epochSeed = rng.chance(0.5)
    ? rng.pick(home.seeds.filter((s) => s.sender === signer.sender))
    : undefined;
  const sessionKey = epochSeed?.sessionKey ?? rng.bytes(32);
  const wrappedKey = epochSeed?.wrappedKey ?? await wrapSessionKey(home.recipientPublicKey, sessionKey);
  const parts = unsealedParts(rng, signer, SEED_TOPIC, counter, ts, `p-${counter}`, wrappedKey);
  const ciphertext = await encryptFor(sessionKey, parts.nonce, plaintext, parts);
  return {
    topic: parts.topic,
    payload: await signParts({ ...parts, ciphertext }),
    detail: what,
    authentic: true,
    signed: true,
  };
}
