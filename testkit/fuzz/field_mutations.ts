/**
 * JSON mutations of an envelope's members as a whole: removed, duplicated, reordered, unknown, renamed,
 * prototype-named, or grafted from another envelope.
 * @module
 */

import { ENVELOPE_FIELDS } from "../../crypto/envelope.ts";
import { type JsonMutation, parseMembers, q, setField } from "./json_members.ts";

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

/**
 * The mutations of whole members, by name.
 * @example
 * ```ts
 * const detail = FIELD_MUTATIONS["json-field-remove"](ctx, members); // e.g. 'removed "sig"'
 * ```
 */
export const FIELD_MUTATIONS: Readonly<Record<string, JsonMutation>> = {
  "json-field-remove": fieldRemove,
  "json-field-duplicate": fieldDuplicate,
  "json-field-reorder": fieldReorder,
  "json-field-unknown": fieldUnknown,
  "json-field-rename": fieldRename,
  "json-proto-key": protoKey,
  "json-graft": graft,
};
