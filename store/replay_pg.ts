/**
 * Replay state in PostgreSQL, for several actuator instances on several machines that must agree: a
 * counter accepted by one instance is refused by every other, also after crashes.
 *
 * The accept step is ONE atomic conditional upsert (`INSERT … ON CONFLICT (sender) DO UPDATE … WHERE
 * highest < excluded.highest`): PostgreSQL locks the row and re-evaluates the condition on its newest
 * version, so two instances racing on one counter cannot both win, and a commit returns only once the
 * WAL is flushed (`synchronous_commit` on, the server default). Group commit is one transaction of such
 * statements.
 *
 * `highest` and `isFresh` answer from this instance's view (loaded at open, advanced by its own accepts):
 * a cheap early REPLAY for what this instance already knows. A counter another instance took meanwhile
 * looks fresh here and is refused by `accept`, which is the only authority.
 *
 * Fail-closed like the SQLite store: missing tables are `STATE_MISSING` unless `init` is asked for, and
 * tables of another shape or schema version are `STATE_CORRUPT`; nothing is created or changed then.
 * @module
 */

import pg from "pg";
import {
  type AcceptItem,
  type AcceptResult,
  checkSender,
  type Counter,
  REPLAY_SCHEMA_VERSION,
  type ReplayState,
  StateError,
  toCounter,
} from "./replay.ts";

/** The table of highest accepted counters (the meta table sits beside it). */
export const PG_REPLAY_TABLE = "secmqtt_replay_highest";
const PG_META_TABLE = "secmqtt_replay_meta";

const CREATE_SQL = [
  `CREATE TABLE ${PG_META_TABLE} (key text PRIMARY KEY, value text NOT NULL)`,
  `CREATE TABLE ${PG_REPLAY_TABLE} (sender text PRIMARY KEY, highest bigint NOT NULL CHECK (highest >= 0))`,
];

/** Columns each table must have, in order, with their types: anything else is refused as corrupt. */
const EXPECTED_COLUMNS: Record<string, string[]> = {
  [PG_META_TABLE]: ["key:text", "value:text"],
  [PG_REPLAY_TABLE]: ["sender:text", "highest:bigint"],
};

const ACCEPT_SQL = `INSERT INTO ${PG_REPLAY_TABLE} AS r (sender, highest) VALUES ($1, $2) ` +
  `ON CONFLICT (sender) DO UPDATE SET highest = excluded.highest WHERE r.highest < excluded.highest ` +
  `RETURNING highest`;

/** Options of {@link PgReplayStore.open}. */
export interface PgReplayStoreOptions {
  /** Create the tables when they do not exist yet (the actuator's `--init-state`). Default false. */
  init?: boolean;
}

/** The subset of a pg client this store uses. */
interface PgClient {
  connect(): Promise<unknown>;
  query(
    sql: string,
    values?: unknown[],
  ): Promise<{ rows: Record<string, unknown>[]; rowCount: number | null }>;
  end(): Promise<void>;
  on(event: "error", handler: (error: Error) => void): unknown;
}

/**
 * Where a `postgres://` URL points, without its password, for messages and logs.
 * @example
 * ```ts
 * describePgUrl("postgres://act:secret@db:5432/home"); // "postgres://act@db:5432/home"
 * ```
 */
export function describePgUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = "";
    return parsed.toString();
  } catch {
    return "postgres://(unparsable URL)";
  }
}

/**
 * True for a `--state` value that names a PostgreSQL database rather than a SQLite file.
 * @example
 * ```ts
 * isPostgresUrl("postgres://db/home"); // true
 * isPostgresUrl("state/replay.db"); // false
 * ```
 */
export function isPostgresUrl(state: string): boolean {
  return /^postgres(ql)?:\/\//.test(state);
}

/** Replay state shared by every actuator instance through one PostgreSQL database. */
export class PgReplayStore implements ReplayState {
  readonly #client: PgClient;
  readonly #where: string;
  readonly #known = new Map<string, bigint>();
  #createdAtMs = 0;
  #closed = false;
  #failure: Error | undefined;

