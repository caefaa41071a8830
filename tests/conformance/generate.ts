/**
 * Generates the conformance kit (tests/conformance/README.md) from the reference implementation: the
 * fixture keys of tests/fixtures/envelope_v1/, a deterministic random source per scenario, and RSA-OAEP
 * wraps taken from the committed `wrapped_keys.json` (WebCrypto's OAEP is randomised, so a wrap is made
 * once and reused). Expectations are written here from docs/PROTOCOL.md; `kit_test.ts` checks the
 * reference receiver against them.
 *
 * ```sh
 * deno task conformance            # rewrite scenarios/, recipient_rsa_private.pem and, if needed, wrapped_keys.json
 * deno task conformance --check    # exit 1 if the committed kit differs from a fresh generation
 * ```
 * @module
 */

import { createHash } from "node:crypto";
import { aesGcmEncrypt, importAesKey } from "../../crypto/aes.ts";
import { fromBase64Url, toBase64, toBase64Url, toHex, utf8Encode } from "../../crypto/codec.ts";
import {
  envelopeAssociatedData,
  type EnvelopeJson,
  envelopeSignedBytes,
  type EpochKey,
  importEpochKey,
  type RandomBytes,
  seal,
  serializeEnvelope,
  type Suite,
  SUITE_DSA,
  SUITE_ED25519,
  TIMESTAMP_WINDOW_MS,
} from "../../crypto/envelope.ts";
import { SESSION_KEY_BYTES, wrapSessionKey } from "../../crypto/rsa.ts";
import { type SigningKey, signMessage } from "../../crypto/signature.ts";
import {
  type FixtureKeys,
  loadEnvelopeFixtureKeys,
  readEnvelopeFixture,
} from "../../testkit/fixture_keys.ts";
import {
  type DeliverStep,
  KIT_DIR,
  KIT_FORMAT,
  openVerdictFor,
  type RestartStep,
  type Scenario,
  SCENARIO_DIR,
  type Step,
  type TrustJson,
  type Verdict,
} from "./kit.ts";

/** The kit's receiver clock at the first step (2023-11-14T22:13:20Z, as in the test vectors). */
export const KIT_START_MS = 1_700_000_000_000;
/** The topic every sender publishes on. */
export const KIT_TOPIC = "home/secure/door";
/** The recipient key file, copied from the fixtures so the kit stands alone. */
export const RECIPIENT_KEY_FILE = "recipient_rsa_private.pem";
/** The trust-list cases (§10). */
export const TRUST_LISTS_FILE = "trust_lists.json";
/** The committed RSA-OAEP wraps: hex of the wrapped plaintext → base64url of its wrap. */
export const WRAPS_FILE = "wrapped_keys.json";

const W = TIMESTAMP_WINDOW_MS;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** The generated kit: file path relative to tests/conformance/ → exact content. */
export type KitFiles = Map<string, string>;

/**
 * RSA-OAEP wraps, made once with WebCrypto and then read from `wrapped_keys.json`, so that the kit is the
 * same on every run. With `allowNew` false a missing wrap is an error (the check mode).
 */
export class WrapBook {
  readonly #wraps: Map<string, string>;
  readonly #allowNew: boolean;
  readonly #rsaPublic: CryptoKey;
  /** True once a wrap was made that the committed file did not have. */
  added = false;

  /**
   * @param wraps committed wraps (hex plaintext → base64url wrap)
   * @param rsaPublic the recipient's public key, for new wraps
   * @param allowNew whether a missing wrap may be made now
   */
  constructor(wraps: Record<string, string>, rsaPublic: CryptoKey, allowNew: boolean) {
    this.#wraps = new Map(Object.entries(wraps));
    this.#rsaPublic = rsaPublic;
    this.#allowNew = allowNew;
  }

