/**
 * Attack outcomes per phase and class (docs/METRICS.md, "Attack success", "Blocked", "Attempts"): attempts
 * as they stream by, successes and reason codes once the join has resolved each attack key.
 * @module
 */

import { bump, DISTINCT_KEYS_MAX } from "./counts.ts";
import { type AggregateMetrics, CODE_NOT_READABLE, type Phase } from "./types.ts";

/** Running counts of one attack class in one phase. */
export interface AttackCounter {
  attempts: number;
  accepted: number;
  /** Reason code → blocked attempts, in first-seen order. */
  codes: Map<string, number>;
  /** The threat model the attacker logged for the class, if any. */
  model?: string;
}

/**
 * The attack counters, phases and classes in first-seen order, at most {@link DISTINCT_KEYS_MAX} of each.
 * @example
 * ```ts
 * const attacks = new AttackTally();
 * attacks.refused("secure", "wrong-password", "NOT_AUTHORIZED");
 * attacks.outcomes().secure["wrong-password"].blocked; // 1
 * ```
 */
export class AttackTally {
  readonly #attacks = new Map<Phase, Map<string, AttackCounter>>();

  /** Phases with an attack counter, in first-seen order. */
  phases(): IterableIterator<Phase> {
    return this.#attacks.keys();
  }

  /** The counter of (phase, class), made on first use; undefined once the caps are reached. */
  counter(phase: Phase, attackClass: string): AttackCounter | undefined {
    let byClass = this.#attacks.get(phase);
    if (!byClass) {
      if (this.#attacks.size >= DISTINCT_KEYS_MAX) return undefined;
      this.#attacks.set(phase, byClass = new Map());
    }
    let counter = byClass.get(attackClass);
    if (!counter) {
      if (byClass.size >= DISTINCT_KEYS_MAX) return undefined;
      byClass.set(attackClass, counter = { attempts: 0, accepted: 0, codes: new Map() });
    }
    return counter;
  }

  /** Notes the threat model an attack record names for its class (the first one seen is kept). */
  noteModel(phase: Phase, attackClass: string, model: string | undefined): void {
    if (model === undefined) return;
    const counter = this.counter(phase, attackClass);
    if (counter) counter.model ??= model;
  }

  /** An `attack_refused`: an attempt the broker blocked, with its reason code. */
  refused(phase: Phase, attackClass: string, code: string): void {
    const counter = this.counter(phase, attackClass);
    if (!counter) return;
    counter.attempts++;
    bump(counter.codes, code, 1, DISTINCT_KEYS_MAX);
  }

  /** An `attack_succeeded`: a probe that worked (it judged its outcome itself, e.g. credentials read). */
  succeeded(phase: Phase, attackClass: string): void {
    const counter = this.counter(phase, attackClass);
    if (!counter) return;
    counter.attempts++;
    counter.accepted++;
  }

  /** A `captured`: an eavesdropping attempt, a success when the attacker could read it. */
  captured(phase: Phase, readable: boolean): void {
    const counter = this.counter(phase, "eavesdrop");
    if (!counter) return;
    counter.attempts++;
    if (readable) counter.accepted++;
    else bump(counter.codes, CODE_NOT_READABLE, 1, DISTINCT_KEYS_MAX);
  }

  /** The outcomes as metrics.json has them: `by_code` most frequent first, ties by code. */
  outcomes(): AggregateMetrics["attacks"] {
    const attacks: AggregateMetrics["attacks"] = {};
    for (const [phase, byClass] of this.#attacks) {
      attacks[phase] = {};
      for (const [attackClass, c] of byClass) {
        attacks[phase][attackClass] = {
          attempts: c.attempts,
          accepted: c.accepted,
          blocked: c.attempts - c.accepted,
          success_rate: c.attempts > 0 ? c.accepted / c.attempts : null,
          by_code: Object.fromEntries([...c.codes].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))),
          ...(c.model === undefined ? {} : { model: c.model }),
        };
      }
    }
    return attacks;
  }
}