  private constructor(client: PgClient, where: string) {
    this.#client = client;
    this.#where = where;
    // A connection that dies between queries fails the next accept instead of crashing the process.
    client.on("error", (error) => this.#failure = error);
  }

  /**
   * Connects, checks (or with `init`, creates) the tables and loads this instance's view.
   * Throws {@link StateError}: `STATE_UNREADABLE` when the server cannot be reached, `STATE_MISSING` when
   * the tables do not exist and `init` is not set, `STATE_CORRUPT` when they are not ours.
   * @example
   * ```ts
   * const store = await PgReplayStore.open("postgres://actuator@db/home", { init: true });
   * ```
   */
  static async open(url: string, options: PgReplayStoreOptions = {}): Promise<PgReplayStore> {
    const where = describePgUrl(url);
    const client = new pg.Client({ connectionString: url }) as unknown as PgClient;
    try {
      await client.connect();
    } catch (error) {
      throw new StateError(
        "STATE_UNREADABLE",
        `cannot connect to replay state ${where}: ${describe(error)}`,
        {
          cause: error,
        },
      );
    }
    const store = new PgReplayStore(client, where);
    try {
      await store.#prepare(options.init ?? false);
      return store;
    } catch (error) {
      await client.end().catch(() => {});
      if (error instanceof StateError) throw error;
      throw new StateError("STATE_UNREADABLE", `cannot read replay state ${where}: ${describe(error)}`, {
        cause: error,
      });
    }
  }

  /**
   * When the tables were created (ms since the epoch): no envelope older than the state can be judged
   * against it.
   * @example
   * ```ts
   * store.createdAtMs; // 1796220000000
   * ```
   */
  get createdAtMs(): number {
    return this.#createdAtMs;
  }

  /**
   * Highest counter this instance knows to be accepted from `sender`.
   * @example
   * ```ts
   * store.highest("door-sensor-1"); // 41n
   * ```
   */
  highest(sender: string): bigint | undefined {
    this.#checkOpen();
    checkSender(sender);
    return this.#known.get(sender);
  }

  /**
   * Whether `counter` is above what this instance knows; `accept` decides for all instances.
   * @example
   * ```ts
   * store.isFresh("door-sensor-1", 42);
   * ```
   */
  isFresh(sender: string, counter: Counter): boolean {
    const highest = this.highest(sender);
    return highest === undefined || toCounter(counter) > highest;
  }

  /**
   * Records `counter` if it is above the highest any instance accepted; resolves once it is durable.
   * @example
   * ```ts
   * const result = await store.accept("door-sensor-1", 42);
   * ```
   */
  async accept(sender: string, counter: Counter): Promise<AcceptResult> {
    return (await this.acceptBatch([{ sender, counter }]))[0];
  }

  /**
   * Accepts many counters in one transaction, in order. A failure records none of them.
   * @example
   * ```ts
   * await store.acceptBatch([{ sender: "a", counter: 7 }, { sender: "b", counter: 3 }]);
   * ```
   */
  async acceptBatch(items: readonly AcceptItem[]): Promise<AcceptResult[]> {
    this.#checkOpen();
    const checked = items.map((item) => {
      checkSender(item.sender);
      return { sender: item.sender, counter: toCounter(item.counter) };
    });
    if (checked.length === 0) return [];
    if (this.#failure) {
      throw new StateError(
        "STATE_WRITE_FAILED",
        `replay state ${this.#where} lost its connection: ${describe(this.#failure)}`,
      );
    }
    const results: AcceptResult[] = [];
    const learned = new Map<string, bigint>();
    try {
      if (checked.length > 1) await this.#client.query("BEGIN");
      for (const { sender, counter } of checked) {
        const won = await this.#client.query(ACCEPT_SQL, [sender, counter.toString()]);
        if (won.rowCount === 1) {
          results.push({ ok: true });
          learned.set(sender, counter);
          continue;
        }
        const current = await this.#client.query(`SELECT highest FROM ${PG_REPLAY_TABLE} WHERE sender = $1`, [
          sender,
        ]);
        const highest = BigInt(current.rows[0].highest as string);
        results.push({ ok: false, code: "REPLAY", highest });
        learned.set(sender, highest);
      }
      if (checked.length > 1) await this.#client.query("COMMIT");
    } catch (error) {
      if (checked.length > 1) await this.#client.query("ROLLBACK").catch(() => {});
      throw new StateError(
        "STATE_WRITE_FAILED",
        `cannot record accepted counters in ${this.#where}: ${describe(error)}`,
        { cause: error },
      );
    }
    for (const [sender, highest] of learned) {
      if ((this.#known.get(sender) ?? -1n) < highest) this.#known.set(sender, highest);
    }
    return results;
  }

  /**
   * Closes the connection; later calls throw `STATE_CLOSED`. Calling it twice is harmless.
   * @example
   * ```ts
   * await store.close();
   * ```
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#client.end().catch(() => {});
  }

  async #prepare(init: boolean): Promise<void> {
    const columns = await this.#client.query(
      "SELECT table_name, column_name, data_type FROM information_schema.columns " +
        "WHERE table_schema = current_schema() AND table_name = ANY($1) ORDER BY table_name, ordinal_position",
      [Object.keys(EXPECTED_COLUMNS)],
    );
    const found = new Map<string, string[]>();
    for (const row of columns.rows) {
      const table = row.table_name as string;
      found.set(table, [...found.get(table) ?? [], `${row.column_name}:${row.data_type}`]);
    }
    if (found.size === 0) {
      if (!init) {
        throw new StateError(
          "STATE_MISSING",
          `replay state ${this.#where} has no ${PG_REPLAY_TABLE} table: create it once with --init-state`,
        );
      }
      await this.#create();
    } else {
      for (const [table, expected] of Object.entries(EXPECTED_COLUMNS)) {
        if ((found.get(table) ?? []).join(",") !== expected.join(",")) {
          throw new StateError(
            "STATE_CORRUPT",
            `replay state ${this.#where}: table ${table} is missing or not secmqtt's (${
              (found.get(table) ?? []).join(", ") || "absent"
            })`,
          );
        }
      }
    }
    const version = await this.#client.query(
      `SELECT value FROM ${PG_META_TABLE} WHERE key = 'schema_version'`,
    );
    if (version.rows[0]?.value !== String(REPLAY_SCHEMA_VERSION)) {
      throw new StateError(
        "STATE_CORRUPT",
        `replay state ${this.#where}: schema version ${
          version.rows[0]?.value ?? "missing"
        }, expected ${REPLAY_SCHEMA_VERSION}`,
      );
    }
    const created = await this.#client.query(
      `SELECT value FROM ${PG_META_TABLE} WHERE key = 'created_at_ms'`,
    );
    this.#createdAtMs = Number(created.rows[0]?.value ?? 0);
    const rows = await this.#client.query(`SELECT sender, highest FROM ${PG_REPLAY_TABLE}`);
    for (const row of rows.rows) this.#known.set(row.sender as string, BigInt(row.highest as string));
  }

  async #create(): Promise<void> {
    // Two instances started with --init-state at once: the loser's CREATE fails inside its transaction,
    // and it then finds the winner's tables on its next start.
    await this.#client.query("BEGIN");
    try {
      for (const sql of CREATE_SQL) await this.#client.query(sql);
      await this.#client.query(
        `INSERT INTO ${PG_META_TABLE} (key, value) VALUES ('schema_version', $1), ('created_at_ms', $2)`,
        [String(REPLAY_SCHEMA_VERSION), String(Date.now())],
      );
      await this.#client.query("COMMIT");
    } catch (error) {
      await this.#client.query("ROLLBACK").catch(() => {});
      throw error;
    }
  }

  #checkOpen(): void {
    if (this.#closed) throw new StateError("STATE_CLOSED", `replay state ${this.#where} is closed`);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
