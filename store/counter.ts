/**
 * The secure sensor's persistent monotonic message counter. It must never repeat a value, even after
 * `kill -9` or a power cut, because the actuator rejects any counter it has already seen (replay
 * protection) and a repeated value would make a fresh message look like a replay — or worse, let an
 * old captured message pass if the counter went backwards.
 *
 * Values are reserved on disk in blocks: the file holds a ceiling, the highest value that may have
 * been handed out. Before handing out a value above the ceiling, a new ceiling is written atomically
 * and durably (temp file, fsync, rename, fsync directory). A restart resumes at ceiling + 1, skipping
 * at most one block of unused values and never reusing one.
 *
 * One process per counter file: the store takes no lock, so two sensors sharing a file could hand out
 * the same value. Give each sender identity its own file.
 *
 * File format (one canonical encoding, anything else is refused): `secmqtt-counter 1 <ceiling>\n` with
 * the ceiling in decimal without leading zeros.
 * @module
 */

import { writeFileAtomic } from "./keyfiles.ts";
import { utf8Decode, utf8Encode } from "../crypto/codec.ts";
import { CodedError, type ErrorKind } from "../core/errors.ts";

/** Default number of counter values reserved per durable write. */
export const DEFAULT_COUNTER_BLOCK_SIZE = 64;
/** Largest counter value: the largest integer a JSON number carries exactly (IEEE 754 binary64). */
export const MAX_COUNTER_VALUE = Number.MAX_SAFE_INTEGER;
/** Mode of the counter file: private to the sensor's user. */
const COUNTER_FILE_MODE = 0o600;
const COUNTER_FILE_PATTERN = /^secmqtt-counter 1 (0|[1-9][0-9]{0,15})\n$/;

/** Stable codes of {@link CounterError}. */
export type CounterErrorCode =
  | "STATE_CORRUPT"
  | "STATE_UNREADABLE"
  | "STATE_WRITE_FAILED"
  | "COUNTER_EXHAUSTED"
  | "COUNTER_CLOSED"
  | "COUNTER_BAD_OPTION";

/** Error of the counter store; no value is handed out after one is thrown by `next`. */
export class CounterError extends CodedError<CounterErrorCode> {
  /** Exit-status kind: misuse of the store is a bug; everything else is persistent state. */
  get kind(): ErrorKind {
    return this.code === "COUNTER_BAD_OPTION" || this.code === "COUNTER_CLOSED" ? "internal" : "state";
  }
}

/** Options of {@link CounterStore.open}. */
export interface CounterStoreOptions {
  /** Values reserved per durable write; larger means fewer fsyncs and a bigger skip after a crash. */
  blockSize?: number;
}

/** A persistent, crash-safe, strictly increasing counter starting at 1. */
export class CounterStore {
  readonly #path: string;
  readonly #blockSize: number;
  /** Highest value durably reserved on disk. */
  #ceiling: number;
  /** The value the next call to `next` returns. */
  #next: number;
  #closed = false;

  private constructor(path: string, blockSize: number, ceiling: number) {
    this.#path = path;
    this.#blockSize = blockSize;
    this.#ceiling = ceiling;
    this.#next = ceiling + 1;
  }

  /**
   * Opens the counter at `path`. A missing file starts the counter at 1; a file that does not parse
   * throws {@link CounterError} `STATE_CORRUPT` and is left untouched (never a silent restart from 0).
   * @example
   * ```ts
   * const counter = CounterStore.open("state/sensor-1.counter", { blockSize: 64 });
   * const value = counter.next(); // 1 on a fresh file
   * counter.close();
   * ```
   */
  static open(path: string, options: CounterStoreOptions = {}): CounterStore {
    const blockSize = options.blockSize ?? DEFAULT_COUNTER_BLOCK_SIZE;
    if (!Number.isSafeInteger(blockSize) || blockSize < 1) {
      throw new CounterError(
        "COUNTER_BAD_OPTION",
        `expected blockSize to be a positive integer, got ${blockSize}`,
      );
    }
    return new CounterStore(path, blockSize, readCeiling(path));
  }

  /**
   * Returns the next counter value. It is on disk (within the reserved ceiling) before it is returned,
   * so no restart can hand it out again. Throws {@link CounterError} `STATE_WRITE_FAILED` when the
   * reservation cannot be made durable, and hands out nothing in that case.
   * @example
   * ```ts
   * const a = counter.next();
   * const b = counter.next(); // b > a, also after a crash and restart in between
   * ```
   */
  next(): number {
    if (this.#closed) throw new CounterError("COUNTER_CLOSED", `counter ${this.#path} is closed`);
    const value = this.#next;
    if (value > MAX_COUNTER_VALUE) {
      throw new CounterError("COUNTER_EXHAUSTED", `counter ${this.#path} reached ${MAX_COUNTER_VALUE}`);
    }
    if (value > this.#ceiling) this.#reserve(Math.min(value - 1 + this.#blockSize, MAX_COUNTER_VALUE));
    this.#next = value + 1;
    return value;
  }

  /**
   * Closes the store. Unused reserved values are skipped by the next open; nothing needs flushing.
   * @example
   * ```ts
   * counter.close();
   * ```
   */
  close(): void {
    this.#closed = true;
  }

  #reserve(ceiling: number): void {
    try {
      writeFileAtomic(this.#path, utf8Encode(formatCounterFile(ceiling)), {
        mode: COUNTER_FILE_MODE,
        overwrite: true,
      });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new CounterError(
        "STATE_WRITE_FAILED",
        `cannot reserve counter values in ${this.#path}: ${reason}`,
        {
          cause: error,
        },
      );
    }
    this.#ceiling = ceiling;
  }
}

function formatCounterFile(ceiling: number): string {
  return `secmqtt-counter 1 ${ceiling}\n`;
}

function readCeiling(path: string): number {
  let bytes: Uint8Array;
  try {
    bytes = Deno.readFileSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return 0;
    const reason = error instanceof Error ? error.message : String(error);
    throw new CounterError("STATE_UNREADABLE", `cannot read counter file ${path}: ${reason}`, {
      cause: error,
    });
  }
  let text: string;
  try {
    text = utf8Decode(bytes);
  } catch (error) {
    throw new CounterError("STATE_CORRUPT", `counter file ${path} is not UTF-8 text; refusing to reset it`, {
      cause: error,
    });
  }
  const match = COUNTER_FILE_PATTERN.exec(text);
  const ceiling = match ? Number(match[1]) : NaN;
  if (!Number.isSafeInteger(ceiling)) {
    throw new CounterError(
      "STATE_CORRUPT",
      `counter file ${path} does not hold "secmqtt-counter 1 <ceiling>"; refusing to reset it`,
    );
  }
  return ceiling;
}
