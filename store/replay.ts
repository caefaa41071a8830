/**
 * Replay state of the actuator: for each sender, the highest message counter it has accepted. A
 * message is fresh only if its counter is strictly greater (a sliding window of size one, as in
 * RFC 4303 §3.4.3 with no out-of-order tolerance).
 *
 * {@link ReplayStore} keeps the state in SQLite with WAL and `synchronous=FULL`, so `accept` returns only
 * after the new counter is on stable storage; the actuator acts after that, never before. Existing state
 * that is corrupt, truncated, of another schema or unreadable is refused with a {@link StateError} and
 * left byte-for-byte untouched: resetting replay state silently would re-open every old message to
 * replay. {@link MemoryReplayStore} has the same behaviour in memory, for tests of the logic.
 * @module
 */

import { DatabaseSync, type StatementSync } from "node:sqlite";
import { CodedError, type ErrorKind } from "../core/errors.ts";

/** Version of the on-disk schema, stored in the `meta` table. */
export const REPLAY_SCHEMA_VERSION = 1;
/** Largest counter the store holds: SQLite INTEGER is a signed 64-bit value. */
export const MAX_REPLAY_COUNTER = (1n << 63n) - 1n;
/** Longest sender id accepted, in UTF-16 code units. */
export const MAX_SENDER_ID_LENGTH = 256;
/** How long a write waits for another connection's lock before failing. */
const BUSY_TIMEOUT_MS = 5_000;
/** Every SQLite database file starts with this 16-byte header string (SQLite file format §1.3). */
const SQLITE_MAGIC_BYTES = new TextEncoder().encode("SQLite format 3\0");
const SQLITE_HEADER_BYTES = 100;

/** The exact schema; `open` compares `sqlite_schema` against it, so any other schema is refused. */
const SCHEMA: ReadonlyArray<{ type: string; name: string; sql: string }> = [
  {
    type: "table",
    name: "meta",
    sql: "CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) STRICT",
  },
  {
    type: "table",
    name: "replay_highest",
    sql: "CREATE TABLE replay_highest (sender TEXT PRIMARY KEY NOT NULL, " +
      "highest INTEGER NOT NULL CHECK (highest >= 0)) STRICT",
  },
];

/** Stable codes of {@link StateError}. */
export type StateErrorCode =
  | "STATE_MISSING"
  | "STATE_CORRUPT"
  | "STATE_UNREADABLE"
  | "STATE_WRITE_FAILED"
  | "STATE_BAD_ARGUMENT"
  | "STATE_CLOSED";

/** Error of the replay state. Whoever gets one must stop acting on messages. */
export class StateError extends CodedError<StateErrorCode> {
  /**
   * Exit-status kind: misuse of the store is a bug; a missing state is a file the user must supply (exit
   * 2: run keygen or pass --init-state); everything else is persistent state.
   */
  get kind(): ErrorKind {
    if (this.code === "STATE_MISSING") return "input";
    return this.code === "STATE_BAD_ARGUMENT" || this.code === "STATE_CLOSED" ? "internal" : "state";
  }
}

/** A message counter: a non-negative integer up to {@link MAX_REPLAY_COUNTER}. */
export type Counter = number | bigint;

/** Outcome of accepting one counter: refused when it is not above the highest accepted one. */
export type AcceptResult =
  | { ok: true }
  | { ok: false; code: "REPLAY"; highest: bigint };

/** One item of {@link ReplayState.acceptBatch}. */
export interface AcceptItem {
  /** Sender id. */
  sender: string;
  /** Message counter. */
  counter: Counter;
}

