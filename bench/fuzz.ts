/**
 * Fuzzing of the secure receive path. A genuine home is built in memory (the committed RSA, DSA and
 * Ed25519 keys of `tests/fixtures/envelope_v1/`, a trust list with one DSA, one Ed25519 and one revoked
 * sender), seed envelopes are sealed for both suites over several key epochs and accepted once, so their
 * counters are recorded; then N mutated inputs go through `open()` (crypto/envelope.ts) and/or the Phase II
 * actuator (`startActuator` + `secureOpener` over an in-memory transport). Nothing may be accepted or acted
 * on, nothing may throw, and no case may take longer than {@link FUZZ_HANG_MS}.
 *
 * ```sh
 * deno run -A bench/fuzz.ts [--cases 100000] [--seed 1] [--target open|actuator|both] [--save-corpus]
 * ```
 *
 * The engine is exported for `tests/fuzz_test.ts`, which replays the saved corpus
 * (`tests/fixtures/fuzz_corpus/`) and runs a short fuzz in CI.
 * @module
 */

import { FakeClock } from "../core/clock.ts";
import { aesGcmEncrypt, importAesKey } from "../crypto/aes.ts";
import { fromBase64, fromBase64Url, fromHex, toBase64, toBase64Url, utf8Encode } from "../crypto/codec.ts";
import {
  ENVELOPE_FIELDS,
  ENVELOPE_MAX_BYTES,
  ENVELOPE_VERSION,
  envelopeAssociatedData,
  envelopeSignedBytes,
  EpochKeyCache,
  importEpochKey,
  MAX_PLAINTEXT_BYTES,
  open,
  type OpenDeps,
  type OpenResult,
  seal,
  serializeEnvelope,
  type Suite,
  SUITE_DSA,
  SUITE_ED25519,
  TAG_BYTES,
  TIMESTAMP_WINDOW_MS,
} from "../crypto/envelope.ts";
import { generateRsaKeyPair, RSA_WRAPPED_KEY_BYTES, wrapSessionKey } from "../crypto/rsa.ts";
import { type SigningKey, signMessage } from "../crypto/signature.ts";
import { loadEnvelopeFixtureKeys } from "../tests/crypto/fixture_keys.ts";
import { Log, nullLogWriter } from "../log/jsonl.ts";
import {
  type ActuatorStats,
  type MessageOpener,
  type RunningActuator,
  startActuator,
} from "../roles/actuator.ts";
import { encodeReading, makeReading, SECURE_TOPIC, SECURE_TOPIC_FILTER } from "../roles/door.ts";
import { secureOpener, trustResolver } from "../roles/secure_actuator.ts";
import { MemoryReplayStore } from "../store/replay.ts";
import { addSender, emptyTrustList, revoke, type TrustList } from "../store/trust.ts";

// ---------------------------------------------------------------------------------------------------
// The fixed home

/** The receiver's clock during fuzzing and corpus replay (2023-11-14T22:13:20Z). */
export const FUZZ_NOW_MS = 1_700_000_000_000;
/** A case whose handling takes longer than this counts as a hang. */
export const FUZZ_HANG_MS = 1_000;
/** The DSA-suite sender. */
export const FUZZ_SENDER_DSA = "sensor-dsa";
/** The Ed25519-suite sender. */
export const FUZZ_SENDER_ED = "sensor-ed";
/** A listed but revoked sender (Ed25519 suite, the Ed25519 fixture key). */
export const FUZZ_SENDER_REVOKED = "sensor-revoked";
/**
 * Highest counter accepted per sender once the seeds went through: the replay state under which the
 * corpus's expected codes hold. Every seed's counter is at or below it, so no seed can be accepted again.
 */
export const FUZZ_ACCEPTED_HIGHEST: Readonly<Record<string, number>> = {
  [FUZZ_SENDER_DSA]: 6,
  [FUZZ_SENDER_ED]: 6,
  [FUZZ_SENDER_REVOKED]: 1,
};
/** Where `--save-corpus` writes and `tests/fuzz_test.ts` reads. */
export const FUZZ_CORPUS_DIR = new URL("../tests/fixtures/fuzz_corpus/", import.meta.url);
/** Most corpus files written by one run. */
export const CORPUS_MAX_FILES = 100;
/** Largest payload stored in the corpus; bigger cases are skipped (another instance of the pair is kept). */
export const CORPUS_MAX_PAYLOAD_BYTES = 16 * 1024;
/** Queue bound of the fuzzed actuator: small, so bursts reach `OVERLOADED`. */
export const FUZZ_QUEUE_LIMIT = 8;

/** The epochs of the seed envelopes: one array of counters per epoch key. */
const SEED_EPOCHS: Readonly<Record<string, readonly (readonly number[])[]>> = {
  [FUZZ_SENDER_DSA]: [[1, 2], [3], [4, 5, 6]],
  [FUZZ_SENDER_ED]: [[1, 2, 3], [4], [5, 6]],
  [FUZZ_SENDER_REVOKED]: [[1]],
};
const OTHER_SEED_TOPIC = "home/secure/garage";

/** A sender of the fuzz home with its private key. */
export interface FuzzSigner {
  readonly sender: string;
  readonly suite: Suite;
  readonly signingKey: SigningKey;
}

/** The fixed keys and trust list; enough to replay the corpus. */
export interface FuzzKeys {
  readonly recipientPrivateKey: CryptoKey;
  readonly recipientPublicKey: CryptoKey;
  readonly trustList: TrustList;
  /** Active and revoked senders, by id. */
  readonly signers: Readonly<Record<string, FuzzSigner>>;
  /** q of the DSA sender's domain, for signature malleation. */
  readonly dsaQ: bigint;
}

/** One genuine envelope the mutations start from. */
export interface SeedEnvelope {
  readonly sender: string;
  readonly suite: Suite;
  readonly counter: number;
  readonly ts: number;
  readonly topic: string;
  readonly bytes: Uint8Array;
  /** The epoch's raw session key and its wrapped form (signed mutations reuse them). */
  readonly sessionKey: Uint8Array;
  readonly wrappedKey: Uint8Array;
  readonly nonce: Uint8Array;
  readonly ciphertext: Uint8Array;
  readonly msgId: string;
}

/** A home with its seeds. */
export interface FuzzHome extends FuzzKeys {
  readonly seeds: readonly SeedEnvelope[];
  /** An RSA key that is not the recipient's, to wrap session keys nobody here can unwrap. */
  readonly foreignRsaPublicKey: CryptoKey;
}

/**
 * Loads the committed fixture keys and builds the trust list of the fuzz home.
 * @example
 * ```ts
 * const keys = await loadFuzzKeys();
 * const deps = fuzzOpenDeps(keys);
 * ```
 */
export async function loadFuzzKeys(): Promise<FuzzKeys> {
  const { rsaPublic, rsaPrivate, senders } = await loadEnvelopeFixtureKeys();
  const dsa = senders[SUITE_DSA];
  const ed = senders[SUITE_ED25519];
  let trustList = addSender(emptyTrustList(), FUZZ_SENDER_DSA, {
    suite: SUITE_DSA,
    publicKeyPem: dsa.publicKeyPem,
  });
  trustList = addSender(trustList, FUZZ_SENDER_ED, { suite: SUITE_ED25519, publicKeyPem: ed.publicKeyPem });
  trustList = addSender(trustList, FUZZ_SENDER_REVOKED, {
    suite: SUITE_ED25519,
    publicKeyPem: ed.publicKeyPem,
  });
  trustList = revoke(trustList, FUZZ_SENDER_REVOKED);
  const dsaKey = dsa.signingKey;
  const edKey = ed.signingKey;
  const dsaVerifying = dsa.publicKey;
  if (dsaVerifying.scheme !== "dsa-2048") throw new Error("expected a DSA verifying key");
  return {
    recipientPrivateKey: rsaPrivate,
    recipientPublicKey: rsaPublic,
    trustList,
    signers: {
      [FUZZ_SENDER_DSA]: { sender: FUZZ_SENDER_DSA, suite: SUITE_DSA, signingKey: dsaKey },
      [FUZZ_SENDER_ED]: { sender: FUZZ_SENDER_ED, suite: SUITE_ED25519, signingKey: edKey },
      [FUZZ_SENDER_REVOKED]: { sender: FUZZ_SENDER_REVOKED, suite: SUITE_ED25519, signingKey: edKey },
    },
    dsaQ: dsaVerifying.key.domain.q,
  };
}

/** A clock frozen at {@link FUZZ_NOW_MS}. */
export function fuzzClock(): FakeClock {
  return new FakeClock(FUZZ_NOW_MS);
}

/**
 * `open()` dependencies of the fixed home after its seeds were accepted: fixed clock, trust list, and a
 * replay state holding {@link FUZZ_ACCEPTED_HIGHEST}. The corpus's expected codes hold under these.
 * @example
 * ```ts
 * const result = await open(payload, topic, fuzzOpenDeps(await loadFuzzKeys()));
 * ```
 */
export function fuzzOpenDeps(
  keys: FuzzKeys,
  keyCache?: EpochKeyCache,
): OpenDeps & { replay: MemoryReplayStore } {
  const replay = new MemoryReplayStore();
  for (const [sender, highest] of Object.entries(FUZZ_ACCEPTED_HIGHEST)) replay.accept(sender, highest);
  return {
    clock: fuzzClock(),
    trust: trustResolver(keys.trustList),
    replay,
    recipientPrivateKey: keys.recipientPrivateKey,
    keyCache,
  };
}

