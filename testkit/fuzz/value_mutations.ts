/**
 * JSON mutations of one member's value: wrong types, edge numbers, deep nesting, escapes, base64 alphabet and
 * length, and hostile strings in the string fields.
 * @module
 */

import { fromBase64Url, toBase64, toBase64Url } from "../../crypto/codec.ts";
import {
  MAX_PLAINTEXT_BYTES,
  SUITE_DSA,
  SUITE_ED25519,
  TAG_BYTES,
  TIMESTAMP_WINDOW_MS,
} from "../../crypto/envelope.ts";
import { concat } from "./byte_mutations.ts";
import { FUZZ_NOW_MS, FUZZ_SENDER_DSA, FUZZ_SENDER_ED, FUZZ_SENDER_REVOKED } from "./home.ts";
import {
  BINARY_FIELDS,
  type JsonMutation,
  memberIndex,
  nested,
  NUMERIC_FIELDS,
  q,
  setField,
  STRING_FIELDS,
} from "./json_members.ts";

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

const deepNesting: JsonMutation = ({ rng }, members) => {
  const depth = rng.pick([2, 16, 256, 1024, 2500, 20_000]);
  const i = rng.int(members.length);
  members[i] = { key: members[i].key, value: nested(rng, depth) };
  return `${members[i].key} nested ${depth} deep`;
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

/**
 * The mutations of one member's value, by name.
 * @example
 * ```ts
 * const detail = VALUE_MUTATIONS["json-number-edge"](ctx, members); // e.g. "counter = -0"
 * ```
 */
export const VALUE_MUTATIONS: Readonly<Record<string, JsonMutation>> = {
  "json-type-change": typeChange,
  "json-number-edge": numberEdge,
  "json-nan-string": nanString,
  "json-deep-nesting": deepNesting,
  "json-unicode-escape": unicodeEscape,
  "json-b64-alphabet": base64Alphabet,
  "json-b64-length": base64Length,
  "json-string-field": stringField,
};
