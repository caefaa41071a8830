/**
 * The JSON Lines log every role writes and `metrics` reads. One line per event:
 * `{"ts":…,"role":…,"run":…,"event":…, …fields}`. docs/LOG.md is the schema.
 *
 * Lines are written synchronously, one `write` per line on an append-only file, so a killed process
 * loses at most the line being written and several roles of one process may share one file.
 * @module
 */

import type { Clock } from "../core/clock.ts";
import { SecmqttError } from "../core/errors.ts";

/** One log line. `ts` is ms since the Unix epoch (fractional), `run` ties lines of one run together. */
export interface LogRecord {
  ts: number;
  role: string;
  run: string;
  event: string;
  [field: string]: unknown;
}

/** Where records go: a file, memory, or nowhere. */
export interface LogWriter {
  /** Writes one record as one line. */
  write(record: LogRecord): void;
  /** Flushes and releases the destination. */
  close(): void;
}

/**
 * Field names that must never reach a log: a guard against logging secrets by mistake.
 * A field whose name matches is replaced by `"[redacted]"`.
 */
export const SECRET_FIELD_PATTERN = /pass(word)?|secret|private|session_key|raw_key|plaintext|token/i;

/** The interface roles log through: one call per event. */
export class Log {
  readonly #writer: LogWriter;
  readonly #clock: Pick<Clock, "now">;
  /** The role written on every line. */
  readonly role: string;
  /** The run id written on every line. */
  readonly run: string;

  /**
   * @param writer destination
   * @param options role and run written on every line; clock gives `ts`
   */
  constructor(writer: LogWriter, options: { role: string; run: string; clock: Pick<Clock, "now"> }) {
    this.#writer = writer;
    this.#clock = options.clock;
    this.role = options.role;
    this.run = options.run;
  }