/** The reading a seed carries; the Ed25519 sender's 5th is padded to a large (~6 KB) envelope. */
function seedPlaintext(sender: string, counter: number, ts: number): Uint8Array {
  const reading = makeReading(sender, counter, ts, 21.5);
  if (sender === FUZZ_SENDER_ED && counter === 5) {
    // A reading has exactly its seven members (PROTOCOL.md §9) but may hold JSON whitespace; this much
    // brings the envelope near its 8 KiB cap.
    return utf8Encode("{" + " ".repeat(MAX_PLAINTEXT_BYTES - 200) + JSON.stringify(reading).slice(1));
  }
  return encodeReading(reading);
}

/**
 * Loads the keys and seals the seed envelopes: both suites, several epochs, two topics.
 * @example
 * ```ts
 * const home = await buildFuzzHome(new FuzzRng(1));
 * home.seeds.length; // 13
 * ```
 */
export async function buildFuzzHome(rng: FuzzRng): Promise<FuzzHome> {
  const keys = await loadFuzzKeys();
  const foreign = await generateRsaKeyPair();
  const seeds: SeedEnvelope[] = [];
  for (const [sender, epochs] of Object.entries(SEED_EPOCHS)) {
    const signer = keys.signers[sender];
    for (const counters of epochs) {
      const sessionKey = rng.bytes(32);
      const wrappedKey = await wrapSessionKey(keys.recipientPublicKey, sessionKey);
      const epochKey = await importEpochKey(sessionKey, wrappedKey, { maxMessages: counters.length });
      for (const counter of counters) {
        // Spread over the window: counter 1 is 18 s old, counter 6 is 17 s ahead of the receiver's clock.
        const ts = FUZZ_NOW_MS - 25_000 + counter * 7_000;
        const topic = counter === 3 ? OTHER_SEED_TOPIC : SECURE_TOPIC;
        const msgId = `${sender}-${counter}`;
        const bytes = await seal({
          topic,
          sender,
          counter,
          ts,
          msgId,
          plaintext: seedPlaintext(sender, counter, ts),
          suite: signer.suite,
          signingKey: signer.signingKey,
          epochKey,
          randomBytes: (n) => rng.bytes(n),
        });
        const json = JSON.parse(new TextDecoder().decode(bytes));
        seeds.push({
          sender,
          suite: signer.suite,
          counter,
          ts,
          topic,
          bytes,
          sessionKey,
          wrappedKey,
          nonce: fromBase64Url(json.nonce),
          ciphertext: fromBase64Url(json.ciphertext),
          msgId,
        });
      }
    }
  }
  return { ...keys, seeds, foreignRsaPublicKey: foreign.publicKey };
}

// ---------------------------------------------------------------------------------------------------
// Randomness

/**
 * sfc32 (Chris Doty-Humphrey's Small Fast Counter): a tiny deterministic generator, so a run is
 * reproducible from its seed. Not for keys.
 */
export class FuzzRng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  /** @param seed any safe integer */
  constructor(seed: number) {
    this.#a = 0x9e3779b9;
    this.#b = Math.floor(seed / 2 ** 32) >>> 0;
    this.#c = 0xb7e15162;
    this.#d = seed >>> 0;
    for (let i = 0; i < 16; i++) this.next();
  }

  /** A uniform 32-bit unsigned integer. */
  next(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor((this.next() / 2 ** 32) * n);
  }

  /** A uniform integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() / 2 ** 32 < p;
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** n random bytes. */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.next() & 0xff;
    return out;
  }
}

// ---------------------------------------------------------------------------------------------------
// Cases and mutations

/** One fuzz input. */
export interface FuzzCase {
  /** Position in the run, from 0. */
  readonly index: number;
  readonly topic: string;
  readonly payload: Uint8Array;
  /** Mutation kind, e.g. `json-field-remove`. */
  readonly mutation: string;
  /** What exactly was done. */
  readonly detail: string;
  /**
   * Sealed by this fuzzer with a sender's real key, a fresh counter and a correct session key: `open()`
   * may rightly accept it (only its content is hostile), the actuator must still refuse it.
   */
  readonly authentic: boolean;
  /** Signed by this fuzzer: the signature is expected to verify. */
  readonly signed: boolean;
  /** The one code this case must get from `open()`, when the mutation determines it. */
  readonly expect?: string;
}

type Generated = Omit<FuzzCase, "index" | "mutation">;

