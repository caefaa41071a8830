/**
 * The (digest, topic) join of pass 2 (docs/METRICS.md, "The join"): ties `published`, `action`, `rejected`,
 * `duplicate` and `attack_sent` records of one message together — exactly for attack keys, through the
 * publication filter for every other key — and resolves it into legit delivery, attack successes and
 * unattributed reactions.
 * @module
 */

import type { AttackDigests } from "./attack_keys.ts";
import { NameTable } from "./attack_keys.ts";
import type { AttackTally } from "./attack_outcomes.ts";
import { bump, bumpRecord, DISTINCT_KEYS_MAX } from "./counts.ts";
import { resolveAttackKey } from "./key_resolution.ts";
import { PhaseSketches } from "./latency.ts";
import type { PublicationFilter } from "./publication_filter.ts";
import type { LogSurvey } from "./survey.ts";
import { type AggregateMetrics, emptyDelivery, type LegitDelivery, type Phase } from "./types.ts";

/** Legit delivery of one phase for the digests no attacker sent, counted as records stream by. */
interface UnattackedTally {
  sent: number;
  accepted: number;
  falselyRejected: number;
  rejectedByCode: Record<string, number>;
}

/** Reactions of one phase that no publication or attack copy accounts for. */
interface LooseReactions {
  actions: number;
  rejected: Map<string, number>;
}

/**
 * The message join of pass 2, given the {@link LogSurvey} of pass 1. Feed it the digest-carrying records
 * in read order, then call {@link MessageJoin.finish} once.
 * @example
 * ```ts
 * const join = new MessageJoin(survey);
 * join.published("secure", "9f86d081884c7d65", "home/door");
 * join.action("secure", "9f86d081884c7d65", "home/door", 12.5, undefined);
 * join.finish(new AttackTally()).legit.secure.accepted; // 1
 * ```
 */
export class MessageJoin {
  /** Latency of actions matched to a publication, per phase. */
  readonly latency = new PhaseSketches();
  /** Latency of attack copies acted on, per phase (filled by {@link MessageJoin.finish}). */
  readonly attackLatency = new PhaseSketches();
  readonly #publications: PublicationFilter;
  readonly #attacked: Map<Phase, AttackDigests>;
  readonly #codeNames = new NameTable();
  readonly #classNames = new NameTable();
  /** Phases with a record that carries a digest (published, action, rejected, attack_sent), first-seen order. */
  readonly #digestPhases = new Set<Phase>();
  readonly #unattacked = new Map<Phase, UnattackedTally>();
  readonly #unattributed = new Map<Phase, LooseReactions>();
  /** Legit QoS 1 redeliveries (`duplicate` on a key no attacker sent), per phase. */
  readonly #duplicates = new Map<Phase, number>();

  constructor(survey: LogSurvey) {
    survey.seal();
    this.#publications = survey.publications;
    this.#attacked = survey.attacked;
  }

  /** A `published` record. */
  published(phase: Phase, digest: string, topic: string): void {
    const found = this.#attackRow(phase, digest, topic);
    if (!found) {
      this.#tally(phase).sent++;
      return;
    }
    const [table, row] = found;
    // Pass 1 put every publication in the filter; this key is counted exactly instead.
    this.#publications.remove(phase, digest, topic);
    table.published.increment(row);
    // An action read before its publication (logs given out of order) becomes legit now.
    while (table.hasPending(row) && table.matched.get(row) < table.published.get(row)) {
      table.matched.increment(row);
      this.latency.add(phase, table.shiftPending(row));
    }
  }

  /**
   * An `action` record; returns the epoch length to file its crypto stages under: the record's own, else
   * its publication's when the filter knows it.
   */
  action(
    phase: Phase,
    digest: string,
    topic: string,
    latency: number | undefined,
    epoch: number | undefined,
  ): number | undefined {
    const found = this.#attackRow(phase, digest, topic);
    if (found) {
      const [table, row] = found;
      table.actions.increment(row);
      // As before the two passes: the publication's epoch length when the publication was read first.
      if (table.published.get(row) > 0) epoch ??= this.#publications.epochOf(phase, digest, topic);
      if (table.matched.get(row) < table.published.get(row)) {
        table.matched.increment(row);
        if (latency !== undefined) this.latency.add(phase, latency);
      } else if (latency !== undefined) {
        table.pushPending(row, latency);
      }
    } else if (this.#publications.claim(phase, digest, topic)) {
      // No attacker sent these bytes on this topic, and a publication was left to claim: a legit action.
      this.#tally(phase).accepted++;
      if (latency !== undefined) this.latency.add(phase, latency);
      epoch ??= this.#publications.epochOf(phase, digest, topic);
    } else {
      this.#loose(phase).actions++;
    }
    return epoch;
  }