/** Replay state: the highest accepted counter per sender. */
export interface ReplayState {
  /**
   * Highest counter accepted from `sender`, or `undefined` if none.
   * @example
   * ```ts
   * state.highest("sensor-1"); // 41n
   * ```
   */
  highest(sender: string): bigint | undefined;
  /**
   * Whether `counter` is above the highest accepted from `sender`. A read only: use {@link accept}
   * to record, which checks again atomically.
   * @example
   * ```ts
   * if (!state.isFresh("sensor-1", 42)) return { ok: false, code: "REPLAY" };
   * ```
   */
  isFresh(sender: string, counter: Counter): boolean;
  /**
   * Records `counter` as the highest from `sender` if it is above the current one; returns only after
   * the record is durable. Throws {@link StateError} `STATE_WRITE_FAILED` if it cannot be recorded.
   * @example
   * ```ts
   * const result = state.accept("sensor-1", 42);
   * if (result.ok) actuate(); // only after the counter is recorded
   * ```
   */
  accept(sender: string, counter: Counter): AcceptResult | Promise<AcceptResult>;
  /**
   * Accepts many counters in one durable transaction; items are applied in order, so a later item
   * for the same sender must exceed an earlier accepted one. Returns one result per item. A write
   * failure throws and records none of them.
   * @example
   * ```ts
   * const results = await state.acceptBatch([{ sender: "a", counter: 7 }, { sender: "b", counter: 3 }]);
   * ```
   */
  acceptBatch(items: readonly AcceptItem[]): AcceptResult[] | Promise<AcceptResult[]>;
  /**
   * When the state was created, ms since the epoch (0 if unknown): an envelope older than its state
   * cannot be judged by it (a state re-created after a loss knows none of the counters before).
   * @example
   * ```ts
   * if (ts < state.createdAtMs) return { ok: false, code: "STALE" };
   * ```
   */
  readonly createdAtMs: number;
  /**
   * Releases the state; later calls throw {@link StateError} `STATE_CLOSED`.
   * @example
   * ```ts
   * await state.close();
   * ```
   */
  close(): void | Promise<void>;
}

/** `isFresh` and `accept`, which every store derives the same way from `highest` and `acceptBatch`. */
abstract class ReplayStateBase implements ReplayState {
  abstract readonly createdAtMs: number;
  abstract highest(sender: string): bigint | undefined;
  abstract acceptBatch(items: readonly AcceptItem[]): AcceptResult[];
  abstract close(): void;

  /**
   * Whether `counter` is above the highest accepted from `sender`.
   * @example
   * ```ts
   * new MemoryReplayStore().isFresh("sensor-1", 1); // true
   * ```
   */
  isFresh(sender: string, counter: Counter): boolean {
    return isAbove(toCounter(counter), this.highest(sender));
  }

  /**
   * Records `counter` for `sender` (durably, for {@link ReplayStore}), or refuses a non-increasing one.
   * @example
   * ```ts
   * const state = new MemoryReplayStore();
   * state.accept("sensor-1", 5); // { ok: true }
   * state.accept("sensor-1", 5); // { ok: false, code: "REPLAY", highest: 5n }
   * ```
   */
  accept(sender: string, counter: Counter): AcceptResult {
    return this.acceptBatch([{ sender, counter }])[0];
  }
}

/** Options of {@link ReplayStore.open}. */
export interface ReplayStoreOptions {
  /** Open an existing store without write access (inspection); `accept` then throws `STATE_WRITE_FAILED`. */
  readOnly?: boolean;
  /**
   * Create the store when `path` does not exist (default true). False: a missing file is
   * `STATE_MISSING` (the actuator without `--init-state`: keygen made the state, so its absence means loss).
   */
  create?: boolean;
  /** Creation time to record in a new store, ms since the epoch (default: now). */
  nowMs?: number;
}

/** Replay state in a SQLite file, durable on every accept. */
export class ReplayStore extends ReplayStateBase {
  readonly #db: DatabaseSync;
  readonly #path: string;
  readonly #select: StatementSync;
  readonly #upsert: StatementSync;
  readonly #createdAtMs: number;
  #closed = false;

