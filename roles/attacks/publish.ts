/**
 * Sending for the Phase II attacker: publishes each malicious message with a bounded number awaiting the
 * broker's acknowledgement, and logs one `attack_sent` (or `attack_refused`) per attempt.
 * @module
 */

import { topicMismatch } from "../secure_actuator.ts";
import type { Clock } from "../../core/clock.ts";
import { payloadDigest } from "../../core/digest.ts";
import { Log, type LogRecord } from "../../log/jsonl.ts";
import { type MqttTransport, TransportError } from "../../transport/client.ts";
import { sendAttack } from "../attacker.ts";
import type { AttackConnection, SecureAttackerDeps } from "./options.ts";
import type { AttackMessage, BrokerAttempt, ProbeOutcome } from "./recipe.ts";

/** Default bound on publishes awaiting their acknowledgement at once. */
export const DEFAULT_MAX_IN_FLIGHT = 16;
/** Longest wait for a broker-level connection to close before moving on. */
export const CLOSE_TIMEOUT_MS = 1_000;

/** Which attempt a message belongs to, as `attack_sent` and `attack_refused` name it. */
export interface AttemptId {
  cls: string;
  variant: string;
  attackId: string;
  /** The threat model the class runs under (catalogue `model`), logged with every attempt. */
  model?: string;
}

/** What the publisher needs: the clock, the attacker's log, and where its own digests are noted. */
export interface AttackPublisherDeps {
  clock: Clock;
  log: Log;
  /** Marks a digest as the attacker's own, so eavesdropping does not take it for a capture. */
  own: (digest: string) => void;
  /** Where a message without a topic of its own goes. */
  victimTopic: string;
  /** Publishes awaiting their acknowledgement at once (at least 1). */
  maxInFlight: number;
}

/** The stable code of a broker refusal, or `fallback` for anything that is not a transport error. */
function errorCode(error: unknown, fallback: string): string {
  return error instanceof TransportError ? error.code : fallback;
}

/**
 * Publishes attack messages and counts what was sent and what the broker refused.
 * @example
 * ```ts
 * const publisher = new AttackPublisher({ clock, log, own: capture.own, victimTopic, maxInFlight: 16 });
 * await publisher.launch(publisher.send(transport, { cls, variant, attackId }, message, 1));
 * await publisher.drain();
 * ```
 */
export class AttackPublisher {
  /** Messages published, as logged by `attack_sent`. */
  sent = 0;
  /** Attempts the broker refused, as logged by `attack_refused`. */
  refused = 0;
  /** Probes that worked, as logged by `attack_succeeded`. */
  succeeded = 0;
  // Publishes awaiting their PUBACK: a QoS 1 round trip costs milliseconds, so a bounded window of them
  // keeps ~1000 attempts to seconds. Each settles by itself (send never rejects).
  readonly #inFlight = new Set<Promise<void>>();
  readonly #deps: AttackPublisherDeps;

  constructor(deps: AttackPublisherDeps) {
    this.#deps = deps;
  }

  /** Logs a refused attempt. */
  refuse(attempt: AttemptId, code: string, fields: Record<string, unknown> = {}): void {
    this.#deps.log.event("attack_refused", {
      phase: "secure",
      class: attempt.cls,
      variant: attempt.variant,
      attack_id: attempt.attackId,
      ...(attempt.model ? { model: attempt.model } : {}),
      code,
      ...fields,
    });
    this.refused++;
  }

  /** Logs a probe's outcome: `attack_succeeded`, or `attack_refused` with what stopped it. */
  probeOutcome(attempt: AttemptId, expect: string, outcome: ProbeOutcome): void {
    if (!outcome.succeeded) return this.refuse(attempt, outcome.code, { expect, ...outcome.fields });
    this.#deps.log.event("attack_succeeded", {
      phase: "secure",
      class: attempt.cls,
      variant: attempt.variant,
      attack_id: attempt.attackId,
      expect,
      ...outcome.fields,
    });
    this.succeeded++;
  }

  /** Publishes one message on `transport`; a refused publish is logged, never thrown. */
  async send(
    transport: Pick<MqttTransport, "publish">,
    attempt: AttemptId,
    message: AttackMessage,
    qos: 0 | 1,
  ): Promise<void> {
    const { clock } = this.#deps;
    const topic = message.topic ?? this.#deps.victimTopic;
    // The receiver's topic binding (check 0b) comes before every envelope check: whatever a recipe
    // predicted, an envelope in another device's name on a device topic earns TOPIC_MISMATCH.
    const expect = message.expect !== "BROKER_DENIED" && topicMismatch(topic, message.payload)
      ? "TOPIC_MISMATCH"
      : message.expect;
    try {
      await sendAttack(
        {
          clock,
          log: this.#taggedLog({
            expect,
            ...(attempt.model ? { model: attempt.model } : {}),
            ...message.fields,
          }),
          transport: transport as SecureAttackerDeps["transport"],
        },
        { own: this.#deps.own },
        {
          phase: "secure",
          cls: attempt.cls,
          variant: attempt.variant,
          attackId: attempt.attackId,
          topic,
          payload: message.payload,
          qos,
        },
      );
      this.sent++;
    } catch (error) {
      this.refuse(attempt, errorCode(error, "PUBLISH_FAILED"), {
        topic,
        digest: payloadDigest(message.payload),
      });
    }
  }

  /** Adds a publish to the window; waits while the window is full. */
  async launch(publishing: Promise<void>): Promise<void> {
    this.#inFlight.add(publishing);
    publishing.finally(() => this.#inFlight.delete(publishing));
    if (this.#inFlight.size >= this.#deps.maxInFlight) await Promise.race(this.#inFlight);
  }

  /** Waits until every publish in the window settled. */
  async drain(): Promise<void> {
    await Promise.all(this.#inFlight);
  }

  /**
   * Opens the connection of one broker-level attempt and publishes its message there; a refused
   * connection is logged as `attack_refused` with the broker's code.
   */
  async sendOnConnection(
    connect: SecureAttackerDeps["connect"],
    attempt: AttemptId,
    broker: BrokerAttempt,
  ): Promise<void> {
    let connection: AttackConnection;
    try {
      connection = await connect({ ...broker.credentials, clientId: broker.clientId });
    } catch (error) {
      this.refuse(attempt, errorCode(error, "CONNECT_FAILED"));
      return;
    }
    try {
      await this.send(connection, attempt, await broker.message(), broker.qos);
    } finally {
      await this.#closeQuietly(connection);
    }
  }

  async #closeQuietly(connection: AttackConnection): Promise<void> {
    const timer = new AbortController();
    await Promise.race([
      connection.close().catch(() => {}),
      this.#deps.clock.sleep(CLOSE_TIMEOUT_MS, timer.signal),
    ]);
    timer.abort();
  }

  // `attack_sent` comes from the Phase I sendAttack; the extra fields (`expect`, …) are merged in by a log
  // that forwards to ours. One per message, since several publishes may be in flight.
  #taggedLog(extra: Record<string, unknown>): Log {
    const { log, clock } = this.#deps;
    return new Log({
      write(record: LogRecord) {
        const { ts: _ts, role: _role, run: _run, event, ...fields } = record;
        log.event(event, { ...fields, ...extra });
      },
      close() {},
    }, { role: log.role, run: log.run, clock });
  }
}