  /**
   * Writes one event.
   * @example
   * ```ts
   * log.event("rejected", { code: "MALFORMED", topic: "home/door" });
   * ```
   */
  event(event: string, fields: Record<string, unknown> = {}): void {
    const record: LogRecord = { ts: round3(this.#clock.now()), role: this.role, run: this.run, event };
    for (const [key, value] of Object.entries(fields)) {
      if (key === "ts" || key === "role" || key === "run" || key === "event") continue;
      record[key] = SECRET_FIELD_PATTERN.test(key) ? "[redacted]" : value;
    }
    this.#writer.write(record);
  }

  /**
   * A log with the same destination, run and clock for another role.
   * @example
   * ```ts
   * const sensorLog = log.forRole("sensor");
   * ```
   */
  forRole(role: string): Log {
    return new Log(this.#writer, { role, run: this.run, clock: this.#clock });
  }

  /** Closes the destination. */
  close(): void {
    this.#writer.close();
  }
}

function round3(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

const encoder = new TextEncoder();

/** A log file that cannot be opened for appending; the message names the file and the OS reason. */
export class LogFileError extends SecmqttError {
  /** Stable code. */
  readonly code = "LOG_OPEN_FAILED";
  /** Exit-status kind: a path the user gave. */
  readonly kind = "input";
  /** The path that was asked for. */
  readonly path: string;
  /** @param path the log file @param reason the OS error's message */
  constructor(path: string, reason: string) {
    super(`cannot open log file ${path} for appending: ${reason}`);
    this.path = path;
  }
}

/** The folder part of a path ("" for a bare file name). */
function dirname(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash <= 0 ? (slash === 0 ? "/" : "") : path.slice(0, slash);
}

/**
 * Appends records to a file, one synchronous write per line. The file is created if missing (mode 0640),
 * and so is its folder. Throws {@link LogFileError} when neither can be made.
 * @example
 * ```ts
 * const log = new Log(fileLogWriter("run.jsonl"), { role: "sensor", run: "r1", clock: systemClock });
 * ```
 */
export function fileLogWriter(path: string): LogWriter {
  let file: Deno.FsFile;
  try {
    // A log in a folder that does not exist yet gets its folder, as `--log out/run.jsonl` suggests.
    const folder = dirname(path);
    if (folder !== "") Deno.mkdirSync(folder, { recursive: true });
    file = Deno.openSync(path, { append: true, create: true, mode: 0o640 });
  } catch (error) {
    throw new LogFileError(path, error instanceof Error ? error.message : String(error));
  }
  let open = true;
  return {
    write(record) {
      if (!open) return;
      const bytes = encoder.encode(JSON.stringify(record, jsonReplacer) + "\n");
      let written = 0;
      while (written < bytes.length) written += file.writeSync(bytes.subarray(written));
    },
    close() {
      if (!open) return;
      open = false;
      file.close();
    },
  };
}

/**
 * Keeps records in memory, for tests and for the demo's live summary.
 * @example
 * ```ts
 * const mem = memoryLogWriter();
 * new Log(mem, { role: "t", run: "r", clock: systemClock }).event("x");
 * mem.records.length; // 1
 * ```
 */
export function memoryLogWriter(): LogWriter & { records: LogRecord[] } {
  const records: LogRecord[] = [];
  return {
    records,
    write(record) {
      records.push(JSON.parse(JSON.stringify(record, jsonReplacer)));
    },
    close() {},
  };
}

/**
 * Sends every record to all of the given writers.
 * @example
 * ```ts
 * const both = teeLogWriter(fileLogWriter("a.jsonl"), memoryLogWriter());
 * ```
 */
export function teeLogWriter(...writers: LogWriter[]): LogWriter {
  return {
    write: (record) => writers.forEach((w) => w.write(record)),
    close: () => writers.forEach((w) => w.close()),
  };
}

/** A writer that drops everything. */
export const nullLogWriter: LogWriter = { write() {}, close() {} };

function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return Number(value);
  if (value instanceof Uint8Array) return `[${value.length} bytes]`;
  if (value instanceof Error) return value.message;
  return value;
}

/**
 * A new run id: sortable time prefix plus randomness.
 * @example
 * ```ts
 * newRunId(); // "20261126T050102-3f9a1c"
 * ```
 */
export function newRunId(nowMs = Date.now()): string {
  const stamp = new Date(nowMs).toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "");
  const rand = crypto.getRandomValues(new Uint8Array(3));
  return `${stamp}-${Array.from(rand, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** One line read back from a log: the record, or why the line was not a record. */
export type ReadLine =
  | { ok: true; line: number; record: LogRecord }
  | { ok: false; line: number; error: string };

/**
 * Streams a JSONL file line by line in constant memory. Bad lines are yielded as errors, never thrown.
 * `onBytes`, when given, is called with the size of each chunk read from the file.
 * @example
 * ```ts
 * for await (const item of readLog("run.jsonl")) if (item.ok) console.log(item.record.event);
 * ```
 */
export async function* readLog(path: string, onBytes?: (bytes: number) => void): AsyncGenerator<ReadLine> {
  const file = await Deno.open(path, { read: true });
  // Counted as the bytes come off the disk, so a caller can report progress through a large file.
  const counted = onBytes
    ? file.readable.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, out) {
          onBytes(chunk.byteLength);
          out.enqueue(chunk);
        },
      }),
    )
    : file.readable;
  const lines = counted.pipeThrough(new TextDecoderStream()).pipeThrough(new LineSplitStream());
  let line = 0;
  for await (const text of lines) {
    line++;
    if (text.trim() === "") continue;
    yield parseLogLine(text, line);
  }
}

/**
 * Parses one JSONL line into a record, checking the four required fields.
 * @example
 * ```ts
 * parseLogLine('{"ts":1,"role":"a","run":"r","event":"e"}', 1).ok; // true
 * ```
 */
export function parseLogLine(text: string, line: number): ReadLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, line, error: "not JSON" };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, line, error: "not an object" };
  }
  const r = value as Record<string, unknown>;
  if (
    typeof r.ts !== "number" || typeof r.role !== "string" || typeof r.run !== "string" ||
    typeof r.event !== "string"
  ) {
    return { ok: false, line, error: "missing ts, role, run or event" };
  }
  return { ok: true, line, record: r as LogRecord };
}

/** Splits a text stream into lines (LF or CRLF), keeping memory bounded by the longest line. */
class LineSplitStream extends TransformStream<string, string> {
  constructor() {
    let buffer = "";
    super({
      transform(chunk, controller) {
        buffer += chunk;
        let nl: number;
        while ((nl = buffer.indexOf("\n")) >= 0) {
          controller.enqueue(buffer.slice(0, nl).replace(/\r$/, ""));
          buffer = buffer.slice(nl + 1);
        }
      },
      flush(controller) {
        if (buffer.length > 0) controller.enqueue(buffer);
      },
    });
  }
}
