/**
 * The rules of docs/METRICS.md for one attack key, as a pure function: how its actions, rejections and
 * duplicates split between the legit publications, the attack classes that sent it, and nobody.
 * @module
 */

import type { DigestEntry } from "./attack_keys.ts";
import { countOf, takeCodes } from "./counts.ts";
import { CODE_DUPLICATE, CODE_NOT_SEEN } from "./types.ts";

/** What one attack class's copies of a key came to. */
export interface AttackShare {
  attackClass: string;
  /** Copies acted on beyond the legit publications. */
  accepted: number;
  /** Why the other copies were blocked, in the order the rules hand them out. */
  codes: [string, number][];
}

/** How one attack key's reactions split. */
export interface KeyResolution {
  legit: {
    sent: number;
    accepted: number;
    falselyRejected: number;
    notSeen: number;
    /** Legit redeliveries: the `duplicate` records no attack copy took. */
    duplicates: number;
    rejectedByCode: [string, number][];
  };
  /** One share per class of `entry.attacks`, in that order. */
  attacks: AttackShare[];
  /** Reactions beyond the publications and the attack copies: no known sender. */
  unattributed: { actions: number; rejected: [string, number][] };
}

/**
 * Splits one attack key's actions and rejections between the legit publications and the attack copies.
 * Legit publications have the first claim on actions (one each); actions beyond the publication count are
 * attack successes (docs/LOG.md's rule), handed to the classes in first-seen order, at most their copies
 * each. Rejections go first to legit publications left unacted (their copy arrived first), the rest to the
 * attack copies. Attack copies still unaccounted for take the key's `duplicate` records (code DUPLICATE:
 * taken for a redelivery, not acted on), and the rest were never seen (NOT_SEEN). The duplicates left over
 * are legit redeliveries.
 * @example
 * ```ts
 * // A message published once and acted on twice, replayed once: the replay succeeded.
 * const r = resolveAttackKey({
 *   published: 1, actions: 2, duplicates: 0, pending: [], rejections: [], attacks: [["replay", 1]],
 * });
 * r.attacks[0].accepted; // 1
 * r.legit.accepted; // 1
 * ```
 */
export function resolveAttackKey(entry: DigestEntry): KeyResolution {
  const legitActed = Math.min(entry.actions, entry.published);
  const legitRejected = Math.min(entry.published - legitActed, countOf(entry.rejections));
  const rejectedByCode: [string, number][] = [];
  let rejections = takeCodes(entry.rejections, legitRejected, (code, n) => rejectedByCode.push([code, n]));
  let actions = entry.actions - legitActed;
  let duplicates = entry.duplicates;
  const attacks = entry.attacks.map(([attackClass, sent]): AttackShare => {
    const accepted = Math.min(sent, actions);
    actions -= accepted;
    let blocked = sent - accepted;
    const codes: [string, number][] = [];
    const rejected = Math.min(blocked, countOf(rejections));
    rejections = takeCodes(rejections, rejected, (code, n) => codes.push([code, n]));
    blocked -= rejected;
    const deduplicated = Math.min(blocked, duplicates);
    if (deduplicated > 0) codes.push([CODE_DUPLICATE, deduplicated]);
    duplicates -= deduplicated;
    blocked -= deduplicated;
    if (blocked > 0) codes.push([CODE_NOT_SEEN, blocked]);
    return { attackClass, accepted, codes };
  });
  return {
    legit: {
      sent: entry.published,
      accepted: legitActed,
      falselyRejected: legitRejected,
      notSeen: entry.published - legitActed - legitRejected,
      duplicates,
      rejectedByCode,
    },
    attacks,
    unattributed: { actions, rejected: rejections },
  };
}
