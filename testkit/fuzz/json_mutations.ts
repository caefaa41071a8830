/**
 * Every JSON-level mutation by name, in the order cases draw them.
 * @module
 */

import { FIELD_MUTATIONS } from "./field_mutations.ts";
import type { JsonMutation } from "./json_members.ts";
import { sigMalleate } from "./signature_malleation.ts";
import { VALUE_MUTATIONS } from "./value_mutations.ts";

/** The order cases draw the mutations in: a seed's cases depend on it, so it only ever grows at the end. */
const DRAW_ORDER = [
  "json-field-remove",
  "json-field-duplicate",
  "json-field-reorder",
  "json-field-unknown",
  "json-field-rename",
  "json-type-change",
  "json-number-edge",
  "json-nan-string",
  "json-deep-nesting",
  "json-proto-key",
  "json-unicode-escape",
  "json-b64-alphabet",
  "json-b64-length",
  "json-string-field",
  "json-graft",
  "sig-malleate",
];

const BY_NAME: Readonly<Record<string, JsonMutation>> = {
  ...FIELD_MUTATIONS,
  ...VALUE_MUTATIONS,
  "sig-malleate": sigMalleate,
};

/**
 * Every JSON-level mutation by name, in draw order.
 * @example
 * ```ts
 * const members = parseMembers(seed.bytes)!;
 * const detail = JSON_MUTATIONS["json-graft"](ctx, members);
 * ```
 */
export const JSON_MUTATIONS: Readonly<Record<string, JsonMutation>> = Object.fromEntries(
  DRAW_ORDER.map((name) => [name, BY_NAME[name]]),
);
