/**
 * The smart home's one message: a door sensor reading, and its Phase I (plaintext JSON) codec.
 * @module
 */

import { utf8Decode, utf8Encode } from "../crypto/codec.ts";

/** Topic of Phase I plaintext door events. */
export const INSECURE_TOPIC = "home/door";
/**
 * Where a Phase II device publishes: one topic per device, `home/secure/<sender-id>/door`, so the broker's
 * ACL (`pattern write home/secure/%u/door`) lets each account write only its own topic and the actuator
 * can queue, rate and alert per account.
 * @example
 * ```ts
 * secureTopicFor("door-sensor-1"); // "home/secure/door-sensor-1/door"
 * ```
 */
export function secureTopicFor(senderId: string): string {
  return `home/secure/${senderId}/door`;
}
/**
 * The device id a Phase II topic names, or undefined when the topic is not `home/secure/<id>/door`.
 * @example
 * ```ts
 * deviceIdOfTopic("home/secure/door-sensor-1/door"); // "door-sensor-1"
 * ```
 */
export function deviceIdOfTopic(topic: string): string | undefined {
  const levels = topic.split("/");
  if (levels.length !== 4 || levels[0] !== "home" || levels[1] !== "secure" || levels[3] !== "door") {
    return undefined;
  }
  return levels[2] === "" ? undefined : levels[2];
}
/** Topic of the default sensor's (door-sensor-1's) envelopes: {@link secureTopicFor} of that id. */
export const SECURE_TOPIC = secureTopicFor("door-sensor-1");
/** What the secure actuator subscribes to: every device's secure topic. */
export const SECURE_TOPIC_FILTER = "home/secure/+/door";
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

/** The keys of a Phase II reading (docs/PROTOCOL.md §9): exactly these, each once, in any order. */
export const SECURE_READING_FIELDS = [
  "sensor_id",
  "event",
  "timestamp",
  "counter",
  "temperature",
  "status",
  "msg_id",
] as const;
/** Lowest `temperature` a Phase II reading may carry, °C. */
export const READING_TEMPERATURE_MIN_C = -100;
/** Highest `temperature` a Phase II reading may carry, °C. */
export const READING_TEMPERATURE_MAX_C = 150;
/** A Phase II reading's `status`: 1 to 32 ASCII letters, digits, `.`, `_`, `-`. */
export const READING_STATUS_PATTERN = /^[A-Za-z0-9._-]{1,32}$/;

/** The envelope fields a Phase II reading must repeat. */
export interface ReadingBinding {
  /** Envelope `sender`; the reading's `sensor_id` must equal it. */
  readonly sender: string;
  /** Envelope `counter`; the reading's `counter` must equal it. */
  readonly counter: number;
  /** Envelope `msg_id`; the reading's `msg_id` must equal it. */
  readonly msg_id: string;
}

/** Outcome of {@link checkSecureReading}: the reading, or why it is not one (reported as `BAD_READING`). */
export type SecureReadingResult = { ok: true; reading: DoorReading } | { ok: false; detail: string };

const UTF8_BOM = [0xef, 0xbb, 0xbf];

/**
 * Checks the decrypted plaintext of an authentic envelope against docs/PROTOCOL.md §9: strict UTF-8
 * without a byte-order mark, one JSON object, exactly {@link SECURE_READING_FIELDS} with no key twice,
 * each of its type and range, and `sensor_id`, `counter`, `msg_id` equal to the envelope's. Stricter than
 * Phase I's {@link validateReading}: a trusted key must not be able to smuggle fields past the receiver.
 * Never throws.
 * @example
 * ```ts
 * checkSecureReading(message.plaintext, message).ok; // false for '{"sensor_id":"someone-else",…}'
 * ```
 */
export function checkSecureReading(plaintext: Uint8Array, envelope: ReadingBinding): SecureReadingResult {
  const bad = (detail: string): SecureReadingResult => ({ ok: false, detail });
  if (UTF8_BOM.every((byte, i) => plaintext[i] === byte)) return bad("reading starts with a byte-order mark");
  let text: string;
  let value: unknown;
  try {
    text = utf8Decode(plaintext);
    value = JSON.parse(text);
  } catch {
    return bad("reading is not UTF-8 JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return bad("reading is not a JSON object");
  }
  const keys = topLevelKeys(text);
  if (new Set(keys).size !== keys.length) return bad("reading has a key twice");
  const expected: readonly string[] = SECURE_READING_FIELDS;
  const unknown = keys.find((key) => !expected.includes(key));
  if (unknown !== undefined) return bad(`reading has unknown field ${JSON.stringify(unknown.slice(0, 32))}`);
  const missing = expected.find((key) => !keys.includes(key));
  if (missing !== undefined) return bad(`reading has no field ${missing}`);
  const r = value as Record<string, unknown>;
  if (r.sensor_id !== envelope.sender) return bad("sensor_id differs from the envelope's sender");
  if (r.counter !== envelope.counter) return bad("counter differs from the envelope's counter");
  if (r.msg_id !== envelope.msg_id) return bad("msg_id differs from the envelope's msg_id");
  if (r.event !== "open" && r.event !== "closed") return bad('event must be "open" or "closed"');
  if (!Number.isSafeInteger(r.timestamp) || (r.timestamp as number) < 0) {
    return bad("timestamp must be an integer from 0 to 2^53 - 1 (ms)");
  }
  if (
    typeof r.temperature !== "number" || !(r.temperature >= READING_TEMPERATURE_MIN_C) ||
    !(r.temperature <= READING_TEMPERATURE_MAX_C)
  ) {
    return bad(
      `temperature must be a number from ${READING_TEMPERATURE_MIN_C} to ${READING_TEMPERATURE_MAX_C}`,
    );
  }
  if (typeof r.status !== "string" || !READING_STATUS_PATTERN.test(r.status)) {
    return bad("status must match " + READING_STATUS_PATTERN);
  }
  return {
    ok: true,
    reading: {
      sensor_id: envelope.sender,
      event: r.event,
      timestamp: r.timestamp as number,
      counter: envelope.counter,
      temperature: r.temperature,
      status: r.status,
      msg_id: envelope.msg_id,
    },
  };
}

/**
 * The keys of the outermost object of `text`, in order and with repeats — `JSON.parse` silently keeps
 * the last of two equal keys, so duplicates are found here. `text` must already have parsed as JSON.
 */
function topLevelKeys(text: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") depth--;
    else if (c === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === "\\" ? 2 : 1;
      if (depth === 1) {
        let next = end + 1;
        while (" \t\n\r".includes(text[next])) next++;
        if (text[next] === ":") keys.push(JSON.parse(text.slice(i, end + 1)));
      }
      i = end;
    }
  }
  return keys;
}
