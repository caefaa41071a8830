/**
 * The mutation kinds with their weights, and the draw of the next case.
 * @module
 */

import { BYTE_MUTATIONS, splice } from "./byte_mutations.ts";
import { type FuzzCase, type GeneratedCase, type MutationContext, unsigned } from "./case.ts";
import { FUZZ_SENDER_REVOKED, type FuzzHome } from "./home.ts";
import { parseMembers, serializeMembers } from "./json_members.ts";
import { JSON_MUTATIONS } from "./json_mutations.ts";
import type { FuzzRng } from "./rng.ts";
import { signedBadCiphertext, signedBadKey, signedPlaintext, signedRebind } from "./signed_cases.ts";
import { havoc, randomInput, topicMutation, whitespaced } from "./whole_inputs.ts";

const enc = new TextEncoder();

/** Which targets a mutation kind is meaningful for. */
type Scope = "all" | "actuator";

interface MutationKind {
  readonly weight: number;
  readonly scope: Scope;
  readonly make: (ctx: MutationContext) => GeneratedCase | Promise<GeneratedCase>;
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

/**
 * Every mutation kind with its weight, in draw order (a seed's cases depend on it).
 * @example
 * ```ts
 * const generated = await MUTATION_KINDS["signed-bad-key"].make(ctx); // generated.expect === "BAD_KEY"
 * ```
 */
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