  private constructor(db: DatabaseSync, path: string, createdAtMs: number) {
    super();
    this.#db = db;
    this.#path = path;
    this.#createdAtMs = createdAtMs;
    this.#select = db.prepare("SELECT highest FROM replay_highest WHERE sender = ?");
    this.#select.setReadBigInts(true);
    this.#upsert = db.prepare(
      "INSERT INTO replay_highest (sender, highest) VALUES (?, ?) " +
        "ON CONFLICT (sender) DO UPDATE SET highest = excluded.highest",
    );
  }

  /**
   * Opens the store at `path`, creating it if the path does not exist. An existing file is checked
   * (SQLite header, `PRAGMA quick_check`, exact schema, schema version) before anything is written;
   * failing any check throws {@link StateError} `STATE_CORRUPT` (`STATE_UNREADABLE` for I/O and
   * permission errors) and leaves the file as it was.
   * @example
   * ```ts
   * const store = ReplayStore.open("state/actuator-replay.db");
   * ```
   */
  static open(path: string, options: ReplayStoreOptions = {}): ReplayStore {
    const readOnly = options.readOnly ?? false;
    const exists = pathExists(path);
    if (exists) checkHeader(path);
    else if (readOnly) throw new StateError("STATE_UNREADABLE", `replay state ${path} does not exist`);
    else if (options.create === false) {
      throw new StateError(
        "STATE_MISSING",
        `replay state ${path} does not exist: run secmqtt keygen, or create it once with --init-state`,
      );
    }

    let db: DatabaseSync;
    try {
      db = new DatabaseSync(path, { readOnly });
    } catch (error) {
      throw new StateError("STATE_UNREADABLE", `cannot open replay state ${path}: ${describe(error)}`, {
        cause: error,
      });
    }
    try {
      if (exists) validate(db, path);
      else initialise(db, path, options.nowMs ?? Date.now());
      if (!readOnly) {
        // WAL with synchronous=FULL syncs the log on every commit, so a committed accept survives
        // power loss (sqlite.org/pragma.html#pragma_synchronous).
        db.exec("PRAGMA journal_mode = WAL");
        db.exec("PRAGMA synchronous = FULL");
      }
      db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
      return new ReplayStore(db, path, readCreatedAt(db, path));
    } catch (error) {
      db.close();
      // Only a file this call created is removed; existing state is never touched.
      if (!exists) removeQuietly(path, `${path}-wal`, `${path}-shm`);
      throw error;
    }
  }

  /**
   * When the store was created (its `created_at_ms` meta row), ms since the epoch; 0 for a store made
   * before the row existed.
   * @example
   * ```ts
   * store.createdAtMs; // 1796220000000
   * ```
   */
  get createdAtMs(): number {
    return this.#createdAtMs;
  }

  /**
   * Highest counter accepted from `sender`, or `undefined` if none.
   * @example
   * ```ts
   * store.highest("sensor-1"); // 41n
   * ```
   */
  highest(sender: string): bigint | undefined {
    this.#checkOpen();
    checkSender(sender);
    try {
      return this.#read(sender);
    } catch (error) {
      throw new StateError("STATE_UNREADABLE", `cannot read replay state ${this.#path}: ${describe(error)}`, {
        cause: error,
      });
    }
  }

  /**
   * Accepts many counters in one durable transaction, in order.
   * @example
   * ```ts
   * const results = store.acceptBatch([{ sender: "a", counter: 7 }, { sender: "a", counter: 8 }]);
   * ```
   */
  acceptBatch(items: readonly AcceptItem[]): AcceptResult[] {
    this.#checkOpen();
    const checked = checkItems(items);
    if (checked.length === 0) return [];
    let results: AcceptResult[];
    try {
      // IMMEDIATE takes the write lock before reading, so the freshness check and the write are atomic.
      this.#db.exec("BEGIN IMMEDIATE");
      try {
        results = acceptInOrder(
          checked,
          (sender) => this.#read(sender),
          (sender, counter) => this.#upsert.run(sender, counter),
        );
        this.#db.exec("COMMIT");
      } catch (error) {
        if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
        throw error;
      }
    } catch (error) {
      throw new StateError(
        "STATE_WRITE_FAILED",
        `cannot record accepted counters in ${this.#path}: ${describe(error)}`,
        { cause: error },
      );
    }
    return results;
  }

  /**
   * Closes the database; later calls throw `STATE_CLOSED`. Calling it twice is harmless.
   * @example
   * ```ts
   * store.close();
   * ```
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }

  #read(sender: string): bigint | undefined {
    const row = this.#select.get(sender) as { highest: bigint } | undefined;
    return row?.highest;
  }

  #checkOpen(): void {
    if (this.#closed) throw new StateError("STATE_CLOSED", `replay state ${this.#path} is closed`);
  }
}

/** Replay state in memory with the semantics of {@link ReplayStore}; for tests of the logic. */
export class MemoryReplayStore extends ReplayStateBase {
  readonly #highest = new Map<string, bigint>();
  #closed = false;
  /** No creation time: a memory store judges every envelope the window lets through. */
  readonly createdAtMs = 0;

  /**
   * Highest counter accepted from `sender`, or `undefined` if none.
   * @example
   * ```ts
   * new MemoryReplayStore().highest("sensor-1"); // undefined
   * ```
   */
  highest(sender: string): bigint | undefined {
    this.#checkOpen();
    checkSender(sender);
    return this.#highest.get(sender);
  }

