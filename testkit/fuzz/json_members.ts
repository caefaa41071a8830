/**
 * An envelope as the list of its members' raw JSON text, so JSON-level mutations keep duplicates, order and
 * spelling that a parsed object would lose.
 * @module
 */

import type { MutationContext } from "./case.ts";
import type { FuzzRng } from "./rng.ts";

const dec = new TextDecoder();

/** One member of a JSON object as raw text. */
export interface Member {
  /** Raw JSON text of the key, quotes included. */
  key: string;
  /** Raw JSON text of the value. */
  value: string;
}

/**
 * A string as JSON text, quotes included.
 * @example
 * ```ts
 * q("sig"); // "\"sig\""
 * ```
 */
export const q = (s: string): string => JSON.stringify(s);

/**
 * The members of a JSON object, or undefined when the bytes are not one. Duplicate keys collapse here, as in
 * `JSON.parse`; the mutations add them back on purpose.
 * @example
 * ```ts
 * parseMembers(utf8Encode('{"v":1}')); // [{ key: '"v"', value: "1" }]
 * ```
 */
export function parseMembers(bytes: Uint8Array): Member[] | undefined {
  let value: unknown;
  try {
    value = JSON.parse(dec.decode(bytes));
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  return Object.entries(value).map(([k, v]) => ({ key: q(k), value: JSON.stringify(v) }));
}

/**
 * The members as a JSON object, with `ws(slot)` between the tokens (slot 4i to 4i+3 around member i).
 * @example
 * ```ts
 * serializeMembers([{ key: '"v"', value: "1" }]); // '{"v":1}'
 * ```
 */
export function serializeMembers(
  members: readonly Member[],
  ws: (slot: number) => string = () => "",
): string {
  let slot = 0;
  const parts = members.map((m) => `${ws(slot++)}${m.key}${ws(slot++)}:${ws(slot++)}${m.value}${ws(slot++)}`);
  return `{${parts.join(",")}${members.length === 0 ? ws(slot) : ""}}`;
}

/**
 * Position of the member named `field`, or -1.
 * @example
 * ```ts
 * memberIndex(members, "sig");
 * ```
 */
export function memberIndex(members: readonly Member[], field: string): number {
  return members.findIndex((m) => m.key === q(field));
}

/** The envelope's number fields. */
export const NUMERIC_FIELDS = ["v", "counter", "ts"] as const;
/** The envelope's text fields. */
export const STRING_FIELDS = ["suite", "sender", "msg_id"] as const;
/** The envelope's base64url fields. */
export const BINARY_FIELDS = ["wrapped_key", "nonce", "ciphertext", "sig"] as const;

/** A JSON-level mutation: changes `members` in place and says what it did. */
export type JsonMutation = (ctx: MutationContext, members: Member[]) => string;

/**
 * Sets the member named `field` to the raw JSON `value`, adding it last when absent.
 * @example
 * ```ts
 * setField(members, "counter", "-1");
 * ```
 */
export function setField(members: Member[], field: string, value: string): void {
  const i = memberIndex(members, field);
  if (i >= 0) members[i] = { key: members[i].key, value };
  else members.push({ key: q(field), value });
}

/**
 * A JSON value nested `depth` arrays or objects deep.
 * @example
 * ```ts
 * nested(rng, 2); // e.g. "[[1]]"
 * ```
 */
export function nested(rng: FuzzRng, depth: number): string {
  const [open, close] = rng.chance(0.5) ? ["[", "]"] : ['{"a":', "}"];
  return open.repeat(depth) + rng.pick(["1", "null", '"x"', "[]"]) + close.repeat(depth);
}