  /**
   * The wrap of `plaintext` (any length RSA-OAEP-2048/SHA-256 can carry).
   * @example
   * ```ts
   * const wrapped = await book.wrap(sessionKey);
   * ```
   */
  async wrap(plaintext: Uint8Array): Promise<Uint8Array> {
    const id = toHex(plaintext);
    const known = this.#wraps.get(id);
    if (known !== undefined) return fromBase64Url(known);
    if (!this.#allowNew) throw new Error(`${WRAPS_FILE} has no wrap of ${id}: run \`deno task conformance\``);
    const wrapped = plaintext.length === SESSION_KEY_BYTES
      ? await wrapSessionKey(this.#rsaPublic, plaintext)
      : new Uint8Array(await crypto.subtle.encrypt({ name: "RSA-OAEP" }, this.#rsaPublic, plaintext.slice()));
    this.#wraps.set(id, toBase64Url(wrapped));
    this.added = true;
    return wrapped;
  }

  /**
   * The file content: every wrap, sorted.
   * @example
   * ```ts
   * await Deno.writeTextFile("wrapped_keys.json", book.toJson());
   * ```
   */
  toJson(): string {
    const sorted = Object.fromEntries([...this.#wraps].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0));
    return JSON.stringify(
      {
        about:
          "RSA-OAEP-2048 (SHA-256, MGF1-SHA-256) wraps under tests/fixtures/envelope_v1/rsa_public.pem, " +
          "made once by generate.ts: hex of the wrapped bytes -> base64url of the wrap",
        wraps: sorted,
      },
      null,
      2,
    ) + "\n";
  }
}

/**
 * A deterministic random source: SHA-256 of `seed ‖ 0x00 ‖ block number`, block after block. For the
 * kit only; it stands in for the CSPRNG so that nonces and session keys are the same on every run.
 * @example
 * ```ts
 * const random = seededRandom("dsa-accept");
 * random(12); // the same 12 bytes every time
 * ```
 */
export function seededRandom(seed: string): RandomBytes {
  let block = 0;
  let pool = new Uint8Array(0);
  return (length) => {
    const out = new Uint8Array(length);
    let filled = 0;
    while (filled < length) {
      if (pool.length === 0) {
        pool = new Uint8Array(createHash("sha256").update(`${seed}\0${block++}`).digest());
      }
      const take = Math.min(pool.length, length - filled);
      out.set(pool.subarray(0, take), filled);
      pool = pool.subarray(take);
      filled += take;
    }
    return out;
  };
}

interface Sender {
  readonly id: string;
  readonly suite: Suite;
  readonly signingKey: SigningKey;
}

/** Fields of a door reading; any of them may be overridden or removed to make a bad one. */
type ReadingFields = Record<string, unknown>;

interface EnvelopeSpec {
  readonly sender: Sender;
  readonly counter: number;
  readonly ts: number;
  readonly msgId?: string;
  readonly topic?: string;
  /** Raw plaintext; default: a valid reading of this envelope, with `reading` applied. */
  readonly plaintext?: string | Uint8Array;
  readonly reading?: ReadingFields;
  /** Reuse this epoch key (default: a fresh one, i.e. epoch length 1). */
  readonly epoch?: EpochKey;
  /** Sender field written into the envelope and the signed bytes when it differs from the signer's id. */
  readonly claimedSender?: string;
}

/** Builds the envelopes of one scenario; all randomness comes from the scenario's seed. */
class Workshop {
  readonly random: RandomBytes;
  readonly #wraps: WrapBook;

  constructor(seed: string, wraps: WrapBook) {
    this.random = seededRandom(seed);
    this.#wraps = wraps;
  }

  async epoch(maxMessages = 1): Promise<EpochKey> {
    const sessionKey = this.random(SESSION_KEY_BYTES);
    return await importEpochKey(sessionKey, await this.#wraps.wrap(sessionKey), { maxMessages });
  }

  /** A session key and its wrap, for hand-made envelopes. */
  async sessionKey(): Promise<{ raw: Uint8Array; wrapped: Uint8Array }> {
    const raw = this.random(SESSION_KEY_BYTES);
    return { raw, wrapped: await this.#wraps.wrap(raw) };
  }

  async wrapOther(plaintext: Uint8Array): Promise<Uint8Array> {
    return await this.#wraps.wrap(plaintext);
  }

  /** An envelope sealed by the reference `seal()`. */
  async seal(spec: EnvelopeSpec): Promise<Uint8Array> {
    const sender = spec.claimedSender ?? spec.sender.id;
    const msgId = spec.msgId ?? `${sender}-${spec.counter}`;
    return await seal({
      topic: spec.topic ?? KIT_TOPIC,
      sender,
      counter: spec.counter,
      ts: spec.ts,
      msgId,
      plaintext: plaintextOf(spec, sender, msgId),
      suite: spec.sender.suite,
      signingKey: spec.sender.signingKey,
      epochKey: spec.epoch ?? await this.epoch(),
      randomBytes: this.random,
    });
  }

  /**
   * A hand-made envelope: `patch` changes the JSON before signing (so the signature is valid over the
   * changed fields), `aead` overrides what the ciphertext is computed with.
   */
  async craft(
    spec: EnvelopeSpec,
    options: {
      wrapped?: Uint8Array;
      encryptKey?: Uint8Array;
      aadTopic?: string;
      signer?: SigningKey;
      suiteLabel?: string;
    } = {},
  ): Promise<Uint8Array> {
    const sender = spec.claimedSender ?? spec.sender.id;
    const msgId = spec.msgId ?? `${sender}-${spec.counter}`;
    const topic = spec.topic ?? KIT_TOPIC;
    const suite = options.suiteLabel ?? spec.sender.suite;
    const key = await this.sessionKey();
    const wrapped = options.wrapped ?? key.wrapped;
    const nonce = this.random(12);
    const aad = envelopeAssociatedData({
      suite,
      topic: options.aadTopic ?? topic,
      sender,
      counter: spec.counter,
      ts: spec.ts,
    });
    const ciphertext = await aesGcmEncrypt(
      await importAesKey(options.encryptKey ?? key.raw),
      nonce,
      plaintextOf(spec, sender, msgId),
      aad,
    );
    const signed = envelopeSignedBytes({
      suite,
      topic,
      sender,
      counter: spec.counter,
      ts: spec.ts,
      msgId,
      wrappedKey: wrapped,
      nonce,
      ciphertext,
    });
    const sig = await signMessage(options.signer ?? spec.sender.signingKey, signed);
    return utf8Encode(serializeEnvelope({
      v: 1,
      suite,
      sender,
      counter: spec.counter,
      ts: spec.ts,
      msg_id: msgId,
      wrapped_key: toBase64Url(wrapped),
      nonce: toBase64Url(nonce),
      ciphertext: toBase64Url(ciphertext),
      sig: toBase64Url(sig),
    }));
  }
}

function plaintextOf(spec: EnvelopeSpec, sender: string, msgId: string): Uint8Array {
  if (spec.plaintext instanceof Uint8Array) return spec.plaintext;
  if (typeof spec.plaintext === "string") return utf8Encode(spec.plaintext);
  const reading: ReadingFields = {
    sensor_id: sender,
    event: spec.counter % 2 === 1 ? "open" : "closed",
    timestamp: spec.ts,
    counter: spec.counter,
    temperature: 21.5,
    status: "ok",
    msg_id: msgId,
    ...spec.reading,
  };
  for (const [key, value] of Object.entries(reading)) if (value === undefined) delete reading[key];
  return utf8Encode(JSON.stringify(reading));
}

/** The envelope's JSON, to derive malformed variants from. */
function jsonOf(bytes: Uint8Array): EnvelopeJson {
  return JSON.parse(new TextDecoder().decode(bytes));
}

/** Re-serialises canonically after `patch` (the signature is left as it was). */
function patched(bytes: Uint8Array, patch: Partial<Record<keyof EnvelopeJson, unknown>>): Uint8Array {
  return utf8Encode(serializeEnvelope({ ...jsonOf(bytes), ...patch } as EnvelopeJson));
}

/** Replaces the first occurrence of `from` in the envelope text. */
function edited(bytes: Uint8Array, from: string, to: string): Uint8Array {
  const text = new TextDecoder().decode(bytes);
  if (!text.includes(from)) throw new Error(`generator bug: ${JSON.stringify(from)} not in envelope`);
  return utf8Encode(text.replace(from, to));
}

/** Collects the steps of one scenario, keeping the receiver's clock. */
class Script {
  readonly steps: Step[] = [];
  now = KIT_START_MS;

  deliver(
    note: string,
    envelope: Uint8Array,
    expect: Verdict,
    options: { topic?: string; overloaded?: boolean; stateWriteFails?: boolean; rateExceeded?: boolean } = {},
  ): void {
    const step: DeliverStep = {
      action: "deliver",
      note,
      now_ms: this.now,
      topic: options.topic ?? KIT_TOPIC,
      envelope_b64: toBase64(envelope),
      expect,
      ...optional("expect_open", openVerdictFor(expect, options.overloaded === true)),
      ...(options.overloaded ? { receiver_overloaded: true as const } : {}),
      ...(options.stateWriteFails ? { state_write_fails: true as const } : {}),
      ...(options.rateExceeded ? { sender_rate_exceeded: true as const } : {}),
    };
    this.steps.push(step);
  }

  restart(note: string, trust?: TrustJson): void {
    const step: RestartStep = { action: "restart", note, ...optional("trust", trust) };
    this.steps.push(step);
  }
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

interface Home {
  readonly keys: FixtureKeys;
  readonly trust: TrustJson;
  readonly senders: Record<Suite, Sender>;
  readonly other: Record<Suite, Sender>;
  readonly revoked: Record<Suite, Sender>;
  readonly future: Sender;
  readonly unknown: Record<Suite, Sender>;
}

/** A suite newer than this receiver: listed in the trust list, implemented by nobody here. */
const FUTURE_SUITE = "rsa-oaep-4096+aes-256-gcm+ml-dsa-65";

function buildHome(keys: FixtureKeys): Home {
  const dsa = keys.senders[SUITE_DSA];
  const ed = keys.senders[SUITE_ED25519];
  const make = (id: string, suite: Suite): Sender => ({
    id,
    suite,
    signingKey: (suite === SUITE_DSA ? dsa : ed).signingKey,
  });
  const entry = (suite: string, pem: string, status: "active" | "revoked") => ({
    suite,
    public_key: pem,
    status,
  });
  return {
    keys,
    trust: {
      version: 1,
      senders: {
        "sensor-dsa": entry(SUITE_DSA, dsa.publicKeyPem, "active"),
        "sensor-dsa-revoked": entry(SUITE_DSA, dsa.publicKeyPem, "revoked"),
        "sensor-ed": entry(SUITE_ED25519, ed.publicKeyPem, "active"),
        "sensor-ed-revoked": entry(SUITE_ED25519, ed.publicKeyPem, "revoked"),
        "sensor-future": entry(FUTURE_SUITE, ed.publicKeyPem, "active"),
      },
    },
    senders: {
      [SUITE_DSA]: make("sensor-dsa", SUITE_DSA),
      [SUITE_ED25519]: make("sensor-ed", SUITE_ED25519),
    },
    other: { [SUITE_DSA]: make("sensor-ed", SUITE_ED25519), [SUITE_ED25519]: make("sensor-dsa", SUITE_DSA) },
    revoked: {
      [SUITE_DSA]: make("sensor-dsa-revoked", SUITE_DSA),
      [SUITE_ED25519]: make("sensor-ed-revoked", SUITE_ED25519),
    },
    future: make("sensor-future", SUITE_ED25519),
    unknown: {
      [SUITE_DSA]: make("sensor-nobody", SUITE_DSA),
      [SUITE_ED25519]: make("sensor-nobody", SUITE_ED25519),
    },
  };
}

function revokedTrust(home: Home, id: string): TrustJson {
  const senders = { ...home.trust.senders, [id]: { ...home.trust.senders[id], status: "revoked" as const } };
  return { version: 1, senders };
}

const SHORT: Record<Suite, string> = { [SUITE_DSA]: "dsa", [SUITE_ED25519]: "ed25519" };

type ScenarioBody = (home: Home, suite: Suite, shop: Workshop, script: Script) => Promise<void>;

interface ScenarioDef {
  readonly name: string;
  readonly title: string;
  readonly covers: readonly string[];
  readonly replayState?: (home: Home, suite: Suite) => Record<string, number>;
  readonly body: ScenarioBody;
}

// ---------------------------------------------------------------------------------------------------
// The scenarios. Each runs once per suite; `s` is the suite's active sender.

const SCENARIOS: readonly ScenarioDef[] = [
  {
    name: "accept",
    title: "authentic envelopes are accepted, including every boundary value",
    covers: ["§3", "§5", "§6", "§8.1", "§8.2 rule 1", "§9"],
    body: async (home, suite, shop, script) => {
      const s = home.senders[suite];
      const t = script.now;
      script.deliver("counter 0, ts = now", await shop.seal({ sender: s, counter: 0, ts: t }), "accept");
      script.deliver(
        "ts = now - W exactly (the window is inclusive)",
        await shop.seal({ sender: s, counter: 1, ts: t - W }),
        "accept",
      );
      script.deliver(
        "ts = now + W exactly",
        await shop.seal({ sender: s, counter: 2, ts: t + W }),
        "accept",
      );
      script.deliver(
        "counters need not be consecutive, only increasing",
        await shop.seal({ sender: s, counter: 1000, ts: t }),
        "accept",
      );
      script.deliver(
        "a reading with other member order, whitespace and number spellings (§9: values, not spellings)",
        await shop.seal({
          sender: s,
          counter: 1001,
          ts: t,
          plaintext: `{ "msg_id" : "${s.id}-1001", "status":"ok", "temperature": -1.0e2,\n` +
            `  "counter": 1001.0, "timestamp": ${t}, "event": "closed", "sensor_id": "${s.id}" }`,
        }),
        "accept",
      );
      script.deliver(
        "temperature 150 (upper bound), status of 32 characters",
        await shop.seal({
          sender: s,
          counter: 1002,
          ts: t,
          reading: { temperature: 150, status: "a".repeat(32) },
        }),
        "accept",
      );
      script.deliver(
        "64-character msg_id with every allowed character, topic of 256 UTF-8 bytes with non-ASCII characters",
        await shop.seal({
          sender: s,
          counter: 1003,
          ts: t,
          msgId: "Az09._:-".repeat(8),
          topic: "home/secure/" + "é".repeat(122),
        }),
        "accept",
        { topic: "home/secure/" + "é".repeat(122) },
      );
      script.deliver(
        "counter 2^53 - 1, the largest",
        await shop.seal({ sender: s, counter: MAX_SAFE, ts: t }),
        "accept",
      );
    },
  },
  {
    name: "malformed",
    title: "every shape rule of §3 and row 1 of §6 gives MALFORMED, before any other check",
    covers: ["§3", "§6 check 1"],
    body: async (home, suite, shop, script) => {
      const s = home.senders[suite];
      const t = script.now;
      const good = await shop.seal({ sender: s, counter: 5, ts: t });
      const text = new TextDecoder().decode(good);
      const json = jsonOf(good);
      const bad = (note: string, bytes: Uint8Array, topic?: string) =>
        script.deliver(note, bytes, "MALFORMED", { topic });
      bad("8193 bytes: over the size cap (checked first)", utf8Encode(text + " ".repeat(8193 - good.length)));
      bad("topic with a '+' wildcard", good, "home/secure/+");
      bad("topic with a '#' wildcard", good, "home/#");
      bad("empty topic", good, "");
      bad("topic of 257 UTF-8 bytes", good, "t".repeat(257));
      bad("topic with U+0000", good, "home/\u0000door");
      bad("not UTF-8", new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]));
      bad("UTF-8 byte-order mark before the object", new Uint8Array([0xef, 0xbb, 0xbf, ...good]));
      bad("not JSON", utf8Encode("hello"));
      bad("a JSON array", utf8Encode(`[${text}]`));
      bad("a JSON string", utf8Encode(JSON.stringify(text)));
      bad("empty input", new Uint8Array(0));
      bad("a key named __proto__", edited(good, '"sig":', '"__proto__":{},"sig":'));
      bad("an unknown field", edited(good, '"sig":', '"x":1,"sig":'));
      bad(
        "a missing field (nonce)",
        utf8Encode(JSON.stringify({ ...json, nonce: undefined })),
      );
      bad("a duplicate key", edited(good, '"v":1,', '"v":1,"v":1,'));
      bad("whitespace between fields", edited(good, '"v":1,', '"v":1, '));
      bad("a trailing newline", utf8Encode(text + "\n"));
      bad(
        "fields out of order",
        utf8Encode(JSON.stringify(Object.fromEntries([...Object.entries(json)].reverse()))),
      );
      bad("v as 1.0 (not plain decimal)", edited(good, '"v":1,', '"v":1.0,'));
      bad("v = -1", patched(good, { v: -1 }));
      bad("v = 2^53 (above 2^53 - 1)", edited(good, '"v":1,', '"v":9007199254740992,'));
      bad("v as a string", patched(good, { v: "1" }));
      bad("suite with an escape JSON would not write (\\u002d)", edited(good, "rsa-oaep", "rsa\\u002doaep"));
      bad(
        "suite with a double quote (an escape JSON.stringify reproduces)",
        patched(good, { suite: 'rsa"x' }),
      );
      bad("suite with a backslash", patched(good, { suite: "rsa\\x" }));
      bad("suite with a control character (\\u0001)", patched(good, { suite: "rsa\u0001x" }));
      bad("suite with a space", patched(good, { suite: "rsa oaep" }));
      bad("suite with a non-ASCII character", patched(good, { suite: "rsa-oaep-2048+aes-256-gcm+ed25519é" }));
      bad("empty suite", patched(good, { suite: "" }));
      bad("suite of 65 bytes", patched(good, { suite: "x".repeat(65) }));
      bad("empty sender", patched(good, { sender: "" }));
      bad("sender with '/'", patched(good, { sender: "sensor/1" }));
      bad("sender of 65 characters", patched(good, { sender: "s".repeat(65) }));
      bad("counter = -1", patched(good, { counter: -1 }));
      bad("counter = 2^53", edited(good, `"counter":5,`, '"counter":9007199254740992,'));
      bad("counter as 5.0", edited(good, `"counter":5,`, '"counter":5.0,'));
      bad("counter as 5e0", edited(good, `"counter":5,`, '"counter":5e0,'));
      bad("counter with a leading zero", edited(good, `"counter":5,`, '"counter":05,'));
      bad("ts as a string", patched(good, { ts: String(t) }));
      bad("ts = -1", patched(good, { ts: -1 }));
      bad("msg_id with a space", patched(good, { msg_id: "a b" }));
      bad("msg_id of 65 characters", patched(good, { msg_id: "m".repeat(65) }));
      bad("wrapped_key of 255 bytes", patched(good, { wrapped_key: toBase64Url(new Uint8Array(255)) }));
      bad("wrapped_key with '=' padding", patched(good, { wrapped_key: json.wrapped_key + "=" }));
      bad(
        "wrapped_key in standard base64 ('+' or '/')",
        patched(good, { wrapped_key: toBase64Url(new Uint8Array(256).fill(0xfb)).replaceAll("-", "+") }),
      );
      bad(
        "wrapped_key whose last character has non-zero unused bits",
        patched(good, { wrapped_key: toBase64Url(new Uint8Array(256)).slice(0, -1) + "B" }),
      );
      bad("nonce of 11 bytes", patched(good, { nonce: toBase64Url(new Uint8Array(11)) }));
      bad(
        "ciphertext of 15 bytes (shorter than the tag)",
        patched(good, { ciphertext: toBase64Url(new Uint8Array(15)) }),
      );
      bad(
        "ciphertext of 4113 bytes (plaintext over 4096)",
        patched(good, { ciphertext: toBase64Url(new Uint8Array(4113)) }),
      );
      bad("empty sig", patched(good, { sig: "" }));
      bad(
        suite === SUITE_ED25519 ? "sig of 63 bytes for Ed25519" : "sig of 73 bytes for DSA",
        patched(good, { sig: toBase64Url(new Uint8Array(suite === SUITE_ED25519 ? 63 : 73)) }),
      );
      bad(
        "sig of 73 bytes with an unknown suite",
        patched(good, { suite: "x", sig: toBase64Url(new Uint8Array(73)) }),
      );
      bad("a number where a string belongs (sender)", patched(good, { sender: 7 }));
      bad("null where a string belongs (sig)", patched(good, { sig: null }));
      script.deliver(
        "the untouched envelope is accepted: nothing above consumed its counter",
        good,
        "accept",
      );
    },
  },
  {
    name: "unsupported",
    title: "other versions, unknown suites and a suite other than the sender's registered one",
    covers: ["§2", "§3", "§6 check 2"],
    body: async (home, suite, shop, script) => {
      const s = home.senders[suite];
      const t = script.now;
      const good = await shop.seal({ sender: s, counter: 5, ts: t });
      script.deliver("v = 2", patched(good, { v: 2 }), "UNSUPPORTED");
      script.deliver("v = 0", patched(good, { v: 0 }), "UNSUPPORTED");
      script.deliver("v = 2^53 - 1", patched(good, { v: MAX_SAFE }), "UNSUPPORTED");
      script.deliver(
        "an unknown suite of allowed characters",
        patched(good, { suite: "rsa-oaep-1024+aes-128-cbc+none" }),
        "UNSUPPORTED",
      );
      script.deliver(
        "a suite string with every allowed punctuation character",
        patched(good, { suite: "!#$%&'()*+,-./:;<=>?@[]^_`{|}~" }),
        "UNSUPPORTED",
      );
      script.deliver(
        "suite in other case",
        patched(good, { suite: suite.toUpperCase() }),
        "UNSUPPORTED",
      );
      const other: Suite = suite === SUITE_DSA ? SUITE_ED25519 : SUITE_DSA;
      // Signed with the other scheme's key, so the signature length fits the claimed suite: only the
      // registration tells the receiver that this sender does not use that suite (no downgrade).
      script.deliver(
        `the sender's envelope under ${other}, correctly signed with a key of that scheme`,
        await shop.craft({ sender: home.other[suite], claimedSender: s.id, counter: 6, ts: t }),
        "UNSUPPORTED",
      );
      script.deliver(
        "unsupported is decided before trust: an unknown sender with v = 2",
        patched(await shop.seal({ sender: home.unknown[suite], counter: 1, ts: t }), { v: 2 }),
        "UNSUPPORTED",
      );
      script.deliver("the untouched envelope is accepted", good, "accept");
    },
  },
  {
    name: "trust",
    title: "unknown senders, revoked senders, a sender of a suite this receiver does not implement",
    covers: ["§6 check 3", "§10"],
    body: async (home, suite, shop, script) => {
      const s = home.senders[suite];
      const t = script.now;
      script.deliver(
        "a sender not in the trust list",
        await shop.seal({ sender: home.unknown[suite], counter: 1, ts: t }),
        "UNKNOWN_SENDER",
      );
      script.deliver(
        "an unknown sender with a bad signature is still UNKNOWN_SENDER",
        patched(await shop.seal({ sender: home.unknown[suite], counter: 2, ts: t }), {
          sig: toBase64Url(new Uint8Array(64)),
        }),
        "UNKNOWN_SENDER",
      );
      script.deliver(
        "an unknown sender with a stale ts is still UNKNOWN_SENDER (trust before time)",
        await shop.seal({ sender: home.unknown[suite], counter: 3, ts: t - 10 * W }),
        "UNKNOWN_SENDER",
      );
      script.deliver(
        "sender ids are case-sensitive",
        await shop.seal({ sender: s, claimedSender: s.id.toUpperCase(), counter: 1, ts: t }),
        "UNKNOWN_SENDER",
      );
      script.deliver(
        `a listed sender whose suite (${FUTURE_SUITE}) this receiver does not implement counts as absent`,
        await shop.seal({ sender: home.future, counter: 1, ts: t }),
        "UNKNOWN_SENDER",
      );
      script.deliver(
        "a revoked sender, correctly signed",
        await shop.seal({ sender: home.revoked[suite], counter: 1, ts: t }),
        "REVOKED",
      );
      script.deliver(
        "a revoked sender with a bad signature is still REVOKED",
        patched(await shop.seal({ sender: home.revoked[suite], counter: 2, ts: t }), {
          ciphertext: toBase64Url(new Uint8Array(40)),
        }),
        "REVOKED",
      );
      const first = await shop.seal({ sender: s, counter: 1, ts: t });
      script.deliver("the active sender is accepted", first, "accept");
      script.now += 1000;
      script.restart(`${s.id} is revoked in trust.json; the receiver restarts`, revokedTrust(home, s.id));
      script.deliver(
        "its next envelope is REVOKED",
        await shop.seal({ sender: s, counter: 2, ts: script.now }),
        "REVOKED",
      );
      script.deliver("a copy of its accepted envelope is REVOKED too (check 3 before 6)", first, "REVOKED");
    },
  },
  {
    name: "time",
    title: "the timestamp window, both edges, and its place in the order",
    covers: ["§6 check 4", "§8.1"],
    body: async (home, suite, shop, script) => {
      const s = home.senders[suite];
      const t = script.now;
      script.deliver("ts = now - W - 1", await shop.seal({ sender: s, counter: 1, ts: t - W - 1 }), "STALE");
      script.deliver("ts = now + W + 1", await shop.seal({ sender: s, counter: 2, ts: t + W + 1 }), "FUTURE");
      script.deliver("ts = 0", await shop.seal({ sender: s, counter: 3, ts: 0 }), "STALE");
      script.deliver("ts = 2^53 - 1", await shop.seal({ sender: s, counter: 4, ts: MAX_SAFE }), "FUTURE");
      script.deliver(
        "a stale envelope with a bad signature is STALE (time before signature)",
        patched(await shop.seal({ sender: s, counter: 5, ts: t - 2 * W }), {
          ciphertext: toBase64Url(new Uint8Array(40)),
        }),
        "STALE",
      );
      const late = await shop.seal({ sender: s, counter: 6, ts: t });
      script.now = t + W + 1;
      script.deliver("an authentic envelope that waited W + 1 ms is STALE", late, "STALE");
      script.deliver(
        "nothing was consumed: counter 1 at the receiver's new time is accepted",
        await shop.seal({ sender: s, counter: 1, ts: script.now }),
        "accept",
      );
    },
  },
  {
    name: "signature",
    title: "anything not signed by the registered key, or moved to another topic, is BAD_SIGNATURE",
    covers: ["§4.1", "§6 check 5", "§8.2 rule 6"],
    body: async (home, suite, shop, script) => {
      const s = home.senders[suite];
      const t = script.now;
      const good = await shop.seal({ sender: s, counter: 10, ts: t });
      const json = jsonOf(good);
      const sigLength = fromBase64Url(json.sig).length;
      script.deliver(
        "a signature of zeros",
        patched(good, { sig: toBase64Url(new Uint8Array(sigLength)) }),
        "BAD_SIGNATURE",
      );
      script.deliver(
        "the envelope delivered on another topic (the topic is signed)",
        good,
        "BAD_SIGNATURE",
        { topic: "home/secure/garage" },
      );
      script.deliver("counter changed after signing", patched(good, { counter: 11 }), "BAD_SIGNATURE");
      script.deliver("ts changed after signing", patched(good, { ts: t + 1 }), "BAD_SIGNATURE");
      script.deliver("msg_id changed after signing", patched(good, { msg_id: "other" }), "BAD_SIGNATURE");
      const flipped = fromBase64Url(json.ciphertext);
      flipped[0] ^= 1;
      script.deliver(
        "one ciphertext bit flipped after signing (the signature fails before any decryption)",
        patched(good, { ciphertext: toBase64Url(flipped) }),
        "BAD_SIGNATURE",
      );
      const otherKey = await shop.sessionKey();
      script.deliver(
        "wrapped_key swapped for another valid wrap after signing",
        patched(good, { wrapped_key: toBase64Url(otherKey.wrapped) }),
        "BAD_SIGNATURE",
      );
      script.deliver(
        "an envelope signed with this key for another sender id, the sender field rewritten (the id is signed)",
        patched(await shop.seal({ sender: home.revoked[suite], counter: 10, ts: t }), { sender: s.id }),
        "BAD_SIGNATURE",
      );
      script.deliver(
        suite === SUITE_DSA
          ? "signed with the other scheme's key: an Ed25519 signature (64 bytes) fits the DSA range, fails to verify"
          : "signed with the other scheme's key: a DER DSA signature is not 64 bytes, so the shape check fails",
        await shop.craft({ sender: s, counter: 10, ts: t }, { signer: home.other[suite].signingKey }),
        suite === SUITE_DSA ? "BAD_SIGNATURE" : "MALFORMED",
      );
      script.deliver("the untouched envelope is accepted", good, "accept");
      script.deliver(
        "a replayed counter with a bad signature is BAD_SIGNATURE, not REPLAY",
        patched(good, { sig: toBase64Url(new Uint8Array(sigLength)) }),
        "BAD_SIGNATURE",
      );
    },
  },
  {
    name: "replay",
    title: "the counter rule, duplicates of remembered envelopes, and a restart with the replay store",
    covers: ["§6 check 6", "§8.2 rules 1, 4, 5", "§6 verdicts"],
    replayState: (home, suite) => ({ [home.senders[suite].id]: 6 }),
    body: async (home, suite, shop, script) => {
      const s = home.senders[suite];
      const t = script.now;
      script.deliver(
        "counter 6 = the highest already durable before start",
        await shop.seal({ sender: s, counter: 6, ts: t }),
        "REPLAY",
      );
      const e7 = await shop.seal({ sender: s, counter: 7, ts: t });
      const e8 = await shop.seal({ sender: s, counter: 8, ts: t });
      const e9 = await shop.seal({ sender: s, counter: 9, ts: t });
      script.deliver("counter 7", e7, "accept");
      script.deliver("counter 8", e8, "accept");
      script.deliver("the same bytes again: a QoS 1 redelivery", e8, "duplicate");
      script.deliver("counter 9", e9, "accept");
      script.deliver("a copy of an older accepted envelope still in the duplicate memory", e7, "duplicate");
      script.deliver(
        "counter 8 sealed again (another nonce, so other bytes): REPLAY",
        await shop.seal({ sender: s, counter: 8, ts: t }),
        "REPLAY",
      );
      script.deliver(
        "a fresh envelope with a lower counter (overtaken, §8.2 rule 5)",
        await shop.seal({ sender: s, counter: 5, ts: t }),
        "REPLAY",
      );
      script.deliver(
        "the other sender's counters are its own",
        await shop.seal({ sender: home.other[suite], counter: 1, ts: t }),
        "accept",
      );
      script.now += 1000;
      script.restart("the receiver restarts: the replay state is durable, the duplicate memory is not");
      script.deliver("a copy of counter 9, accepted before the restart: REPLAY", e9, "REPLAY");
      const e10 = await shop.seal({ sender: s, counter: 10, ts: script.now });
      script.deliver("counter 10", e10, "accept");
      script.deliver("its copy is a duplicate again", e10, "duplicate");
      script.now += W + 1;
      script.deliver("the copy once it is outside the window: STALE, not duplicate", e10, "STALE");
    },
  },
  {
    name: "crypto",
    title: "BAD_KEY and BAD_CIPHERTEXT from a holder of the signing key, and what they leave behind",
    covers: ["§4.2", "§6 checks 7 and 8", "§7", "§8.2 rule 1"],
    body: async (home, suite, shop, script) => {
      const s = home.senders[suite];
      const t = script.now;
      // Every refused envelope has a counter of its own: a receiver may record the counter while it
      // decrypts (§8.2 rule 1), and then a refusal at check 7 or 8 has consumed it.
      const garbage = shop.random(256);
      garbage[0] = 0; // below the modulus, so it is a ciphertext RSA can process, and OAEP decoding fails
      script.deliver(
        "a signed envelope whose wrapped_key is 256 random bytes",
        await shop.craft({ sender: s, counter: 1, ts: t }, { wrapped: garbage }),
        "BAD_KEY",
      );
      script.deliver(
        "a signed envelope whose wrapped_key is a valid OAEP wrap of a 16-byte key",
        await shop.craft({ sender: s, counter: 2, ts: t }, {
          wrapped: await shop.wrapOther(shop.random(16)),
        }),
        "BAD_KEY",
      );
      script.deliver(
        "a signed envelope encrypted under another key than the wrapped one",
        await shop.craft({ sender: s, counter: 3, ts: t }, { encryptKey: shop.random(32) }),
        "BAD_CIPHERTEXT",
      );
      script.deliver(
        "a signed envelope whose ciphertext was made for another topic (the AAD binds it)",
        await shop.craft({ sender: s, counter: 4, ts: t }, { aadTopic: "home/secure/garage" }),
        "BAD_CIPHERTEXT",
      );
      const epoch = await shop.epoch(3);
      const wrapped = epoch.wrappedKey;
      script.deliver(
        "an epoch key first seen with a ciphertext that fails: BAD_CIPHERTEXT (the key is not cached)",
        await shop.craft({ sender: s, counter: 5, ts: t }, { wrapped, encryptKey: shop.random(32) }),
        "BAD_CIPHERTEXT",
      );
      script.deliver(
        "counter 6, authentic under that epoch key: accepted (the failure above did not cache the key wrongly)",
        await shop.seal({ sender: s, counter: 6, ts: t, epoch }),
        "accept",
      );
      script.deliver(
        "the same epoch key, counter 7",
        await shop.seal({ sender: s, counter: 7, ts: t, epoch }),
        "accept",
      );
      script.deliver(
        "the other sender signs a copy of this sender's wrapped_key without knowing the key: BAD_CIPHERTEXT",
        await shop.craft({ sender: home.other[suite], counter: 1, ts: t }, { wrapped }),
        "BAD_CIPHERTEXT",
      );
    },
  },
  {
    name: "reading",
    title: "the decrypted plaintext must be a door reading of this very envelope (§9)",
    covers: ["§6 check 9", "§9"],
    body: async (home, suite, shop, script) => {
      const s = home.senders[suite];
      const t = script.now;
      // Every refused envelope has a counter of its own: a receiver may record the counter while it
      // decrypts and checks the reading (§8.2 rule 1), and then a refusal at check 9 has consumed it.
      let c = 2;
      const bad = async (
        note: string,
        spec: Partial<EnvelopeSpec> | ((c: number, id: string) => Partial<EnvelopeSpec>),
      ) => {
        c++;
        const fields = typeof spec === "function" ? spec(c, `${s.id}-${c}`) : spec;
        script.deliver(note, await shop.seal({ sender: s, counter: c, ts: t, ...fields }), "BAD_READING");
      };
      await bad("plaintext not JSON", { plaintext: "door open" });
      await bad("plaintext not UTF-8", { plaintext: new Uint8Array([0x7b, 0xc3, 0x28, 0x7d]) });
      await bad("empty plaintext", { plaintext: new Uint8Array(0) });
      await bad("a byte-order mark before the reading", (c, id) => ({
        plaintext: new Uint8Array([0xef, 0xbb, 0xbf, ...utf8Encode(readingText(s.id, c, t, id))]),
      }));
      await bad("a JSON array", (c, id) => ({ plaintext: `[${readingText(s.id, c, t, id)}]` }));
      await bad("an extra member", { reading: { battery: 90 } });
      await bad("a missing member (status)", { reading: { status: undefined } });
      await bad("a member twice (event)", (c, id) => ({
        plaintext: readingText(s.id, c, t, id).replace('"event":"open"', '"event":"closed","event":"open"'),
      }));
      await bad("sensor_id is another sender", { reading: { sensor_id: home.other[suite].id } });
      await bad("counter differs from the envelope's", (c) => ({ reading: { counter: c + 1 } }));
      await bad("counter as a string", (c) => ({ reading: { counter: String(c) } }));
      await bad("msg_id differs from the envelope's", { reading: { msg_id: "other" } });
      await bad('event "ajar"', { reading: { event: "ajar" } });
      await bad("timestamp as a string", { reading: { timestamp: String(t) } });
      await bad("timestamp with a fraction", { reading: { timestamp: t + 0.5 } });
      await bad("timestamp below 0", { reading: { timestamp: -1 } });
      await bad("temperature above 150", { reading: { temperature: 150.5 } });
      await bad("temperature below -100", { reading: { temperature: -100.1 } });
      await bad("temperature as a string", { reading: { temperature: "21.5" } });
      await bad("temperature null", { reading: { temperature: null } });
      await bad("empty status", { reading: { status: "" } });
      await bad("status of 33 characters", { reading: { status: "s".repeat(33) } });
      await bad("status with a space", { reading: { status: "all ok" } });
      script.deliver(
        "the next counter with a valid reading: accepted",
        await shop.seal({ sender: s, counter: c + 1, ts: t }),
        "accept",
      );
    },
  },
  {
    name: "receiver",
    title: "the receiver's own refusals: a full queue, another device's topic, a sender over its rate, " +
      "and a replay state that cannot be written",
    covers: ["§6 checks 0, 0b, 9b and 10", "§8.2 rules 1 and 2"],
    body: async (home, suite, shop, script) => {
      const s = home.senders[suite];
      const t = script.now;
      const e1 = await shop.seal({ sender: s, counter: 1, ts: t });
      script.deliver("the input queue is full", e1, "OVERLOADED", { overloaded: true });
      const otherDevice = "home/secure/another-device/door";
      script.deliver(
        "a valid envelope sealed for, and delivered on, another device's topic (home/secure/<id>/door)",
        await shop.seal({ sender: s, counter: 1, ts: t, topic: otherDevice }),
        "TOPIC_MISMATCH",
        { topic: otherDevice },
      );
      script.deliver(
        "the sender has used up its rate: not acted on, counter not consumed",
        e1,
        "RATE_LIMITED",
        {
          rateExceeded: true,
        },
      );
      script.deliver("the counter cannot be recorded: not acted on", e1, "STATE_WRITE_FAILED", {
        stateWriteFails: true,
      });
      script.deliver(
        "the same envelope once the state is writable: accepted (a failed write consumed nothing)",
        e1,
        "accept",
      );
      script.deliver("and now it is a duplicate", e1, "duplicate");
    },
  },
  {
    name: "epochs",
    title: "one epoch key for several envelopes, across a restart that empties the key cache",
    covers: ["§5", "§7", "§8.2 rule 1"],
    body: async (home, suite, shop, script) => {
      const s = home.senders[suite];
      const epoch = await shop.epoch(4);
      for (const counter of [1, 2]) {
        script.deliver(
          `epoch message ${counter} of 4`,
          await shop.seal({ sender: s, counter, ts: script.now, epoch }),
          "accept",
        );
      }
      script.now += 1000;
      script.restart("the receiver restarts: its key cache is empty, the epoch key must be unwrapped again");
      for (const counter of [3, 4]) {
        script.deliver(
          `epoch message ${counter} of 4`,
          await shop.seal({ sender: s, counter, ts: script.now, epoch }),
          "accept",
        );
      }
      script.deliver(
        "a new epoch key for message 5",
        await shop.seal({ sender: s, counter: 5, ts: script.now }),
        "accept",
      );
    },
  },
];

/** One trust-list case of `trust_lists.json`: the file's exact text and whether a receiver may load it. */
export interface TrustListCase {
  /** What the case shows. */
  readonly note: string;
  /** The whole `trust.json` text. */
  readonly text: string;
  /** `valid`: the receiver loads it; `invalid`: it refuses to start (§10). */
  readonly expect: "valid" | "invalid";
}

/** The §10 cases: whole trust.json texts a receiver must load, and ones it must refuse. */
function trustListCases(home: Home): TrustListCase[] {
  const pem = home.keys.senders[SUITE_ED25519].publicKeyPem;
  const entry = { suite: SUITE_ED25519, public_key: pem, status: "active" };
  const file = (senders: unknown, extra: Record<string, unknown> = {}) =>
    JSON.stringify({ version: 1, senders, ...extra });
  const withEntry = (patch: Record<string, unknown>) => file({ "sensor-1": { ...entry, ...patch } });
  const dsaLines = home.keys.senders[SUITE_DSA].publicKeyPem.trimEnd().split("\n");
  const valid = (note: string, text: string): TrustListCase => ({ note, text, expect: "valid" });
  const invalid = (note: string, text: string): TrustListCase => ({ note, text, expect: "invalid" });
  return [
    valid(
      "the kit's trust list, pretty-printed as keygen writes it",
      JSON.stringify(home.trust, null, 2) + "\n",
    ),
    valid("compact, no trailing newline", JSON.stringify(home.trust)),
    valid("no senders", file({})),
    valid("a revoked sender", withEntry({ status: "revoked" })),
    valid("a sender id that is a property name in many languages", file({ "__proto__": entry })),
    valid(
      "a suite this receiver does not implement (the sender counts as unknown)",
      withEntry({ suite: FUTURE_SUITE }),
    ),
    valid("the PEM without its final LF", withEntry({ public_key: pem.trimEnd() })),
    invalid("not JSON", "{version: 1}"),
    invalid("a JSON array", `[${file({})}]`),
    invalid("no version", JSON.stringify({ senders: {} })),
    invalid("version 2", JSON.stringify({ version: 2, senders: {} })),
    invalid('version "1"', JSON.stringify({ version: "1", senders: {} })),
    invalid("an extra top-level member", file({}, { comment: "x" })),
    invalid("senders as an array", file([])),
    invalid("a sender id with '/'", file({ "a/b": entry })),
    invalid("an empty sender id", file({ "": entry })),
    invalid("a sender id of 65 characters", file({ ["s".repeat(65)]: entry })),
    invalid("an entry that is not an object", file({ "sensor-1": "active" })),
    invalid("an entry without status", withEntry({ status: undefined })),
    invalid("an entry with an extra member", withEntry({ note: "x" })),
    invalid('status "disabled"', withEntry({ status: "disabled" })),
    invalid("an empty suite", withEntry({ suite: "" })),
    invalid("a suite with a space", withEntry({ suite: "rsa oaep" })),
    invalid("public_key not a string", withEntry({ public_key: 1 })),
    invalid("public_key with CRLF line ends", withEntry({ public_key: pem.replaceAll("\n", "\r\n") })),
    invalid("public_key with text after the PEM block", withEntry({ public_key: pem + "trailer\n" })),
    invalid("public_key with two final LFs", withEntry({ public_key: pem.trimEnd() + "\n\n" })),
    invalid(
      "public_key labelled PRIVATE KEY",
      withEntry({ public_key: pem.replaceAll("PUBLIC KEY", "PRIVATE KEY") }),
    ),
    invalid(
      "a DSA public_key with its base64 in one long line",
      withEntry({
        suite: SUITE_DSA,
        public_key: [dsaLines[0], dsaLines.slice(1, -1).join(""), dsaLines.at(-1)].join("\n") + "\n",
      }),
    ),
  ];
}

function readingText(sender: string, counter: number, ts: number, msgId: string): string {
  return JSON.stringify({
    sensor_id: sender,
    event: "open",
    timestamp: ts,
    counter,
    temperature: 21.5,
    status: "ok",
    msg_id: msgId,
  });
}

/**
 * Generates every file of the kit. `wraps` supplies (and records) the RSA-OAEP wraps.
 * @example
 * ```ts
 * const files = await generateKit(book);
 * files.get("scenarios/dsa-replay.json");
 * ```
 */
export async function generateKit(wraps: WrapBook, keys: FixtureKeys): Promise<KitFiles> {
  const home = buildHome(keys);
  const files: KitFiles = new Map();
  files.set(RECIPIENT_KEY_FILE, await readEnvelopeFixture("rsa_private.pem"));
  for (const suite of [SUITE_DSA, SUITE_ED25519] as const) {
    for (const def of SCENARIOS) {
      const name = `${SHORT[suite]}-${def.name}`;
      const script = new Script();
      await def.body(home, suite, new Workshop(name, wraps), script);
      const scenario: Scenario = {
        format: KIT_FORMAT,
        name,
        suite,
        title: def.title,
        covers: def.covers,
        receiver: {
          recipient_private_key: RECIPIENT_KEY_FILE,
          timestamp_window_ms: W,
          trust: home.trust,
          replay_state: def.replayState?.(home, suite) ?? {},
        },
        steps: script.steps,
      };
      files.set(`scenarios/${name}.json`, JSON.stringify(scenario, null, 2) + "\n");
    }
  }
  files.set(TRUST_LISTS_FILE, JSON.stringify({ cases: trustListCases(home) }, null, 2) + "\n");
  files.set(WRAPS_FILE, wraps.toJson());
  return files;
}

/**
 * Reads the committed wraps file (an empty book when there is none yet).
 * @example
 * ```ts
 * const book = await committedWraps(keys.rsaPublic, false);
 * ```
 */
export async function committedWraps(rsaPublic: CryptoKey, allowNew: boolean): Promise<WrapBook> {
  let wraps: Record<string, string> = {};
  try {
    wraps = JSON.parse(await Deno.readTextFile(new URL(WRAPS_FILE, KIT_DIR))).wraps;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return new WrapBook(wraps, rsaPublic, allowNew);
}

/**
 * The committed files that differ from `files`, and committed scenario files `files` does not have.
 * @example
 * ```ts
 * const stale = await differences(await generateKit(book, keys)); // [] when up to date
 * ```
 */
export async function differences(files: KitFiles): Promise<string[]> {
  const out: string[] = [];
  for (const [path, text] of files) {
    let committed: string | undefined;
    try {
      committed = await Deno.readTextFile(new URL(path, KIT_DIR));
    } catch {
      committed = undefined;
    }
    if (committed !== text) out.push(path);
  }
  for await (const entry of Deno.readDir(SCENARIO_DIR)) {
    if (!files.has(`scenarios/${entry.name}`)) out.push(`scenarios/${entry.name} (not generated)`);
  }
  return out;
}

if (import.meta.main) {
  const check = Deno.args.includes("--check");
  const keys = await loadEnvelopeFixtureKeys();
  const book = await committedWraps(keys.rsaPublic, !check);
  const files = await generateKit(book, keys);
  if (check) {
    const stale = await differences(files);
    if (stale.length > 0) {
      console.error(`conformance kit is out of date (${stale.join(", ")}): run \`deno task conformance\``);
      Deno.exit(1);
    }
    console.log(`conformance kit is up to date: ${files.size - 3} scenarios`);
  } else {
    await Deno.mkdir(SCENARIO_DIR, { recursive: true });
    for await (const entry of Deno.readDir(SCENARIO_DIR)) {
      if (!files.has(`scenarios/${entry.name}`)) await Deno.remove(new URL(entry.name, SCENARIO_DIR));
    }
    for (const [path, text] of files) await Deno.writeTextFile(new URL(path, KIT_DIR), text);
    console.log(
      `wrote ${files.size - 3} scenarios to ${SCENARIO_DIR.pathname}${book.added ? " (new wraps)" : ""}`,
    );
  }
}