  /**
   * Accepts many counters, in order.
   * @example
   * ```ts
   * new MemoryReplayStore().acceptBatch([{ sender: "a", counter: 1 }, { sender: "a", counter: 1 }]);
   * // [{ ok: true }, { ok: false, code: "REPLAY", highest: 1n }]
   * ```
   */
  acceptBatch(items: readonly AcceptItem[]): AcceptResult[] {
    this.#checkOpen();
    return acceptInOrder(
      checkItems(items),
      (sender) => this.#highest.get(sender),
      (sender, counter) => this.#highest.set(sender, counter),
    );
  }

  /**
   * Closes the state; later calls throw `STATE_CLOSED`.
   * @example
   * ```ts
   * new MemoryReplayStore().close();
   * ```
   */
  close(): void {
    this.#closed = true;
  }

  #checkOpen(): void {
    if (this.#closed) throw new StateError("STATE_CLOSED", "replay state is closed");
  }
}

/** A batch's items with every sender and counter checked, before any of them is recorded. */
function checkItems(items: readonly AcceptItem[]): { sender: string; counter: bigint }[] {
  return items.map((item) => {
    checkSender(item.sender);
    return { sender: item.sender, counter: toCounter(item.counter) };
  });
}

/** The freshness rule: a counter must be strictly above the highest accepted one, if any. */
function isAbove(counter: bigint, highest: bigint | undefined): boolean {
  return highest === undefined || counter > highest;
}

/**
 * The one acceptance loop of both stores: in order, each fresh counter is recorded before the next item
 * is read, so a batch that repeats a counter refuses the repeat.
 */
function acceptInOrder(
  checked: readonly { sender: string; counter: bigint }[],
  highestOf: (sender: string) => bigint | undefined,
  record: (sender: string, counter: bigint) => void,
): AcceptResult[] {
  return checked.map(({ sender, counter }): AcceptResult => {
    const highest = highestOf(sender);
    if (highest !== undefined && !isAbove(counter, highest)) return { ok: false, code: "REPLAY", highest };
    record(sender, counter);
    return { ok: true };
  });
}

/**
 * Checks a counter and returns it as a bigint; throws {@link StateError} `STATE_BAD_ARGUMENT` otherwise.
 * @example
 * ```ts
 * toCounter(42); // 42n
 * ```
 */
export function toCounter(counter: Counter): bigint {
  if (typeof counter === "number") {
    if (!Number.isSafeInteger(counter) || counter < 0) {
      throw new StateError(
        "STATE_BAD_ARGUMENT",
        `expected a non-negative safe integer counter, got ${counter}`,
      );
    }
    return BigInt(counter);
  }
  if (typeof counter !== "bigint" || counter < 0n || counter > MAX_REPLAY_COUNTER) {
    throw new StateError("STATE_BAD_ARGUMENT", `expected a counter in [0, 2^63-1], got ${String(counter)}`);
  }
  return counter;
}

/**
 * Checks a sender id's length; throws {@link StateError} `STATE_BAD_ARGUMENT` otherwise.
 * @example
 * ```ts
 * checkSender("door-sensor-1");
 * ```
 */
export function checkSender(sender: string): void {
  if (typeof sender !== "string" || sender.length === 0 || sender.length > MAX_SENDER_ID_LENGTH) {
    throw new StateError(
      "STATE_BAD_ARGUMENT",
      `expected a sender id of 1..${MAX_SENDER_ID_LENGTH} characters, got ${JSON.stringify(sender)}`,
    );
  }
}

function pathExists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw new StateError("STATE_UNREADABLE", `cannot stat replay state ${path}: ${describe(error)}`, {
      cause: error,
    });
  }
}

/**
 * Cheap checks on the raw file before SQLite sees it: the magic string, and that the file is at least
 * as long as the page count its header claims (SQLite file format §1.3: the in-header database size is
 * valid when the change counter at offset 24 equals the version-valid-for number at offset 92).
 */
