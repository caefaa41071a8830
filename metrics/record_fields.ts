/**
 * Typed reads of a log record's loosely typed fields (docs/LOG.md): a field that is missing or of the wrong
 * type reads as `undefined` (or the documented default), never as an error, so one odd record cannot stop
 * the fold.
 * @module
 */

import type { LogRecord } from "../log/jsonl.ts";
import type { Phase } from "./types.ts";

/**
 * `value` when it is a string.
 * @example
 * ```ts
 * str(record.digest); // "9f86d081884c7d65" or undefined
 * ```
 */
export function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/**
 * `value` when it is a finite number.
 * @example
 * ```ts
 * num(record.latency_ms); // 2.5, or undefined for "2.5", NaN or a missing field
 * ```
 */
export function num(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/**
 * Whether `value` is a plain object (not null, not an array).
 * @example
 * ```ts
 * isRecord(record.stages); // true for { sign_ms: 0.6 }
 * ```
 */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The record's `phase`, or "unknown".
 * @example
 * ```ts
 * phaseOf({ ts: 1, role: "sensor", run: "r", event: "published", phase: "secure" }); // "secure"
 * ```
 */
export function phaseOf(record: LogRecord): Phase {
  return typeof record.phase === "string" ? record.phase : "unknown";
}

/**
 * The record's `topic`, or "" when it has none (older logs, hand-written fixtures).
 * @example
 * ```ts
 * topicOf({ ts: 1, role: "sensor", run: "r", event: "published" }); // ""
 * ```
 */
export function topicOf(record: LogRecord): string {
  return typeof record.topic === "string" ? record.topic : "";
}
