/**
 * The smart home's one message: a door sensor reading, and its Phase I (plaintext JSON) codec.
 * @module
 */

import { utf8Decode, utf8Encode } from "../crypto/codec.ts";

/** Topic of Phase I plaintext door events. */
export const INSECURE_TOPIC = "home/door";
/** Topic of Phase II envelopes. */
export const SECURE_TOPIC = "home/secure/door";
/** What the secure actuator subscribes to: every secure topic, so cross-topic replays reach it and fail. */
export const SECURE_TOPIC_FILTER = "home/secure/#";
/** Largest Phase I payload the actuator parses; anything larger is `OVERSIZE` before parsing. */
export const MAX_INSECURE_PAYLOAD_BYTES = 4096;

/** A door sensor reading as the sensor produces it and the actuator acts on it. */
export interface DoorReading {
  sensor_id: string;
  event: "open" | "closed";
  /** Send time, ms since the Unix epoch. */
  timestamp: number;
  counter: number;
  temperature: number;
  status: string;
  msg_id: string;
}

/** A decoding outcome: the reading, or a reason code from docs/LOG.md. */
export type DecodeResult =
  | { ok: true; reading: DoorReading }
  | { ok: false; code: "OVERSIZE" | "MALFORMED"; detail: string };

/**
 * Serialises a reading as Phase I's plaintext JSON.
 * @example
 * ```ts
 * encodeReading(reading); // Uint8Array of '{"sensor_id":"door-1",…}'
 * ```
 */
export function encodeReading(reading: DoorReading): Uint8Array {
  return utf8Encode(JSON.stringify(reading));
}

/**
 * Parses Phase I plaintext JSON strictly: size cap first, then UTF-8, JSON, and the type of every field.
 * Never throws.
 * @example
 * ```ts
 * decodeReading(encodeReading(reading)); // { ok: true, reading }
 * ```
 */
export function decodeReading(payload: Uint8Array): DecodeResult {
  if (payload.length > MAX_INSECURE_PAYLOAD_BYTES) {
    return {
      ok: false,
      code: "OVERSIZE",
      detail: `payload is ${payload.length} bytes, cap ${MAX_INSECURE_PAYLOAD_BYTES}`,
    };
  }
  let value: unknown;
  try {
    value = JSON.parse(utf8Decode(payload));
  } catch {
    return { ok: false, code: "MALFORMED", detail: "payload is not UTF-8 JSON" };
  }
  return validateReading(value);
}

/**
 * Checks that a parsed value is a {@link DoorReading}. Never throws.
 * @example
 * ```ts
 * validateReading({ sensor_id: 1 }).ok; // false
 * ```
 */
export function validateReading(value: unknown): DecodeResult {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, code: "MALFORMED", detail: "payload is not a JSON object" };
  }
  const r = value as Record<string, unknown>;
  const bad = (field: string, expected: string): DecodeResult => ({
    ok: false,
    code: "MALFORMED",
    detail: `field ${field} must be ${expected}`,
  });
  if (typeof r.sensor_id !== "string" || r.sensor_id.length === 0 || r.sensor_id.length > 64) {
    return bad("sensor_id", "a string of 1-64 characters");
  }
  if (r.event !== "open" && r.event !== "closed") return bad("event", '"open" or "closed"');
  if (typeof r.timestamp !== "number" || !Number.isFinite(r.timestamp)) return bad("timestamp", "a number");
  if (!Number.isSafeInteger(r.counter) || (r.counter as number) < 0) {
    return bad("counter", "a non-negative integer");
  }
  if (typeof r.temperature !== "number" || !Number.isFinite(r.temperature)) {
    return bad("temperature", "a number");
  }
  if (typeof r.status !== "string" || r.status.length > 32) return bad("status", "a short string");
  if (typeof r.msg_id !== "string" || r.msg_id.length === 0 || r.msg_id.length > 64) {
    return bad("msg_id", "a string of 1-64 characters");
  }
  return {
    ok: true,
    reading: {
      sensor_id: r.sensor_id,
      event: r.event,
      timestamp: r.timestamp,
      counter: r.counter as number,
      temperature: r.temperature,
      status: r.status,
      msg_id: r.msg_id,
    },
  };
}

/**
 * The reading a sensor sends as its `counter`-th message: the door alternates open/closed.
 * @example
 * ```ts
 * makeReading("door-1", 1, 1_700_000_000_000, 21.5); // { event: "open", counter: 1, … }
 * ```
 */
export function makeReading(
  sensorId: string,
  counter: number,
  nowMs: number,
  temperature: number,
): DoorReading {
  return {
    sensor_id: sensorId,
    event: counter % 2 === 1 ? "open" : "closed",
    timestamp: nowMs,
    counter,
    temperature: Math.round(temperature * 10) / 10,
    status: "ok",
    msg_id: `${sensorId}-${counter}`,
  };
}