function checkHeader(path: string): void {
  let header: Uint8Array;
  let size: number;
  try {
    const file = Deno.openSync(path, { read: true });
    try {
      size = file.statSync().size;
      header = new Uint8Array(SQLITE_HEADER_BYTES);
      let filled = 0;
      while (filled < header.length) {
        const n = file.readSync(header.subarray(filled));
        if (n === null) break;
        filled += n;
      }
      header = header.subarray(0, filled);
    } finally {
      file.close();
    }
  } catch (error) {
    throw new StateError("STATE_UNREADABLE", `cannot read replay state ${path}: ${describe(error)}`, {
      cause: error,
    });
  }
  const magic = SQLITE_MAGIC_BYTES.every((byte, i) => header[i] === byte);
  if (header.length < SQLITE_HEADER_BYTES || !magic) {
    throw new StateError(
      "STATE_CORRUPT",
      `replay state ${path} is not a SQLite database; refusing to reset it`,
    );
  }
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
  const rawPageSize = view.getUint16(16);
  const pageSize = rawPageSize === 1 ? 65_536 : rawPageSize;
  const pageCount = view.getUint32(28);
  const sizeValid = pageCount !== 0 && view.getUint32(24) === view.getUint32(92);
  if (sizeValid && size < pageSize * pageCount) {
    throw new StateError(
      "STATE_CORRUPT",
      `replay state ${path} is truncated: ${size} bytes, header claims ${pageCount} pages of ${pageSize}`,
    );
  }
}

function validate(db: DatabaseSync, path: string): void {
  let check: unknown[];
  let schema: { type: string; name: string; sql: string | null }[];
  let version: { value: string } | undefined;
  try {
    check = db.prepare("PRAGMA quick_check").all();
    schema = db.prepare(
      "SELECT type, name, sql FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY name",
    ).all() as typeof schema;
  } catch (error) {
    throw new StateError(
      "STATE_CORRUPT",
      `replay state ${path} fails its integrity check: ${describe(error)}`,
      {
        cause: error,
      },
    );
  }
  const ok = check.length === 1 && (check[0] as Record<string, unknown>).quick_check === "ok";
  if (!ok) {
    throw new StateError(
      "STATE_CORRUPT",
      `replay state ${path} fails PRAGMA quick_check; refusing to reset it`,
    );
  }
  const matches = schema.length === SCHEMA.length &&
    SCHEMA.every((want, i) =>
      schema[i].type === want.type && schema[i].name === want.name && schema[i].sql === want.sql
    );
  if (!matches) {
    throw new StateError(
      "STATE_CORRUPT",
      `replay state ${path} has an unexpected schema; refusing to use it`,
    );
  }
  try {
    version = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as typeof version;
  } catch (error) {
    throw new StateError(
      "STATE_CORRUPT",
      `replay state ${path}: cannot read schema version: ${describe(error)}`,
      {
        cause: error,
      },
    );
  }
  if (version?.value !== String(REPLAY_SCHEMA_VERSION)) {
    throw new StateError(
      "STATE_CORRUPT",
      `replay state ${path} has schema version ${
        JSON.stringify(version?.value ?? null)
      }, expected ${REPLAY_SCHEMA_VERSION}`,
    );
  }
}

function initialise(db: DatabaseSync, path: string, nowMs: number): void {
  try {
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = FULL");
    db.exec("BEGIN IMMEDIATE");
    for (const table of SCHEMA) db.exec(table.sql);
    db.prepare("INSERT INTO meta (key, value) VALUES ('schema_version', ?), ('created_at_ms', ?)").run(
      String(REPLAY_SCHEMA_VERSION),
      String(nowMs),
    );
    db.exec("COMMIT");
  } catch (error) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw new StateError("STATE_WRITE_FAILED", `cannot create replay state ${path}: ${describe(error)}`, {
      cause: error,
    });
  }
}

/** The creation time; a store made before the row existed has none (0), a garbled one is corrupt. */
function readCreatedAt(db: DatabaseSync, path: string): number {
  const row = db.prepare("SELECT value FROM meta WHERE key = 'created_at_ms'").get() as
    | { value: string }
    | undefined;
  if (row === undefined) return 0;
  const value = Number(row.value);
  if (!/^[0-9]{1,16}$/.test(row.value) || !Number.isSafeInteger(value)) {
    throw new StateError("STATE_CORRUPT", `replay state ${path} has a garbled created_at_ms row`);
  }
  return value;
}

function removeQuietly(...paths: string[]): void {
  for (const path of paths) {
    try {
      Deno.removeSync(path);
    } catch {
      // Best effort: the file may never have been created.
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
