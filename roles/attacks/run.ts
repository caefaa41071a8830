/**
 * The Phase II attack driver: captures envelopes, then runs each chosen class of {@link ATTACK_CATALOGUE}
 * for the given number of attempts, rotating through the variants its recipe plans.
 * @module
 */

import { TIMESTAMP_WINDOW_MS } from "../../crypto/envelope.ts";
import { SECURE_TOPIC, secureTopicFor } from "../door.ts";
import { captureEnvelopes } from "./capture.ts";
import { ATTACK_CATALOGUE, type AttackClassEntry, SECURE_ATTACK_CLASSES } from "./catalogue.ts";
import { createAttackContext } from "./context.ts";
import type { SecureAttackerDeps, SecureAttackOptions } from "./options.ts";
import { AttackPublisher, DEFAULT_MAX_IN_FLIGHT } from "./publish.ts";
import { attackIdOf } from "./recipe.ts";

/**
 * Default Phase II options.
 * @example
 * ```ts
 * const options = { ...DEFAULT_SECURE_ATTACK, attempts: 70, victimUsername: "door-sensor-1" };
 * ```
 */
export const DEFAULT_SECURE_ATTACK: SecureAttackOptions = {
  classes: SECURE_ATTACK_CLASSES,
  attempts: 5,
  topic: SECURE_TOPIC,
  captureTimeoutMs: 10_000,
  captureCount: 3,
  gapMs: 1,
  qos: 1,
  brokerUrl: "mqtt://127.0.0.1:1883",
  victimUsername: "door-sensor-1",
  aclViolationTopic: "home/secure/window",
  crossTopic: secureTopicFor("mallory"),
  timestampWindowMs: TIMESTAMP_WINDOW_MS,
  fallbackSender: "door-sensor-1",
  maxInFlight: DEFAULT_MAX_IN_FLIGHT,
};

/**
 * Runs the Phase II attacks: captures `captureCount` envelopes, then sends `attempts` malicious messages
 * (or broker-level attempts) per class. Resolves with how many messages were sent, how many attempts
 * the broker refused, how many probes succeeded, and how many messages were captured.
 * @example
 * ```ts
 * const result = await runSecureAttacks(
 *   { ...DEFAULT_SECURE_ATTACK, attempts: 50, victimUsername: "door-sensor-1" },
 *   { clock: systemClock, log, transport, connect, ownCredentials, actuatorPublicKey, dsaDomain },
 * );
 * ```
 */
export async function runSecureAttacks(
  options: SecureAttackOptions,
  deps: SecureAttackerDeps,
): Promise<{ sent: number; refused: number; succeeded: number; captured: number }> {
  const { clock, log } = deps;
  log.event("role_started", {
    phase: "secure",
    classes: options.classes,
    attempts: options.attempts,
    topic: options.topic,
    capture_count: options.captureCount,
    broker_url: options.brokerUrl,
    victim_username: options.victimUsername,
    acl_violation_topic: options.aclViolationTopic,
    cross_topic: options.crossTopic,
    models: Object.fromEntries(options.classes.map((cls) => [cls, ATTACK_CATALOGUE[cls].model])),
  });
  const capture = await captureEnvelopes(options, deps);
  const publisher = new AttackPublisher({
    clock,
    log,
    own: (digest) => capture.own(digest),
    victimTopic: options.topic,
    maxInFlight: Math.max(1, options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT),
  });
  const ctx = createAttackContext(options, deps, capture.envelopes, () => publisher.drain());

  for (const cls of options.classes) {
    const entry: AttackClassEntry = ATTACK_CATALOGUE[cls];
    const variants = await entry.plan(ctx);
    if (variants.length === 0) {
      // Only probes plan nothing: what they need (an on-path relay) was not given.
      log.event("attack_skipped", { phase: "secure", class: cls, reason: "not available in this run" });
      continue;
    }
    const startedMs = clock.now();
    let attempts = 0;
    // Classes that open connections of their own meet the broker's login backoff on every failed attempt
    // (up to 1 s each), so a run may give them fewer attempts than the message-level classes.
    const limit = entry.level === "envelope" ? options.attempts : options.probeAttempts ?? options.attempts;
    for (let i = 1; i <= limit && !deps.signal?.aborted; i++) {
      attempts++;
      const attempt = {
        cls,
        variant: variants[(i - 1) % variants.length],
        attackId: attackIdOf(cls, i),
        model: entry.model,
      };
      if (entry.level === "probe") {
        await publisher.drain();
        const probe = entry.build(ctx, attempt.variant, i);
        publisher.probeOutcome(attempt, probe.expect, await probe.run());
      } else if (entry.level === "broker") {
        // One connection at a time, after the main connection's publishes settled.
        await publisher.drain();
        await publisher.sendOnConnection(deps.connect, attempt, entry.build(ctx, attempt.variant, i));
      } else {
        const message = await entry.build(ctx, attempt.variant, i);
        await publisher.launch(publisher.send(deps.transport, attempt, message, options.qos));
      }
      if (options.gapMs > 0) await clock.sleep(options.gapMs, deps.signal);
    }
    // The rate the broker allowed (password-guessing: guesses per second under its login backoff).
    const durationMs = Math.max(0, Math.round(clock.now() - startedMs));
    log.event("attack_class_done", {
      phase: "secure",
      class: cls,
      attempts,
      duration_ms: durationMs,
      attempts_per_s: durationMs > 0 ? Math.round(attempts * 1e6 / durationMs) / 1e3 : null,
    });
  }
  await publisher.drain();

  const { sent, refused, succeeded } = publisher;
  const captured = capture.capturedCount();
  log.event("role_stopped", {
    reason: deps.signal?.aborted ? "signal" : "done",
    sent,
    refused,
    succeeded,
    captured,
  });
  return { sent, refused, succeeded, captured };
}