  /** A `rejected` record with its reason code. */
  rejected(phase: Phase, digest: string, topic: string, code: string): void {
    const found = this.#attackRow(phase, digest, topic);
    if (found) {
      found[0].addRejection(found[1], code, this.#codeNames);
    } else if (this.#publications.claim(phase, digest, topic)) {
      const tally = this.#tally(phase);
      tally.falselyRejected++;
      bumpRecord(tally.rejectedByCode, code, 1);
    } else {
      // Nobody logged sending these bytes (raw garbage published by hand, a foreign client).
      bump(this.#loose(phase).rejected, code, 1, DISTINCT_KEYS_MAX);
    }
  }

  /**
   * A `shed` summary: `count` messages refused unjudged, with no digest to join on, so they count as
   * unattributed refusals of their code.
   */
  shed(phase: Phase, code: string, count: number): void {
    bump(this.#loose(phase).rejected, code, count, DISTINCT_KEYS_MAX);
  }

  /**
   * A `duplicate` is not acted on. On an attack key it may be an attack copy the actuator took for a
   * redelivery (a verbatim replay of the message it just accepted), so it is kept for the final join;
   * elsewhere (or without a digest) it is a QoS 1 redelivery of a legit message.
   */
  duplicate(phase: Phase, digest: string | undefined, topic: string): void {
    const found = digest === undefined ? undefined : this.#attackRow(phase, digest, topic);
    if (found) found[0].duplicates.increment(found[1]);
    else this.#duplicates.set(phase, (this.#duplicates.get(phase) ?? 0) + 1);
  }

  /** An `attack_sent` of a class that has a counter; pass 1 must have seen it. */
  attackSent(phase: Phase, digest: string, topic: string, attackClass: string): void {
    const found = this.#attackRow(phase, digest, topic);
    if (!found) throw new Error("MetricsFold got an attack_sent its LogSurvey did not see");
    found[0].addAttack(found[1], attackClass, this.#classNames);
  }

  /**
   * Resolves every attack key into `attacks` and {@link MessageJoin.attackLatency}, and returns legit
   * delivery and unattributed reactions per phase. The join cannot be used afterwards.
   */
  finish(attacks: AttackTally): Pick<AggregateMetrics, "legit" | "unattributed"> {
    const legit: AggregateMetrics["legit"] = {};
    const unattributed: AggregateMetrics["unattributed"] = {};
    const phases = new Set<Phase>([...this.#digestPhases, ...attacks.phases(), ...this.#duplicates.keys()]);
    for (const phase of phases) {
      const delivery = this.#unattackedDelivery(phase);
      const loose = this.#loose(phase);
      const table = this.#attacked.get(phase);
      for (let row = 0; row < (table?.index.size ?? 0); row++) {
        this.#resolveRow(phase, table!, row, delivery, loose, attacks);
      }
      if (delivery.sent > 0 || delivery.duplicates > 0 || this.#digestPhases.has(phase)) {
        delivery.delivery_rate = delivery.sent > 0 ? delivery.accepted / delivery.sent : null;
        legit[phase] = delivery;
      }
      if (loose.actions > 0 || loose.rejected.size > 0) {
        unattributed[phase] = { actions: loose.actions, rejected: Object.fromEntries(loose.rejected) };
      }
    }
    return { legit, unattributed };
  }

  /** The exact row of an attack key; undefined for a (digest, topic) no `attack_sent` of this phase names. */
  #attackRow(phase: Phase, digest: string, topic: string): [AttackDigests, number] | undefined {
    this.#digestPhases.add(phase);
    const table = this.#attacked.get(phase);
    if (!table) return undefined;
    const row = table.index.find(digest, topic);
    return row < 0 ? undefined : [table, row];
  }

  #tally(phase: Phase): UnattackedTally {
    let tally = this.#unattacked.get(phase);
    if (!tally) {
      this.#unattacked.set(phase, tally = { sent: 0, accepted: 0, falselyRejected: 0, rejectedByCode: {} });
    }
    return tally;
  }

  #loose(phase: Phase): LooseReactions {
    let loose = this.#unattributed.get(phase);
    if (!loose) this.#unattributed.set(phase, loose = { actions: 0, rejected: new Map() });
    return loose;
  }

  /** The phase's delivery as counted while streaming: the keys no attacker sent, and legit redeliveries. */
  #unattackedDelivery(phase: Phase): LegitDelivery {
    const delivery = emptyDelivery(this.#duplicates.get(phase) ?? 0);
    const tally = this.#unattacked.get(phase);
    if (tally) {
      delivery.sent += tally.sent;
      delivery.accepted += tally.accepted;
      delivery.falsely_rejected += tally.falselyRejected;
      delivery.not_seen += tally.sent - tally.accepted - tally.falselyRejected;
      delivery.rejected_by_code = { ...tally.rejectedByCode };
    }
    return delivery;
  }

  /** Adds one attack key's resolution ({@link resolveAttackKey}) to the phase's figures. */
  #resolveRow(
    phase: Phase,
    table: AttackDigests,
    row: number,
    delivery: LegitDelivery,
    loose: LooseReactions,
    attacks: AttackTally,
  ): void {
    const entry = table.entry(row, this.#codeNames, this.#classNames);
    // A key with no class was sent only by classes past the DISTINCT_KEYS_MAX cap: it is treated as
    // nobody's, so its unmatched actions are not attack latencies.
    if (entry.attacks.length > 0) {
      for (const latency of entry.pending) this.attackLatency.add(phase, latency);
    }
    const counted = entry.attacks.filter(([attackClass]) =>
      attacks.counter(phase, attackClass) !== undefined
    );
    const resolution = resolveAttackKey({ ...entry, attacks: counted });
    delivery.sent += resolution.legit.sent;
    delivery.accepted += resolution.legit.accepted;
    delivery.falsely_rejected += resolution.legit.falselyRejected;
    delivery.not_seen += resolution.legit.notSeen;
    delivery.duplicates += resolution.legit.duplicates;
    for (const [code, n] of resolution.legit.rejectedByCode) bumpRecord(delivery.rejected_by_code, code, n);
    for (const share of resolution.attacks) {
      const counter = attacks.counter(phase, share.attackClass)!;
      counter.accepted += share.accepted;
      for (const [code, n] of share.codes) bump(counter.codes, code, n, DISTINCT_KEYS_MAX);
    }
    loose.actions += resolution.unattributed.actions;
    for (const [code, n] of resolution.unattributed.rejected) {
      bump(loose.rejected, code, n, DISTINCT_KEYS_MAX);
    }
  }
}