interface Ctx {
  readonly rng: FuzzRng;
  readonly home: FuzzHome;
  readonly seed: SeedEnvelope;
  readonly other: SeedEnvelope;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Bytes that mean something to JSON, base64url or UTF-8. */
const INTERESTING_BYTES = fromHex("0001090a20222b2c2d2f3031393a3d415b5c5d5f7b7d7f80bfc0edeff4ff");

function randomByte(rng: FuzzRng): number {
  return rng.chance(0.5) ? INTERESTING_BYTES[rng.int(INTERESTING_BYTES.length)] : rng.int(256);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function spliceBytes(bytes: Uint8Array, at: number, remove: number, insert: Uint8Array): Uint8Array {
  return concat(bytes.subarray(0, at), insert, bytes.subarray(at + remove));
}

const unsigned = (topic: string, payload: Uint8Array, detail: string): Generated => ({
  topic,
  payload,
  detail,
  authentic: false,
  signed: false,
});

// Byte-level mutations: the input need not stay JSON.

function byteFlip(rng: FuzzRng, bytes: Uint8Array): [Uint8Array, string] {
  const out = bytes.slice();
  const flips = rng.range(1, 4);
  const at: number[] = [];
  for (let i = 0; i < flips && out.length > 0; i++) {
    const pos = rng.int(out.length);
    out[pos] ^= 1 << rng.int(8);
    at.push(pos);
  }
  return [out, `flipped bits at ${at.join(",")}`];
}

function byteSet(rng: FuzzRng, bytes: Uint8Array): [Uint8Array, string] {
  const out = bytes.slice();
  const n = rng.range(1, 4);
  for (let i = 0; i < n && out.length > 0; i++) out[rng.int(out.length)] = randomByte(rng);
  return [out, `set ${n} bytes`];
}

function byteInsert(rng: FuzzRng, bytes: Uint8Array): [Uint8Array, string] {
  const n = rng.range(1, 8);
  const ins = new Uint8Array(n).map(() => randomByte(rng));
  const at = rng.int(bytes.length + 1);
  return [spliceBytes(bytes, at, 0, ins), `inserted ${n} bytes at ${at}`];
}

function byteDelete(rng: FuzzRng, bytes: Uint8Array): [Uint8Array, string] {
  if (bytes.length === 0) return [bytes, "nothing to delete"];
  const at = rng.int(bytes.length);
  const n = Math.min(rng.range(1, 16), bytes.length - at);
  return [spliceBytes(bytes, at, n, new Uint8Array(0)), `deleted ${n} bytes at ${at}`];
}

function truncate(rng: FuzzRng, bytes: Uint8Array): [Uint8Array, string] {
  const keep = rng.chance(0.2)
    ? bytes.length - rng.range(1, Math.min(4, bytes.length))
    : rng.int(bytes.length);
  return [bytes.slice(0, Math.max(0, keep)), `kept ${keep} of ${bytes.length} bytes`];
}

function extend(rng: FuzzRng, bytes: Uint8Array): [Uint8Array, string] {
  switch (rng.int(7)) {
    case 0:
      return [concat(bytes, rng.bytes(rng.range(1, 64))), "appended random bytes"];
    case 1:
      return [
        concat(bytes, enc.encode(rng.pick(["}", "\n", " ", "\0", ",", "{}", "]"]))),
        "appended a token",
      ];
    case 2:
      return [concat(bytes, bytes), "doubled"];
    case 3: {
      // Right at and just past the size cap, with trailing spaces (canonical check) or a padding field.
      const target = ENVELOPE_MAX_BYTES + rng.range(-1, 1);
      const pad = new Uint8Array(Math.max(0, target - bytes.length)).fill(0x20);
      return [concat(bytes, pad), `padded with spaces to ${bytes.length + pad.length} bytes`];
    }
    case 4: {
      const target = ENVELOPE_MAX_BYTES + rng.range(-1, 1);
      const head = bytes.subarray(0, bytes.length - 1);
      const filler = Math.max(0, target - head.length - ',"pad":""}'.length);
      return [
        concat(head, enc.encode(`,"pad":"${"A".repeat(filler)}"}`)),
        `padding field to ${head.length + filler + 10} bytes`,
      ];
    }
    case 5: {
      const size = rng.pick([65_536, 1 << 20]);
      return [concat(bytes, new Uint8Array(size).fill(0x41)), `appended ${size} bytes (huge)`];
    }
    default:
      return [concat(bytes, enc.encode(`,"x":${rng.int(1000)}}`)), "appended a JSON tail"];
  }
}

function chunkDuplicate(rng: FuzzRng, bytes: Uint8Array): [Uint8Array, string] {
  if (bytes.length === 0) return [bytes, "empty"];
  const at = rng.int(bytes.length);
  const n = Math.min(rng.range(1, 64), bytes.length - at);
  const to = rng.int(bytes.length + 1);
  return [spliceBytes(bytes, to, 0, bytes.slice(at, at + n)), `copied ${n} bytes from ${at} to ${to}`];
}

const BAD_UTF8: readonly (readonly number[])[] = [
  [0xc0, 0x80], // overlong NUL
  [0xc1, 0xbf], // overlong
  [0xed, 0xa0, 0x80], // UTF-16 surrogate
  [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
  [0x80], // lone continuation
  [0xff],
  [0xfe],
  [0xe2, 0x82], // truncated sequence
  [0xf0, 0x9f, 0x98], // truncated 4-byte
];

function utf8Invalid(rng: FuzzRng, bytes: Uint8Array): [Uint8Array, string] {
  if (rng.chance(0.2)) return [concat(new Uint8Array([0xef, 0xbb, 0xbf]), bytes), "byte-order mark prefix"];
  const seq = new Uint8Array(rng.pick(BAD_UTF8));
  // Inside a string value when possible, so only the UTF-8 check can catch it.
  const quotes: number[] = [];
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0x22) quotes.push(i);
  const at = quotes.length > 0 && rng.chance(0.8) ? rng.pick(quotes) + 1 : rng.int(bytes.length + 1);
  const replace = rng.chance(0.5) ? 0 : Math.min(seq.length, bytes.length - at);
  return [
    spliceBytes(bytes, at, replace, seq),
    `invalid UTF-8 ${[...seq].map((b) => b.toString(16)).join(" ")} at ${at}`,
  ];
}

function splice(rng: FuzzRng, a: Uint8Array, b: Uint8Array): [Uint8Array, string] {
  if (rng.chance(0.6)) {
    // At a field boundary: structurally valid, only the signature can tell.
    const field = rng.pick(ENVELOPE_FIELDS);
    const marker = `"${field}":`;
    const ia = dec.decode(a).indexOf(marker);
    const ib = dec.decode(b).indexOf(marker);
    if (ia >= 0 && ib >= 0) return [concat(a.subarray(0, ia), b.subarray(ib)), `spliced at field ${field}`];
  }
  const i = rng.int(a.length + 1);
  const j = rng.int(b.length + 1);
  return [concat(a.subarray(0, i), b.subarray(j)), `spliced ${i} + ${b.length - j} bytes`];
}

const BYTE_MUTATIONS: Readonly<Record<string, (rng: FuzzRng, bytes: Uint8Array) => [Uint8Array, string]>> = {
  "byte-flip": byteFlip,
  "byte-set": byteSet,
  "byte-insert": byteInsert,
  "byte-delete": byteDelete,
  "byte-truncate": truncate,
  "byte-extend": extend,
  "byte-chunk-duplicate": chunkDuplicate,
  "byte-utf8-invalid": utf8Invalid,
};

// JSON-level mutations over the raw text of each member, so duplicates, order and spelling survive.

interface Member {
  /** Raw JSON text of the key, quotes included. */
  key: string;
  /** Raw JSON text of the value. */
  value: string;
}

const q = (s: string) => JSON.stringify(s);

function parseMembers(bytes: Uint8Array): Member[] | undefined {
  let value: unknown;
  try {
    value = JSON.parse(dec.decode(bytes));
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  return Object.entries(value).map(([k, v]) => ({ key: q(k), value: JSON.stringify(v) }));
}

function serializeMembers(members: readonly Member[], ws: (slot: number) => string = () => ""): string {
  let slot = 0;
  const parts = members.map((m) => `${ws(slot++)}${m.key}${ws(slot++)}:${ws(slot++)}${m.value}${ws(slot++)}`);
  return `{${parts.join(",")}${members.length === 0 ? ws(slot) : ""}}`;
}

function memberIndex(members: readonly Member[], field: string): number {
  return members.findIndex((m) => m.key === q(field));
}

const NUMERIC_FIELDS = ["v", "counter", "ts"] as const;
const STRING_FIELDS = ["suite", "sender", "msg_id"] as const;
const BINARY_FIELDS = ["wrapped_key", "nonce", "ciphertext", "sig"] as const;

type JsonMutation = (ctx: Ctx, members: Member[]) => string;

function setField(members: Member[], field: string, value: string): void {
  const i = memberIndex(members, field);
  if (i >= 0) members[i] = { key: members[i].key, value };
  else members.push({ key: q(field), value });
}

const fieldRemove: JsonMutation = ({ rng }, members) => {
  const i = rng.int(members.length);
  const [removed] = members.splice(i, 1);
  return `removed ${removed.key}`;
};

const fieldDuplicate: JsonMutation = ({ rng, other }, members) => {
  const i = rng.int(members.length);
  const copy = { ...members[i] };
  if (rng.chance(0.5)) {
    const donor = parseMembers(other.bytes);
    const same = donor?.find((m) => m.key === copy.key);
    if (same) copy.value = same.value;
  }
  const at = rng.chance(0.5) ? members.length : rng.int(members.length + 1);
  members.splice(at, 0, copy);
  return `duplicated ${copy.key} at ${at}`;
};

const fieldReorder: JsonMutation = ({ rng }, members) => {
  if (rng.chance(0.2)) {
    members.reverse();
    return "reversed";
  }
  const i = rng.int(members.length);
  let j = rng.int(members.length);
  if (j === i) j = (i + 1) % members.length;
  [members[i], members[j]] = [members[j], members[i]];
  return `swapped ${members[j].key} and ${members[i].key}`;
};

const UNKNOWN_KEYS = [
  "x",
  "V",
  "v2",
  "",
  " v",
  "sig_alg",
  "Counter",
  "toString",
  "hasOwnProperty",
  "valueOf",
  "__defineGetter__",
  "0",
  "1e3",
  "\u0000",
  "é",
];

const fieldUnknown: JsonMutation = ({ rng }, members) => {
  const key = rng.pick(UNKNOWN_KEYS);
  const value = rng.pick(["1", '""', "null", "{}", "[]", '"x"', "true"]);
  const at = rng.int(members.length + 1);
  members.splice(at, 0, { key: q(key), value });
  return `added ${q(key)}:${value} at ${at}`;
};

const fieldRename: JsonMutation = ({ rng }, members) => {
  const i = rng.int(members.length);
  const name = JSON.parse(members[i].key) as string;
  const renamed = rng.pick([
    name.toUpperCase(),
    name + " ",
    " " + name,
    name.replace("_", "-"),
    name.slice(0, -1),
    name + name.slice(-1),
    name.replace(/[a-z]/, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)), // fullwidth
    name.replace("e", "\u0435"), // Cyrillic ie
  ]);
  members[i] = { key: q(renamed), value: members[i].value };
  return `renamed ${q(name)} to ${q(renamed)}`;
};

const typeChange: JsonMutation = ({ rng }, members) => {
  const i = rng.int(members.length);
  const old = members[i].value;
  const asText = old.startsWith('"') ? old : q(old);
  const value = rng.pick([
    asText,
    old.startsWith('"') ? (/^"\d+"$/.test(old) ? old.slice(1, -1) : "123") : old,
    `[${old}]`,
    `{"value":${old}}`,
    "null",
    "true",
    "false",
    "{}",
    "[]",
    '""',
    "0",
  ]);
  members[i] = { key: members[i].key, value };
  return `${members[i].key}: ${old.slice(0, 24)} -> ${value.slice(0, 24)}`;
};

const numberEdge: JsonMutation = ({ rng }, members) => {
  const field = rng.chance(0.85) ? rng.pick(NUMERIC_FIELDS) : rng.pick([...STRING_FIELDS, ...BINARY_FIELDS]);
  const W = TIMESTAMP_WINDOW_MS;
  const generic = [
    "1e309",
    "-1e309",
    "9007199254740991",
    "9007199254740992",
    "9007199254740993",
    "18446744073709551615",
    "18446744073709551616",
    "1e21",
    "123456789012345678901234567890",
    "-1",
    "-0",
    "0",
    "7.0",
    "7.5",
    "1.7e12",
    "7e0",
    "0.7e1",
    "1E0",
    "007",
    "00",
    "0x10",
    "+7",
    ".5",
    "1.",
    "Infinity",
    "NaN",
    "1_000",
    "4294967296",
    "2147483648",
  ];
  const specific: Record<string, string[]> = {
    ts: [FUZZ_NOW_MS - W - 1, FUZZ_NOW_MS - W, FUZZ_NOW_MS, FUZZ_NOW_MS + W, FUZZ_NOW_MS + W + 1].map(String),
    counter: ["0", "6", "7", "5", "1000000"],
    v: ["0", "2", "255", "256", "1.0"],
  };
  const choices = specific[field] && rng.chance(0.4) ? specific[field] : generic;
  const value = rng.pick(choices);
  setField(members, field, value);
  return `${field} = ${value}`;
};

const nanString: JsonMutation = ({ rng }, members) => {
  const field = rng.pick(NUMERIC_FIELDS);
  const value = q(rng.pick(["NaN", "Infinity", "-Infinity", "-0", "1e400", "", " 7", "7 ", "0x7", "seven"]));
  setField(members, field, value);
  return `${field} = ${value}`;
};

function nested(rng: FuzzRng, depth: number): string {
  const [open, close] = rng.chance(0.5) ? ["[", "]"] : ['{"a":', "}"];
  return open.repeat(depth) + rng.pick(["1", "null", '"x"', "[]"]) + close.repeat(depth);
}

const deepNesting: JsonMutation = ({ rng }, members) => {
  const depth = rng.pick([2, 16, 256, 1024, 2500, 20_000]);
  const i = rng.int(members.length);
  members[i] = { key: members[i].key, value: nested(rng, depth) };
  return `${members[i].key} nested ${depth} deep`;
};

const PROTO_KEYS = ["__proto__", "constructor", "prototype"];

const protoKey: JsonMutation = ({ rng }, members) => {
  const key = rng.pick(PROTO_KEYS);
  const value = rng.pick([
    "{}",
    '{"v":1}',
    "null",
    '{"sender":"sensor-ed"}',
    "1",
    '"x"',
    '{"polluted":true}',
  ]);
  switch (rng.int(4)) {
    case 0:
      members.unshift({ key: q(key), value });
      return `${key} first`;
    case 1:
      members.push({ key: q(key), value });
      return `${key} last`;
    case 2: {
      const i = rng.int(members.length);
      const replaced = members[i].key;
      members[i] = { key: q(key), value: members[i].value };
      return `${replaced} renamed ${key}`;
    }
    default: {
      const i = rng.int(members.length);
      members[i] = { key: members[i].key, value: `{${q(key)}:${members[i].value}}` };
      return `${members[i].key} wrapped in {${key}: …}`;
    }
  }
};

function escapeChar(c: string, upper: boolean): string {
  const hex = c.charCodeAt(0).toString(16).padStart(4, "0");
  return `\\u${upper ? hex.toUpperCase() : hex}`;
}

const unicodeEscape: JsonMutation = ({ rng }, members) => {
  const i = rng.int(members.length);
  const onKey = rng.chance(0.3) || !members[i].value.startsWith('"');
  const raw = onKey ? members[i].key : members[i].value;
  const inner = raw.slice(1, -1);
  if (inner.length === 0) return "empty string";
  const at = rng.int(inner.length);
  const replacement = rng.pick([
    escapeChar(inner[at], rng.chance(0.5)),
    "\u200b" + inner[at], // zero-width space
    "\u2028",
    "\\/",
    inner[at] === "a" ? "\u0430" : inner[at] === "e" ? "\u0435" : "\uff21",
    "\\u0000",
    "\\ud800",
    "\\\\",
    "\\n",
  ]);
  const mutated = `"${inner.slice(0, at)}${replacement}${inner.slice(at + 1)}"`;
  if (onKey) members[i] = { key: mutated, value: members[i].value };
  else members[i] = { key: members[i].key, value: mutated };
  return `${onKey ? "key" : "value"} of ${members[i].key.slice(0, 16)} char ${at} -> ${q(replacement)}`;
};

const BASE64URL_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

const base64Alphabet: JsonMutation = ({ rng }, members) => {
  const field = rng.pick(BINARY_FIELDS);
  const i = memberIndex(members, field);
  if (i < 0) return "field absent";
  const text = JSON.parse(members[i].value) as string;
  if (typeof text !== "string" || text.length === 0) return "not a string";
  const at = rng.int(text.length);
  let mutated: string;
  let what: string;
  switch (rng.int(8)) {
    case 0:
      mutated = text.replaceAll("-", "+").replaceAll("_", "/");
      what = "standard alphabet";
      break;
    case 1:
      mutated = text + "=".repeat(rng.range(1, 2));
      what = "padding";
      break;
    case 2:
      mutated = text.slice(0, at) + rng.pick([" ", "\n", "\t", "\r\n"]) + text.slice(at);
      what = "whitespace";
      break;
    case 3:
      mutated = text.slice(0, at) + rng.pick([".", "*", "~", "é", "=", "+", "/", "\0", "%"]) +
        text.slice(at + 1);
      what = "foreign character";
      break;
    case 4: {
      // Same decoded bytes, non-zero unused trailing bits (possible when length % 4 is 2 or 3).
      const last = BASE64URL_CHARS.indexOf(text[text.length - 1]);
      const freeBits = text.length % 4 === 2 ? 4 : text.length % 4 === 3 ? 2 : 0;
      if (freeBits === 0) {
        mutated = text.slice(0, -1);
        what = "one character short";
      } else {
        const tweaked = last | (1 + rng.int((1 << freeBits) - 1));
        mutated = text.slice(0, -1) + BASE64URL_CHARS[tweaked];
        what = "non-zero trailing bits";
      }
      break;
    }
    case 5: {
      const c = text[at];
      const swapped = c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase();
      mutated = text.slice(0, at) + swapped + text.slice(at + 1);
      what = "case of one character";
      break;
    }
    case 6:
      mutated = text.slice(0, at) + rng.pick([...BASE64URL_CHARS]) + text.slice(at + 1);
      what = "one character replaced";
      break;
    default:
      mutated = toBase64(fromBase64Url(text));
      what = "standard base64 with padding";
  }
  members[i] = { key: members[i].key, value: q(mutated) };
  return `${field}: ${what}`;
};

const BINARY_LENGTHS: Record<string, number[]> = {
  wrapped_key: [0, 1, 255, 257, 512],
  nonce: [0, 11, 13, 16, 24],
  ciphertext: [0, 15, 16, 17, MAX_PLAINTEXT_BYTES + TAG_BYTES, MAX_PLAINTEXT_BYTES + TAG_BYTES + 1],
  sig: [0, 7, 8, 63, 64, 65, 71, 72, 73, 128],
};

const base64Length: JsonMutation = ({ rng }, members) => {
  const field = rng.pick(BINARY_FIELDS);
  const i = memberIndex(members, field);
  if (i < 0) return "field absent";
  const bytes = fromBase64Url(JSON.parse(members[i].value));
  let length: number;
  if (rng.chance(0.5)) length = rng.pick(BINARY_LENGTHS[field]);
  else length = Math.max(0, bytes.length + rng.pick([-3, -2, -1, 1, 2, 3, 16]));
  const resized = length <= bytes.length
    ? (rng.chance(0.5) ? bytes.slice(0, length) : bytes.slice(bytes.length - length))
    : concat(bytes, rng.bytes(length - bytes.length));
  members[i] = { key: members[i].key, value: q(toBase64Url(resized)) };
  return `${field}: ${bytes.length} -> ${length} bytes`;
};

const stringField: JsonMutation = ({ rng }, members) => {
  const field = rng.pick(STRING_FIELDS);
  const choices: Record<string, string[]> = {
    sender: [
      FUZZ_SENDER_DSA,
      FUZZ_SENDER_ED,
      FUZZ_SENDER_REVOKED,
      "sensor-x",
      "s".repeat(64),
      "s".repeat(65),
      "",
      "sensor ed",
      "sensor/ed",
      "SENSOR-ED",
      "sensor-ed\n",
      "__proto__",
      "constructor",
      "toString",
      "hasOwnProperty",
    ],
    msg_id: ["m".repeat(64), "m".repeat(65), "", "a b", "m\u00e9", "m:1", "../../etc", "m\u0000"],
    suite: [
      SUITE_DSA,
      SUITE_ED25519,
      "rsa-oaep-2048+aes-256-gcm+ed448",
      "s".repeat(64),
      "s".repeat(65),
      "",
      SUITE_ED25519.toUpperCase(),
      SUITE_DSA + " ",
      "rsa-oaep-2048+aes-128-gcm+dsa-2048",
    ],
  };
  const value = rng.pick(choices[field]);
  setField(members, field, q(value));
  return `${field} = ${q(value).slice(0, 40)}`;
};

const graft: JsonMutation = ({ rng, other }, members) => {
  const donor = parseMembers(other.bytes)!;
  const n = rng.chance(0.7) ? 1 : rng.range(2, 4);
  const fields: string[] = [];
  for (let k = 0; k < n; k++) {
    const field = rng.pick(ENVELOPE_FIELDS);
    const from = donor.find((m) => m.key === q(field));
    if (from) setField(members, field, from.value);
    fields.push(field);
  }
  return `${fields.join(",")} from ${other.sender}#${other.counter}`;
};

// Signature malleation: alternative encodings and algebraic variants of a genuine signature.

function derLength(n: number, longForm: boolean): number[] {
  if (!longForm && n < 0x80) return [n];
  if (n < 0x100) return [0x81, n];
  return [0x82, n >> 8, n & 0xff];
}

function derInteger(value: bigint, extraZero = false): number[] {
  let hex = value.toString(16);
  if (hex.length % 2) hex = "0" + hex;
  const bytes = hex.match(/../g)!.map((h) => parseInt(h, 16));
  if (bytes[0] & 0x80 || extraZero) bytes.unshift(0);
  return [0x02, ...derLength(bytes.length, false), ...bytes];
}

function derSequence(body: number[], longForm = false): number[] {
  return [0x30, ...derLength(body.length, longForm), ...body];
}

function readDerSignature(sig: Uint8Array): { r: bigint; s: bigint } | undefined {
  // Genuine signatures only: SEQUENCE (short form) of two short-form INTEGERs.
  if (sig[0] !== 0x30 || sig[2] !== 0x02) return undefined;
  const rLen = sig[3];
  const r = BigInt("0x" + toHexString(sig.subarray(4, 4 + rLen)));
  const sAt = 4 + rLen;
  const s = BigInt("0x" + toHexString(sig.subarray(sAt + 2, sAt + 2 + sig[sAt + 1])));
  return { r, s };
}

function toHexString(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("") || "0";
}

/** Ed25519 group order L (RFC 8032 §5.1). */
const ED25519_L = (1n << 252n) + 27742317777372353535851937790883648493n;

function malleateDsa(rng: FuzzRng, sig: Uint8Array, q: bigint): [Uint8Array, string] {
  const parsed = readDerSignature(sig);
  if (!parsed) return [sig, "unparsed"];
  const { r, s } = parsed;
  const pick = rng.int(12);
  const variants: [number[], string][] = [
    [derSequence([...derInteger(r), ...derInteger(q - s)]), "(r, q - s)"],
    [derSequence([...derInteger(s), ...derInteger(r)]), "(s, r)"],
    [derSequence([...derInteger(r), ...derInteger(0n)]), "(r, 0)"],
    [derSequence([...derInteger(0n), ...derInteger(s)]), "(0, s)"],
    [derSequence([...derInteger(r), ...derInteger(s + q)]), "(r, s + q)"],
    [derSequence([...derInteger(r + q), ...derInteger(s)]), "(r + q, s)"],
    [derSequence([...derInteger(r, true), ...derInteger(s)]), "r with a redundant 00"],
    [derSequence([...derInteger(r), ...derInteger(s)], true), "long-form SEQUENCE length"],
    [[...derSequence([...derInteger(r), ...derInteger(s)]), 0x00], "trailing byte"],
    [[0x30, 0x80, ...derInteger(r), ...derInteger(s), 0x00, 0x00], "BER indefinite length"],
    [[0x31, ...derSequence([...derInteger(r), ...derInteger(s)]).slice(1)], "SET tag"],
    [derSequence([...derInteger(r), ...derInteger(s), ...derInteger(1n)]), "three INTEGERs"],
  ];
  const [bytes, what] = variants[pick];
  return [new Uint8Array(bytes), what];
}

function malleateEd25519(rng: FuzzRng, sig: Uint8Array): [Uint8Array, string] {
  const out = sig.slice();
  let sValue = 0n;
  for (let i = 63; i >= 32; i--) sValue = (sValue << 8n) | BigInt(sig[i]);
  const writeS = (value: bigint) => {
    for (let i = 32; i < 64; i++) {
      out[i] = Number(value & 0xffn);
      value >>= 8n;
    }
  };
  switch (rng.int(6)) {
    case 0:
      writeS(sValue + ED25519_L);
      return [out, "S + L"];
    case 1:
      writeS(ED25519_L);
      return [out, "S = L"];
    case 2:
      writeS(0n);
      return [out, "S = 0"];
    case 3:
      out[rng.int(32)] ^= 1 << rng.int(8);
      return [out, "R bit flip"];
    case 4:
      return [concat(sig.subarray(32), sig.subarray(0, 32)), "R and S swapped"];
    default:
      return [new Uint8Array(64), "all zero"];
  }
}

const sigMalleate = (ctx: Ctx, members: Member[]): string => {
  const i = memberIndex(members, "sig");
  const sig = fromBase64Url(JSON.parse(members[i].value));
  const [mutated, what] = ctx.seed.suite === SUITE_DSA
    ? malleateDsa(ctx.rng, sig, ctx.home.dsaQ)
    : malleateEd25519(ctx.rng, sig);
  members[i] = { key: members[i].key, value: q(toBase64Url(mutated)) };
  return what;
};

const JSON_MUTATIONS: Readonly<Record<string, JsonMutation>> = {
  "json-field-remove": fieldRemove,
  "json-field-duplicate": fieldDuplicate,
  "json-field-reorder": fieldReorder,
  "json-field-unknown": fieldUnknown,
  "json-field-rename": fieldRename,
  "json-type-change": typeChange,
  "json-number-edge": numberEdge,
  "json-nan-string": nanString,
  "json-deep-nesting": deepNesting,
  "json-proto-key": protoKey,
  "json-unicode-escape": unicodeEscape,
  "json-b64-alphabet": base64Alphabet,
  "json-b64-length": base64Length,
  "json-string-field": stringField,
  "json-graft": graft,
  "sig-malleate": sigMalleate,
};

function whitespaced(ctx: Ctx): Generated {
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
  seed.topic === SECURE_TOPIC ? OTHER_SEED_TOPIC : SECURE_TOPIC,
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

function topicMutation({ rng, seed }: Ctx): Generated {
  const topic = rng.pick(TOPIC_VARIANTS(seed));
  return unsigned(topic, seed.bytes, `topic ${q(topic).slice(0, 40)}`);
}

function randomInput({ rng }: Ctx): Generated {
  switch (rng.int(5)) {
    case 0:
      return unsigned(SECURE_TOPIC, rng.bytes(rng.int(512)), "random bytes");
    case 1:
      return unsigned(SECURE_TOPIC, rng.bytes(rng.range(8000, 10_000)), "random bytes near the cap");
    case 2: {
      const n = rng.int(300);
      const text = Array.from({ length: n }, () => String.fromCharCode(rng.range(0x20, 0x7e))).join("");
      return unsigned(SECURE_TOPIC, enc.encode(text), "random printable text");
    }
    case 3: {
      const text = rng.pick(["", "null", "[]", "{}", "1", '"x"', "true", "[{}]", '{"v":1}', "{", "}"]);
      return unsigned(SECURE_TOPIC, enc.encode(text), `JSON value ${q(text)}`);
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
      return unsigned(rng.pick([SECURE_TOPIC, OTHER_SEED_TOPIC]), enc.encode(envelope), `random envelope`);
    }
  }
}

function havoc(ctx: Ctx): Generated {
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

// Signed mutations: built with a sender's own key, so they reach the checks after the signature.

interface SignedParts {
  suite: Suite;
  topic: string;
  sender: string;
  counter: number;
  ts: number;
  msgId: string;
  wrappedKey: Uint8Array;
  nonce: Uint8Array;
  ciphertext: Uint8Array;
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

function activeSeeds(home: FuzzHome): SeedEnvelope[] {
  return home.seeds.filter((s) => s.sender !== FUZZ_SENDER_REVOKED);
}

function activeSigner(ctx: Ctx): FuzzSigner {
  return ctx.home.signers[ctx.rng.pick([FUZZ_SENDER_DSA, FUZZ_SENDER_ED])];
}

/** A counter above everything accepted, so the replay check passes and later checks run. */
function freshCounter(rng: FuzzRng, sender: string): number {
  return FUZZ_ACCEPTED_HIGHEST[sender] + 1 + rng.int(1_000_000);
}

function freshTs(rng: FuzzRng): number {
  return FUZZ_NOW_MS + rng.range(-TIMESTAMP_WINDOW_MS, TIMESTAMP_WINDOW_MS);
}

async function encryptFor(
  sessionKey: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  p: Pick<SignedParts, "suite" | "topic" | "sender" | "counter" | "ts">,
): Promise<Uint8Array> {
  return await aesGcmEncrypt(await importAesKey(sessionKey), nonce, plaintext, envelopeAssociatedData(p));
}

async function signedBadKey(ctx: Ctx): Promise<Generated> {
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
  const parts = {
    suite: signer.suite,
    topic: SECURE_TOPIC,
    sender: signer.sender,
    counter,
    ts: freshTs(rng),
    msgId: `k-${counter}`,
    nonce: rng.bytes(12),
    wrappedKey,
    signingKey: signer.signingKey,
  };
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

async function signedBadCiphertext(ctx: Ctx): Promise<Generated> {
  const { rng, home } = ctx;
  const seed = rng.pick(activeSeeds(home));
  const signer = home.signers[seed.sender];
  const counter = freshCounter(rng, signer.sender);
  const parts = {
    suite: signer.suite,
    topic: seed.topic,
    sender: signer.sender,
    counter,
    ts: freshTs(rng),
    msgId: `c-${counter}`,
    nonce: rng.bytes(12),
    // The seed's epoch: a key the actuator already holds in its cache.
    wrappedKey: seed.wrappedKey,
    signingKey: signer.signingKey,
  };
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

async function signedRebind(ctx: Ctx): Promise<Generated> {
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
      topic = topic === SECURE_TOPIC ? OTHER_SEED_TOPIC : SECURE_TOPIC;
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

async function signedPlaintext(ctx: Ctx): Promise<Generated> {
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
  const parts = {
    suite: signer.suite,
    topic: SECURE_TOPIC,
    sender: signer.sender,
    counter,
    ts,
    msgId: `p-${counter}`,
    nonce: rng.bytes(12),
    wrappedKey,
    signingKey: signer.signingKey,
  };
  const ciphertext = await encryptFor(sessionKey, parts.nonce, plaintext, parts);
  return {
    topic: parts.topic,
    payload: await signParts({ ...parts, ciphertext }),
    detail: what,
    authentic: true,
    signed: true,
  };
}

/** Which targets a mutation kind is meaningful for. */
type Scope = "all" | "actuator";

interface MutationKind {
  readonly weight: number;
  readonly scope: Scope;
  readonly make: (ctx: Ctx) => Generated | Promise<Generated>;
}

function fromByteMutation(name: string): MutationKind {
  return {
    weight: 3,
    scope: "all",
    make: ({ rng, seed }) => {
      const [payload, detail] = BYTE_MUTATIONS[name](rng, seed.bytes);
      return unsigned(seed.topic, payload, detail);
    },
  };
}

function fromJsonMutation(name: string, weight: number): MutationKind {
  return {
    weight,
    scope: "all",
    make: (ctx) => {
      const members = parseMembers(ctx.seed.bytes)!;
      const detail = JSON_MUTATIONS[name](ctx, members);
      return unsigned(ctx.seed.topic, enc.encode(serializeMembers(members)), detail);
    },
  };
}

/** Every mutation kind with its weight. */
export const MUTATION_KINDS: Readonly<Record<string, MutationKind>> = {
  ...Object.fromEntries(Object.keys(BYTE_MUTATIONS).map((name) => [name, fromByteMutation(name)])),
  "byte-splice": {
    weight: 3,
    scope: "all",
    make: ({ rng, seed, other }) => unsigned(seed.topic, ...splice(rng, seed.bytes, other.bytes)),
  },
  ...Object.fromEntries(
    Object.keys(JSON_MUTATIONS).map((name) => [name, fromJsonMutation(name, name === "json-graft" ? 4 : 3)]),
  ),
  "json-whitespace": { weight: 3, scope: "all", make: whitespaced },
  "topic": { weight: 3, scope: "all", make: topicMutation },
  "replay-verbatim": {
    weight: 2,
    scope: "all",
    make: ({ seed }) => ({
      ...unsigned(seed.topic, seed.bytes, `${seed.sender}#${seed.counter} as sent`),
      expect: seed.sender === FUZZ_SENDER_REVOKED ? "REVOKED" : "REPLAY",
    }),
  },
  "random": { weight: 3, scope: "all", make: randomInput },
  "havoc": { weight: 6, scope: "all", make: havoc },
  "signed-bad-key": { weight: 1, scope: "all", make: signedBadKey },
  "signed-bad-ciphertext": { weight: 1, scope: "all", make: signedBadCiphertext },
  "signed-rebind": { weight: 1, scope: "all", make: signedRebind },
  "signed-plaintext": { weight: 2, scope: "actuator", make: signedPlaintext },
};

/** The fuzz targets. */
export type FuzzTarget = "open" | "actuator" | "both";

/**
 * Draws the next case: a weighted mutation kind applied to a random seed.
 * @example
 * ```ts
 * const c = await generateCase(rng, home, "open", 0);
 * ```
 */
export async function generateCase(
  rng: FuzzRng,
  home: FuzzHome,
  target: FuzzTarget,
  index: number,
): Promise<FuzzCase> {
  const kinds = Object.entries(MUTATION_KINDS).filter(([, k]) => k.scope === "all" || target !== "open");
  const total = kinds.reduce((n, [, k]) => n + k.weight, 0);
  let roll = rng.int(total);
  let chosen = kinds[0];
  for (const entry of kinds) {
    if (roll < entry[1].weight) {
      chosen = entry;
      break;
    }
    roll -= entry[1].weight;
  }
  const seed = rng.pick(home.seeds);
  const other = rng.pick(home.seeds);
  const generated = await chosen[1].make({ rng, home, seed, other });
  return { index, mutation: chosen[0], ...generated };
}

// ---------------------------------------------------------------------------------------------------
// Running

/** Outcome counts of one target. */
export interface TargetTally {
  cases: number;
  rejected: number;
  /** Refused only through `act`/`ok`, never allowed: must stay 0. */
  accepted: number;
  exceptions: number;
  hangs: number;
  /** An altered, unsigned input that got past the signature check (REPLAY or later): must stay 0. */
  signatureBypasses: number;
  /** `open()` said ok to an envelope this fuzzer sealed with a real key (content-only hostility). */
  authenticOk: number;
  /**
   * A code other than the one the mutation determines (signed cases, verbatim replays), or, for the
   * actuator, a verdict that disagrees with `open()`'s on the same single case: must stay 0.
   */
  unexpectedCodes: number;
  /** The slowest case, ms. */
  slowestMs: number;
  /**
   * Cases over the time limit that were timed again before being called hangs (on a loaded machine a
   * stall can be the scheduler's); a case is a hang only if the second run is over the limit too.
   */
  retimed: number;
  byCode: Record<string, number>;
}

/** A case that broke a rule. */
export interface FuzzFailure {
  readonly target: "open" | "actuator";
  readonly kind: "accepted" | "exception" | "hang" | "signature-bypass" | "unexpected-code" | "stats";
  readonly case?: FuzzCase;
  readonly message: string;
}

/** A corpus file's content. */
export interface CorpusEntry {
  topic: string;
  payload_b64: string;
  expect_code: string;
  mutation: string;
  detail: string;
  found: string;
  /** Present when the case exposed a bug: `expect_code` is then the code it should give. */
  failing?: string;
}

/** Options of {@link runFuzz}. */
export interface FuzzOptions {
  cases: number;
  seed: number;
  target: FuzzTarget;
  /** Keep corpus candidates (first case per (code, mutation), plus failures). */
  collectCorpus?: boolean;
  /** Per-case time limit, default {@link FUZZ_HANG_MS}. */
  hangMs?: number;
  /** The `open()` under test (default the real one); tests swap in a broken one to check the oracle. */
  openImpl?: (bytes: Uint8Array, topic: string, deps: OpenDeps) => Promise<OpenResult>;
  /** Called every `progressEvery` cases. */
  onProgress?: (done: number, elapsedMs: number) => void;
  progressEvery?: number;
}

/** What a run found. */
export interface FuzzReport {
  readonly options: FuzzOptions;
  casesRun: number;
  elapsedMs: number;
  open?: TargetTally;
  actuator?: TargetTally & { stats: ActuatorStats; restarts: number; bursts: number };
  byMutation: Record<string, number>;
  failures: FuzzFailure[];
  corpus: Map<string, CorpusEntry>;
  /** Unhandled promise rejections seen while running. */
  unhandled: number;
}

function newTally(): TargetTally {
  return {
    cases: 0,
    rejected: 0,
    accepted: 0,
    exceptions: 0,
    hangs: 0,
    signatureBypasses: 0,
    authenticOk: 0,
    unexpectedCodes: 0,
    slowestMs: 0,
    retimed: 0,
    byCode: {},
  };
}

type Guarded<T> = { done: true; value: T; ms: number } | { done: false; ms: number };

async function withDeadline<T>(work: () => Promise<T>, ms: number): Promise<Guarded<T>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const started = performance.now();
  const deadline = new Promise<{ done: false }>((resolve) => {
    timer = setTimeout(() => resolve({ done: false }), ms);
  });
  try {
    const outcome = await Promise.race([work().then((value) => ({ done: true as const, value })), deadline]);
    const elapsed = performance.now() - started;
    // A synchronous stall delays the timer itself: measure too.
    if (outcome.done && elapsed > ms) return { done: false, ms: elapsed };
    return { ...outcome, ms: elapsed };
  } finally {
    clearTimeout(timer);
  }
}

/** How long a slow actuator may take to drain before a case is called a hang without a second timing. */
const ACTUATOR_SETTLE_MS = 30_000;

/** Codes at which the signature had already verified. */
const POST_SIGNATURE_CODES = new Set(["REPLAY", "BAD_KEY", "BAD_CIPHERTEXT", "DUPLICATE"]);

interface ActuatorRig {
  readonly actuator: RunningActuator;
  deliver(topic: string, payload: Uint8Array): void;
  readonly acted: { count: number };
  readonly openerErrors: unknown[];
}

async function startActuatorRig(home: FuzzHome): Promise<ActuatorRig> {
  const clock = fuzzClock();
  const replay = new MemoryReplayStore();
  const opener = secureOpener({
    clock,
    trust: trustResolver(home.trustList),
    replay,
    recipientPrivateKey: home.recipientPrivateKey,
    timestampWindowMs: TIMESTAMP_WINDOW_MS,
    keyCache: new EpochKeyCache(),
  });
  const openerErrors: unknown[] = [];
  // The actuator turns an opener exception into a MALFORMED rejection; count it before it is hidden.
  const guardedOpener: MessageOpener = async (topic, payload) => {
    try {
      return await opener(topic, payload);
    } catch (error) {
      openerErrors.push(error);
      throw error;
    }
  };
  let handler: ((topic: string, payload: Uint8Array) => void) | undefined;
  const transport = {
    subscribe: () => Promise.resolve(),
    onMessage: (h: (topic: string, payload: Uint8Array) => void) => {
      handler = h;
    },
  };
  const acted = { count: 0 };
  const actuator = await startActuator(
    { topic: SECURE_TOPIC_FILTER, qos: 1, phase: "secure", queueLimit: FUZZ_QUEUE_LIMIT },
    {
      clock,
      log: new Log(nullLogWriter, { role: "actuator", run: "fuzz", clock }),
      transport,
      open: guardedOpener,
      act: () => {
        acted.count++;
      },
    },
  );
  const deliver = (topic: string, payload: Uint8Array) => handler!(topic, payload);
  // The seeds go through the real path once: acted on, counters committed, epoch keys cached.
  const active = activeSeeds(home);
  for (const seed of active) {
    deliver(seed.topic, seed.bytes);
    await actuator.idle();
  }
  if (actuator.stats.acted !== active.length) {
    throw new Error(`expected the ${active.length} seeds to be acted on, got ${actuator.stats.acted}`);
  }
  replay.accept(FUZZ_SENDER_REVOKED, FUZZ_ACCEPTED_HIGHEST[FUZZ_SENDER_REVOKED]);
  checkHighest(replay);
  acted.count = 0;
  return { actuator, deliver, acted, openerErrors };
}

function checkHighest(replay: MemoryReplayStore): void {
  for (const [sender, highest] of Object.entries(FUZZ_ACCEPTED_HIGHEST)) {
    if (replay.highest(sender) !== BigInt(highest)) {
      throw new Error(`expected ${sender}'s highest counter to be ${highest}, got ${replay.highest(sender)}`);
    }
  }
}

async function primedOpenDeps(home: FuzzHome): Promise<OpenDeps> {
  const keyCache = new EpochKeyCache();
  const replay = new MemoryReplayStore();
  const deps: OpenDeps = {
    clock: fuzzClock(),
    trust: trustResolver(home.trustList),
    replay,
    recipientPrivateKey: home.recipientPrivateKey,
    keyCache,
  };
  for (const seed of home.seeds) {
    if (seed.sender === FUZZ_SENDER_REVOKED) continue;
    const result = await open(seed.bytes, seed.topic, deps);
    if (!result.ok) throw new Error(`seed ${seed.sender}#${seed.counter} does not open: ${result.code}`);
    replay.accept(seed.sender, seed.counter);
  }
  replay.accept(FUZZ_SENDER_REVOKED, FUZZ_ACCEPTED_HIGHEST[FUZZ_SENDER_REVOKED]);
  checkHighest(replay);
  return deps;
}

function snapshot(stats: ActuatorStats): ActuatorStats {
  return { ...stats, byCode: { ...stats.byCode } };
}

function sumCodes(byCode: Record<string, number>): number {
  return Object.values(byCode).reduce((n, v) => n + v, 0);
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * Runs `options.cases` fuzz cases against the chosen target(s) and tallies the outcomes.
 * @example
 * ```ts
 * const report = await runFuzz({ cases: 3_000, seed: 7, target: "both" });
 * fuzzFailed(report); // false
 * ```
 */
export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const hangMs = options.hangMs ?? FUZZ_HANG_MS;
  const openImpl = options.openImpl ?? open;
  const rng = new FuzzRng(options.seed);
  const home = await buildFuzzHome(rng);
  const seedKeys = new Set(home.seeds.map((s) => `${s.topic}\0${toBase64(s.bytes)}`));
  const isSeedVerbatim = (c: FuzzCase) => seedKeys.has(`${c.topic}\0${toBase64(c.payload)}`);
  const runOpen = options.target !== "actuator";
  const runActuator = options.target !== "open";
  const openDeps = runOpen ? await primedOpenDeps(home) : undefined;
  let rig = runActuator ? await startActuatorRig(home) : undefined;
  const report: FuzzReport = {
    options,
    casesRun: 0,
    elapsedMs: 0,
    open: runOpen ? newTally() : undefined,
    actuator: runActuator
      ? { ...newTally(), stats: snapshot(rig!.actuator.stats), restarts: 0, bursts: 0 }
      : undefined,
    byMutation: {},
    failures: [],
    corpus: new Map(),
    unhandled: 0,
  };
  const onUnhandled = (event: PromiseRejectionEvent) => {
    event.preventDefault();
    report.unhandled++;
    report.failures.push({
      target: "actuator",
      kind: "exception",
      message: `unhandled: ${describeError(event.reason)}`,
    });
  };
  globalThis.addEventListener("unhandledrejection", onUnhandled);

  const fail = (failure: FuzzFailure) => {
    if (report.failures.length < 1_000) report.failures.push(failure);
  };
  const keepCorpus = (c: FuzzCase, code: string, failing?: string) => {
    if (!options.collectCorpus || c.payload.length > CORPUS_MAX_PAYLOAD_BYTES) return;
    const key = failing ? `failing-${c.mutation}-${c.index}` : `${c.mutation}--${code}`.toLowerCase();
    if (report.corpus.has(key)) return;
    report.corpus.set(key, {
      topic: c.topic,
      payload_b64: toBase64(c.payload),
      expect_code: code,
      mutation: c.mutation,
      detail: c.detail,
      found: `seed ${options.seed} case ${c.index}`,
      ...(failing ? { failing } : {}),
    });
  };

  const openOne = async (c: FuzzCase): Promise<string | undefined> => {
    const tally = report.open!;
    tally.cases++;
    let outcome: Guarded<OpenResult>;
    try {
      const attempt = () => withDeadline(() => openImpl(c.payload, c.topic, openDeps!), hangMs);
      outcome = await attempt();
      if (!outcome.done) {
        tally.retimed++;
        tally.slowestMs = Math.max(tally.slowestMs, outcome.ms);
        outcome = await attempt();
      }
    } catch (error) {
      tally.exceptions++;
      fail({ target: "open", kind: "exception", case: c, message: describeError(error) });
      keepCorpus(c, "MALFORMED", `open() threw ${describeError(error)}`);
      return;
    }
    if (!outcome.done) {
      tally.hangs++;
      fail({
        target: "open",
        kind: "hang",
        case: c,
        message: `no answer within ${hangMs} ms (${outcome.ms} ms)`,
      });
      keepCorpus(c, "MALFORMED", `open() took ${Math.round(outcome.ms)} ms`);
      return;
    }
    tally.slowestMs = Math.max(tally.slowestMs, outcome.ms);
    const result = outcome.value;
    const code = result.ok ? "OK" : result.code;
    tally.byCode[code] = (tally.byCode[code] ?? 0) + 1;
    if (c.expect !== undefined && code !== c.expect) {
      tally.unexpectedCodes++;
      fail({
        target: "open",
        kind: "unexpected-code",
        case: c,
        message: `expected ${c.expect}, got ${code}: ${result.ok ? "" : result.detail}`,
      });
      keepCorpus(c, c.expect, `open() gave ${code}`);
    }
    if (result.ok) {
      if (c.authentic) {
        tally.authenticOk++;
        return code;
      }
      tally.accepted++;
      fail({ target: "open", kind: "accepted", case: c, message: `accepted ${c.mutation}: ${c.detail}` });
      keepCorpus(c, c.expect ?? (c.signed ? "BAD_CIPHERTEXT" : "BAD_SIGNATURE"), "open() accepted it");
      return code;
    }
    tally.rejected++;
    if (!c.signed && POST_SIGNATURE_CODES.has(code) && !isSeedVerbatim(c)) {
      tally.signatureBypasses++;
      fail({
        target: "open",
        kind: "signature-bypass",
        case: c,
        message: `${code} for ${c.mutation}: ${c.detail}`,
      });
      keepCorpus(c, "BAD_SIGNATURE", `an altered envelope passed the signature check (${code})`);
      return code;
    }
    keepCorpus(c, code);
    return code;
  };

  /** Delivers the batch, checks the stats; for a single case, returns its code (`ACTED` if acted on). */
  const actuatorBatch = async (batch: FuzzCase[]): Promise<string | undefined> => {
    const tally = report.actuator!;
    const { actuator } = rig!;
    const before = snapshot(actuator.stats);
    const actedBefore = rig!.acted.count;
    const errorsBefore = rig!.openerErrors.length;
    tally.cases += batch.length;
    if (batch.length > 1) tally.bursts++;
    let outcome: Guarded<void>;
    let deliveries = 1;
    try {
      for (const c of batch) rig!.deliver(c.topic, c.payload);
      outcome = await withDeadline(() => actuator.idle(), hangMs * batch.length);
      if (!outcome.done) {
        // Before calling it a hang: let it finish if it can, then time the same input once more.
        tally.slowestMs = Math.max(tally.slowestMs, outcome.ms / batch.length);
        const settled = await withDeadline(() => actuator.idle(), ACTUATOR_SETTLE_MS);
        if (settled.done) {
          tally.retimed += batch.length;
          deliveries = 2;
          for (const c of batch) rig!.deliver(c.topic, c.payload);
          outcome = await withDeadline(() => actuator.idle(), hangMs * batch.length);
        }
      }
    } catch (error) {
      tally.exceptions += batch.length;
      fail({ target: "actuator", kind: "exception", case: batch[0], message: describeError(error) });
      rig = await startActuatorRig(home);
      tally.restarts++;
      return undefined;
    }
    if (!outcome.done) {
      tally.hangs += batch.length;
      fail({
        target: "actuator",
        kind: "hang",
        case: batch[0],
        message: `not idle within ${hangMs} ms per case`,
      });
      rig = await startActuatorRig(home);
      tally.restarts++;
      return undefined;
    }
    tally.slowestMs = Math.max(tally.slowestMs, outcome.ms / batch.length);
    const after = actuator.stats;
    const newErrors = rig!.openerErrors.slice(errorsBefore);
    if (newErrors.length > 0) {
      tally.exceptions += newErrors.length;
      for (const error of newErrors) {
        fail({
          target: "actuator",
          kind: "exception",
          case: batch[0],
          message: `opener threw ${describeError(error)}`,
        });
      }
    }
    const acted = after.acted - before.acted;
    if (acted > 0 || rig!.acted.count !== actedBefore) {
      tally.accepted += acted;
      fail({ target: "actuator", kind: "accepted", case: batch[0], message: `acted ${acted} time(s)` });
    }
    const received = after.received - before.received;
    const handled = acted + (after.rejected - before.rejected) + (after.duplicates - before.duplicates);
    const expected = batch.length * deliveries;
    if (received !== expected || handled !== expected || sumCodes(after.byCode) !== after.rejected) {
      fail({
        target: "actuator",
        kind: "stats",
        case: batch[0],
        message: `received ${received}, handled ${handled}, for ${expected} deliveries; ` +
          `byCode sums to ${sumCodes(after.byCode)}, rejected ${after.rejected}`,
      });
    }
    tally.rejected += after.rejected - before.rejected;
    const duplicates = after.duplicates - before.duplicates;
    if (duplicates > 0) {
      tally.byCode.DUPLICATE = (tally.byCode.DUPLICATE ?? 0) + duplicates;
      tally.rejected += duplicates;
    }
    for (const [code, count] of Object.entries(after.byCode)) {
      const delta = count - (before.byCode[code] ?? 0);
      if (delta > 0) tally.byCode[code] = (tally.byCode[code] ?? 0) + delta;
    }
    if (batch.length !== 1 || deliveries !== 1) return undefined;
    const c = batch[0];
    const code = acted > 0
      ? "ACTED"
      : duplicates > 0
      ? "DUPLICATE"
      : Object.keys(after.byCode).find((k) => after.byCode[k] !== (before.byCode[k] ?? 0));
    if (!c.signed && code !== undefined && POST_SIGNATURE_CODES.has(code) && !isSeedVerbatim(c)) {
      tally.signatureBypasses++;
      fail({ target: "actuator", kind: "signature-bypass", case: c, message: `${code} for ${c.mutation}` });
    }
    return code;
  };

  /**
   * What the actuator must answer to a single case `open()` answered with `openCode`: an envelope `open()`
   * accepts carries a hostile reading here, refused by check 9 (PROTOCOL.md §6) as BAD_READING.
   */
  const actuatorCodeFor = (openCode: string): string =>
    openCode === "OK" ? "BAD_READING" : openCode === "REPLAY" ? "DUPLICATE" : openCode;

  const started = performance.now();
  const progressEvery = options.progressEvery ?? 10_000;
  try {
    let index = 0;
    while (index < options.cases) {
      // Now and then a burst, past the bounded queue and its waiting list (the fake transport ignores
      // backpressure), so OVERLOADED is reached.
      const size = runActuator && rng.chance(0.01)
        ? Math.min(rng.range(2, 2 * FUZZ_QUEUE_LIMIT + 5), options.cases - index)
        : 1;
      const batch: FuzzCase[] = [];
      for (let k = 0; k < size; k++) batch.push(await generateCase(rng, home, options.target, index++));
      for (const c of batch) report.byMutation[c.mutation] = (report.byMutation[c.mutation] ?? 0) + 1;
      const openCodes: (string | undefined)[] = [];
      if (runOpen) { for (const c of batch) openCodes.push(await openOne(c)); }
      const actuatorCode = runActuator ? await actuatorBatch(batch) : undefined;
      // Differential check: the actuator's verdict follows from open()'s on the same input.
      if (runOpen && actuatorCode !== undefined && openCodes[0] !== undefined) {
        const expected = actuatorCodeFor(openCodes[0]);
        if (actuatorCode !== expected) {
          report.actuator!.unexpectedCodes++;
          fail({
            target: "actuator",
            kind: "unexpected-code",
            case: batch[0],
            message: `open() said ${openCodes[0]}, so expected ${expected}, got ${actuatorCode}`,
          });
        }
      }
      const before = report.casesRun;
      report.casesRun += batch.length;
      if (
        options.onProgress && Math.floor(report.casesRun / progressEvery) > Math.floor(before / progressEvery)
      ) {
        options.onProgress(report.casesRun, performance.now() - started);
      }
    }
  } finally {
    globalThis.removeEventListener("unhandledrejection", onUnhandled);
  }
  report.elapsedMs = performance.now() - started;
  if (report.actuator && rig) report.actuator.stats = snapshot(rig.actuator.stats);
  return report;
}

/**
 * True if the run broke a rule: anything accepted, thrown, hung, a signature bypass, stats that do not
 * add up, or fewer cases run than asked.
 * @example
 * ```ts
 * if (fuzzFailed(report)) Deno.exitCode = 1;
 * ```
 */
export function fuzzFailed(report: FuzzReport): boolean {
  return report.failures.length > 0 || report.unhandled > 0 || report.casesRun !== report.options.cases;
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(" | ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("-|-"), ...rows.map(line)];
}

/**
 * The summary table printed by the CLI.
 * @example
 * ```ts
 * console.log(formatReport(report));
 * ```
 */
export function formatReport(report: FuzzReport): string {
  const lines: string[] = [];
  const { options } = report;
  const seconds = report.elapsedMs / 1000;
  lines.push(
    `secmqtt fuzz: target ${options.target}, seed ${options.seed}, ${report.casesRun} of ${options.cases} cases ` +
      `in ${seconds.toFixed(1)} s (${Math.round(report.casesRun / seconds)} cases/s)`,
  );
  const targets = [["open", report.open], ["actuator", report.actuator]] as const;
  const header = [
    "target",
    "cases",
    "rejected",
    "accepted",
    "exceptions",
    "hangs",
    "sig bypass",
    "unexpected code",
    "slowest ms",
    "retimed",
    "authentic ok",
  ];
  const rows = targets.filter(([, t]) => t).map(([name, t]) => [
    name,
    ...[t!.cases, t!.rejected, t!.accepted, t!.exceptions, t!.hangs, t!.signatureBypasses, t!.unexpectedCodes]
      .map(String),
    t!.slowestMs.toFixed(1),
    String(t!.retimed),
    String(t!.authenticOk),
  ]);
  lines.push("");
  lines.push(...table(header, rows));
  const present = targets.filter(([, t]) => t !== undefined);
  const codes = [...new Set(present.flatMap(([, t]) => Object.keys(t!.byCode)))].sort();
  lines.push("");
  lines.push(
    ...table(
      ["code", ...present.map(([name]) => name)],
      codes.map((code) => [code, ...present.map(([, t]) => String(t!.byCode[code] ?? 0))]),
    ),
  );
  if (report.actuator) {
    const s = report.actuator.stats;
    lines.push("");
    lines.push(
      `actuator stats: received ${s.received} (incl. seeds), acted ${s.acted} (the seeds only), ` +
        `rejected ${s.rejected}, duplicates ${s.duplicates}; bursts ${report.actuator.bursts}, ` +
        `restarts ${report.actuator.restarts}`,
    );
  }
  lines.push("");
  lines.push(
    "mutations: " + Object.entries(report.byMutation).sort().map(([k, v]) => `${k} ${v}`).join(", "),
  );
  if (report.failures.length > 0) {
    lines.push("");
    lines.push(`FAILURES (${report.failures.length}${report.failures.length >= 1_000 ? "+" : ""}):`);
    for (const f of report.failures.slice(0, 20)) {
      const where = f.case
        ? ` case ${f.case.index} ${f.case.mutation} (${f.case.detail}) topic ${q(f.case.topic)}`
        : "";
      lines.push(`  ${f.target} ${f.kind}:${where}: ${f.message}`);
    }
  }
  lines.push("");
  lines.push(fuzzFailed(report) ? "FAIL" : "PASS: 0 accepted, 0 exceptions, 0 hangs");
  return lines.join("\n");
}

// ---------------------------------------------------------------------------------------------------
// Corpus files

/** One corpus file as read back. */
export interface CorpusFile {
  readonly name: string;
  readonly entry: CorpusEntry;
  readonly bytes: number;
}

/**
 * Picks at most `max` entries: every failing case, then the first case of each reason code, then of
 * each mutation kind, then the remaining (code, mutation) pairs in the order they were found.
 * @example
 * ```ts
 * const chosen = selectCorpus(report.corpus); // ≤ 100 entries
 * ```
 */
export function selectCorpus(
  entries: Map<string, CorpusEntry>,
  max: number = CORPUS_MAX_FILES,
): Map<string, CorpusEntry> {
  const all = [...entries];
  const chosen = new Map<string, CorpusEntry>(all.filter(([, e]) => e.failing !== undefined));
  const take = (predicate: (entry: CorpusEntry) => boolean, seen: (entry: CorpusEntry) => string) => {
    const covered = new Set([...chosen.values()].map(seen));
    for (const [key, entry] of all) {
      if (chosen.size >= max) return;
      if (chosen.has(key) || !predicate(entry) || covered.has(seen(entry))) continue;
      chosen.set(key, entry);
      covered.add(seen(entry));
    }
  };
  take(() => true, (e) => e.expect_code);
  take(() => true, (e) => e.mutation);
  take(() => true, (e) => `${e.mutation}--${e.expect_code}`);
  return chosen;
}

/**
 * Replaces the corpus's JSON files with `entries` (the README stays).
 * @example
 * ```ts
 * await writeCorpus(report.corpus);
 * ```
 */
export async function writeCorpus(
  entries: Map<string, CorpusEntry>,
  dir: URL = FUZZ_CORPUS_DIR,
): Promise<number> {
  await Deno.mkdir(dir, { recursive: true });
  for await (const file of Deno.readDir(dir)) {
    if (file.isFile && file.name.endsWith(".json")) await Deno.remove(new URL(file.name, dir));
  }
  for (const [key, entry] of entries) {
    const name = key.replace(/[^a-z0-9_-]+/gi, "_") + ".json";
    await Deno.writeTextFile(new URL(name, dir), JSON.stringify(entry, null, 2) + "\n");
  }
  return entries.size;
}

/**
 * Reads every corpus file, sorted by name.
 * @example
 * ```ts
 * for (const { name, entry } of await readCorpus()) console.log(name, entry.expect_code);
 * ```
 */
export async function readCorpus(dir: URL = FUZZ_CORPUS_DIR): Promise<CorpusFile[]> {
  const out: CorpusFile[] = [];
  for await (const file of Deno.readDir(dir)) {
    if (!file.isFile || !file.name.endsWith(".json")) continue;
    const text = await Deno.readTextFile(new URL(file.name, dir));
    out.push({ name: file.name, entry: JSON.parse(text) as CorpusEntry, bytes: enc.encode(text).length });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** A corpus entry's payload bytes. */
export function corpusPayload(entry: CorpusEntry): Uint8Array {
  return fromBase64(entry.payload_b64);
}

// ---------------------------------------------------------------------------------------------------
// CLI

function parseArgs(args: string[]): FuzzOptions & { saveCorpus: boolean } {
  const options = { cases: 100_000, seed: 1, target: "both" as FuzzTarget, saveCorpus: false };
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i].split("=", 2);
    const value = () => inline ?? args[++i];
    switch (flag) {
      case "--cases":
        options.cases = Number(value());
        break;
      case "--seed":
        options.seed = Number(value());
        break;
      case "--target":
        options.target = value() as FuzzTarget;
        break;
      case "--save-corpus":
        options.saveCorpus = true;
        break;
      default:
        throw new Error(
          `unknown flag ${args[i]}; expected --cases N, --seed S, --target open|actuator|both, --save-corpus`,
        );
    }
  }
  if (!Number.isSafeInteger(options.cases) || options.cases < 0) throw new Error("--cases expects a count");
  if (!Number.isSafeInteger(options.seed)) throw new Error("--seed expects an integer");
  if (!["open", "actuator", "both"].includes(options.target)) {
    throw new Error("--target expects open|actuator|both");
  }
  return options;
}

if (import.meta.main) {
  const options = parseArgs(Deno.args);
  const report = await runFuzz({
    ...options,
    collectCorpus: options.saveCorpus,
    onProgress: (done, ms) => console.error(`  ${done} cases, ${Math.round(done / (ms / 1000))} cases/s`),
  });
  console.log(formatReport(report));
  if (options.saveCorpus) {
    const written = await writeCorpus(selectCorpus(report.corpus));
    console.log(
      `corpus: ${written} of ${report.corpus.size} (code, mutation) pairs written to ${FUZZ_CORPUS_DIR.pathname}`,
    );
  }
  if (fuzzFailed(report)) Deno.exitCode = 1;
}
