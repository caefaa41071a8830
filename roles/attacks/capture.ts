/**
 * Eavesdropping for the Phase II attacker: listens on `#`, keeps every envelope seen on the victim topic
 * as material to attack, and waits (bounded) until enough have come.
 * @module
 */

import { payloadDigest } from "../../core/digest.ts";
import type { EnvelopeJson } from "../../crypto/envelope.ts";
import { startEavesdropping } from "../attacker.ts";
import { decodeReading } from "../door.ts";
import { readEnvelope } from "./envelope_edit.ts";
import type { SecureAttackerDeps, SecureAttackOptions } from "./options.ts";

/** Poll interval while waiting for captures. */
export const CAPTURE_POLL_MS = 20;

/** One envelope the attacker holds: captured from the victim topic, or synthesised when none came. */
export interface Template {
  payload: Uint8Array;
  json: EnvelopeJson;
  /** When it was captured (or made), on the attacker's clock. */
  at: number;
  synthetic: boolean;
}

/** What eavesdropping gave: the envelopes, a count of all captures, and a way to skip one's own messages. */
export interface EnvelopeCapture {
  /** Envelopes captured on the victim topic, oldest first; grows while the attack runs. */
  envelopes: Template[];
  /** Every message captured on `#` so far, envelopes or not. */
  capturedCount(): number;
  /** Marks a digest as the attacker's own so it is not mistaken for captured traffic. */
  own(digest: string): void;
}

/**
 * Subscribes to `#` and waits up to `captureTimeoutMs` for `captureCount` envelopes on the victim topic,
 * logging `capture_incomplete` when fewer came. Each capture is logged with only what an eavesdropper
 * learns from an envelope — that it is one, its size and the names of its cleartext fields — never values.
 * @example
 * ```ts
 * const capture = await captureEnvelopes(options, deps);
 * const latest = capture.envelopes.at(-1);
 * ```
 */
export async function captureEnvelopes(
  options: Pick<SecureAttackOptions, "topic" | "captureCount" | "captureTimeoutMs">,
  deps: Pick<SecureAttackerDeps, "clock" | "log" | "transport" | "signal">,
): Promise<EnvelopeCapture> {
  const { clock, log } = deps;
  const ownDigests = new Set<string>();
  const envelopes: Template[] = [];
  // Registered before subscribing, so nothing delivered on subscribe is missed.
  deps.transport.onMessage((topic, payload) => {
    const digest = payloadDigest(payload);
    if (ownDigests.has(digest)) return;
    const json = readEnvelope(payload);
    if (json !== undefined && topic === options.topic) {
      envelopes.push({ payload: payload.slice(), json, at: clock.now(), synthetic: false });
    }
    log.event("captured", {
      phase: "secure",
      topic,
      digest,
      bytes: payload.length,
      readable: json === undefined ? decodeReading(payload).ok : false,
      fields: json === undefined ? [] : Object.keys(json),
    });
  });
  const tap = await startEavesdropping(deps, "secure", false);
  const deadline = clock.now() + options.captureTimeoutMs;
  while (envelopes.length < options.captureCount && clock.now() < deadline && !deps.signal?.aborted) {
    await clock.sleep(CAPTURE_POLL_MS, deps.signal);
  }
  if (envelopes.length < options.captureCount) {
    log.event("capture_incomplete", {
      phase: "secure",
      topic: options.topic,
      wanted: options.captureCount,
      got: envelopes.length,
      detail: envelopes.length === 0
        ? "no envelope captured: attacking from an envelope signed with the attacker's own key"
        : "attacking from the envelopes captured so far",
    });
  }
  return {
    envelopes,
    capturedCount: () => tap.captures.length,
    own(digest: string) {
      ownDigests.add(digest);
      tap.own(digest);
    },
  };
}
