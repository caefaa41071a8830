/**
 * What a run shows, in words: the sentence or two at the top of summary.md and report.html (attacks that
 * worked before vs after, legit delivery, latency overhead), built only from metrics.json figures.
 * @module
 */

import type { MetricsDocument } from "./report.ts";
import { ms, percent } from "./report_tables.ts";

/** Attack attempts and successes of one phase, over all classes. */
export interface AttackTotals {
  attempts: number;
  accepted: number;
  /** Classes with at least one attempt. */
  classes: number;
  /** accepted / attempts; `null` without attempts. */
  rate: number | null;
}

/**
 * Sums the attack outcomes of one phase.
 * @example
 * ```ts
 * attackTotals(doc, "secure"); // { attempts: 132, accepted: 0, classes: 15, rate: 0 }
 * ```
 */
export function attackTotals(doc: MetricsDocument, phase: string): AttackTotals {
  let attempts = 0;
  let accepted = 0;
  let classes = 0;
  for (const o of Object.values(doc.attacks[phase] ?? {})) {
    attempts += o.attempts;
    accepted += o.accepted;
    if (o.attempts > 0) classes++;
  }
  return { attempts, accepted, classes, rate: attempts > 0 ? accepted / attempts : null };
}

/**
 * One or two sentences on what the run shows; parts the logs have no figures for are left out.
 * @example
 * ```ts
 * headline(doc);
 * // "Attacks that worked: 29 of 29 (100%, 4 classes) on the plaintext home (Phase I), 0 of 132 (0%, …"
 * ```
 */
export function headline(doc: MetricsDocument): string {
  const before = attackTotals(doc, "insecure");
  const after = attackTotals(doc, "secure");
  const figure = (t: AttackTotals) =>
    `${t.accepted} of ${t.attempts} (${percent(t.rate)}, ${t.classes} class${t.classes === 1 ? "" : "es"})`;
  const attackParts: string[] = [];
  if (before.attempts > 0) attackParts.push(`${figure(before)} on the plaintext home (Phase I)`);
  if (after.attempts > 0) {
    attackParts.push(`${figure(after)} on the home with signed, encrypted messages (Phase II)`);
  }
  const sentences: string[] = [];
  if (attackParts.length > 0) {
    let sentence = `Attacks that worked: ${attackParts.join(", ")}.`;
    if (after.attempts > 0) {
      sentence += after.accepted === 0
        ? " Every Phase II attempt was refused, each with the reason code of the check that stopped it."
        : " Some Phase II attempts worked: see the attack table.";
    }
    sentences.push(sentence);
  }
  const delivery = (["insecure", "secure"] as const)
    .filter((phase) => (doc.legit[phase]?.sent ?? 0) > 0)
    .map((phase) => {
      const l = doc.legit[phase];
      return `${l.accepted}/${l.sent} (${percent(l.delivery_rate)}) ${
        phase === "insecure" ? "in Phase I" : "in Phase II"
      }`;
    });
  const legitParts: string[] = [];
  if (delivery.length > 0) legitParts.push(`The real sensor's messages acted on: ${delivery.join(", ")}`);
  const insecure = doc.latency_ms.insecure;
  const secure = doc.latency_ms.secure;
  if (doc.overhead.p50_ratio !== null && insecure && secure) {
    legitParts.push(
      `protection made the median door action ${doc.overhead.p50_ratio.toFixed(1)}× slower ` +
        `(${ms(insecure.p50)} ms → ${ms(secure.p50)} ms)`,
    );
  }
  if (legitParts.length > 0) sentences.push(legitParts.join("; ") + ".");
  return sentences.join(" ") || "The logs hold no attacks, legit messages or latencies to sum up.";
}
