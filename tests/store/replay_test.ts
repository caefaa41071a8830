import { deepStrictEqual, equal, ok, throws } from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { MemoryReplayStore, type ReplayState, ReplayStore, StateError } from "../../store/replay.ts";
import { assertThrowsCode, withTempDir } from "../../testkit/temp_dir.ts";

const TEMP_PREFIX = "secmqtt-replay-";

function assertStateError(fn: () => unknown, code: string): void {
  assertThrowsCode(fn, StateError, code);
}

/** A real store with some state, closed, so its bytes can be damaged. */
function makeStore(path: string, senders = 200): void {
  const store = ReplayStore.open(path);
  store.acceptBatch(Array.from({ length: senders }, (_, i) => ({ sender: `sensor-${i}`, counter: i + 1 })));
  store.close();
}

const implementations: [string, (dir: string) => ReplayState][] = [
  ["ReplayStore", (dir) => ReplayStore.open(`${dir}/replay.db`)],
  ["MemoryReplayStore", () => new MemoryReplayStore()],
];

for (const [name, open] of implementations) {
  Deno.test(`${name}: an unknown sender has no highest counter and any counter is fresh`, () =>
    withTempDir(TEMP_PREFIX, (dir) => {
      const state = open(dir);
      equal(state.highest("sensor-1"), undefined);
      ok(state.isFresh("sensor-1", 0));
      state.close();
    }));

  Deno.test(`${name}: accept records a strictly increasing counter`, () =>
    withTempDir(TEMP_PREFIX, (dir) => {
      const state = open(dir);
      deepStrictEqual(state.accept("sensor-1", 1), { ok: true });
      deepStrictEqual(state.accept("sensor-1", 5), { ok: true });
      equal(state.highest("sensor-1"), 5n);
      ok(state.isFresh("sensor-1", 6));
      ok(!state.isFresh("sensor-1", 5));
      ok(!state.isFresh("sensor-1", 4));
      state.close();
    }));

  Deno.test(`${name}: accept refuses an equal or lower counter and keeps the highest`, () =>
    withTempDir(TEMP_PREFIX, (dir) => {
      const state = open(dir);
      state.accept("sensor-1", 10);
      deepStrictEqual(state.accept("sensor-1", 10), { ok: false, code: "REPLAY", highest: 10n });
      deepStrictEqual(state.accept("sensor-1", 3), { ok: false, code: "REPLAY", highest: 10n });
      equal(state.highest("sensor-1"), 10n);
      state.close();
    }));

  Deno.test(`${name}: senders are independent`, () =>
    withTempDir(TEMP_PREFIX, (dir) => {
      const state = open(dir);
      state.accept("a", 100);
      deepStrictEqual(state.accept("b", 1), { ok: true });
      equal(state.highest("a"), 100n);
      equal(state.highest("b"), 1n);
      state.close();
    }));

  Deno.test(`${name}: bigint counters up to 2^63-1 are exact`, () =>
    withTempDir(TEMP_PREFIX, (dir) => {
      const state = open(dir);
      const big = (1n << 63n) - 2n;
      state.accept("s", big);
      ok(state.isFresh("s", big + 1n));
      ok(!state.isFresh("s", big));
      equal(state.highest("s"), big);
      assertStateError(() => state.accept("s", 1n << 63n), "STATE_BAD_ARGUMENT");
      state.close();
    }));

  Deno.test(`${name}: invalid counters and sender ids are refused`, () =>
    withTempDir(TEMP_PREFIX, (dir) => {
      const state = open(dir);
      assertStateError(() => state.accept("s", -1), "STATE_BAD_ARGUMENT");
      assertStateError(() => state.accept("s", 1.5), "STATE_BAD_ARGUMENT");
      assertStateError(() => state.accept("s", Number.MAX_SAFE_INTEGER + 1), "STATE_BAD_ARGUMENT");
      assertStateError(() => state.isFresh("s", NaN), "STATE_BAD_ARGUMENT");
      assertStateError(() => state.accept("", 1), "STATE_BAD_ARGUMENT");
      state.close();
    }));

  Deno.test(`${name}: acceptBatch applies items in order and reports each`, () =>
    withTempDir(TEMP_PREFIX, (dir) => {
      const state = open(dir);
      state.accept("a", 5);
      const results = state.acceptBatch([
        { sender: "a", counter: 6 },
        { sender: "a", counter: 6 },
        { sender: "b", counter: 1 },
        { sender: "a", counter: 4 },
        { sender: "a", counter: 9 },
      ]);
      deepStrictEqual(results, [
        { ok: true },
        { ok: false, code: "REPLAY", highest: 6n },
        { ok: true },
        { ok: false, code: "REPLAY", highest: 6n },
        { ok: true },
      ]);
      equal(state.highest("a"), 9n);
      equal(state.highest("b"), 1n);
      deepStrictEqual(state.acceptBatch([]), []);
      state.close();
    }));

  Deno.test(`${name}: a closed store refuses every call`, () =>
    withTempDir(TEMP_PREFIX, (dir) => {
      const state = open(dir);
      state.close();
      assertStateError(() => state.accept("a", 1), "STATE_CLOSED");
      assertStateError(() => state.highest("a"), "STATE_CLOSED");
    }));
}

Deno.test("ReplayStore: state survives close and reopen", () =>
  withTempDir(TEMP_PREFIX, (dir) => {
    const path = `${dir}/replay.db`;
    const first = ReplayStore.open(path);
    first.accept("sensor-1", 41);
    first.acceptBatch([{ sender: "sensor-2", counter: 7 }, { sender: "sensor-1", counter: 42 }]);
    first.close();
    const second = ReplayStore.open(path);
    equal(second.highest("sensor-1"), 42n);
    equal(second.highest("sensor-2"), 7n);
    ok(!second.isFresh("sensor-1", 42));
    deepStrictEqual(second.accept("sensor-1", 42), { ok: false, code: "REPLAY", highest: 42n });
    second.close();
  }));

Deno.test("ReplayStore: an accepted counter is visible to another connection before close (committed)", () =>
  withTempDir(TEMP_PREFIX, (dir) => {
    const path = `${dir}/replay.db`;
    const store = ReplayStore.open(path);
    store.accept("sensor-1", 3);
    const reader = new DatabaseSync(path, { readOnly: true });
    deepStrictEqual(
      { ...reader.prepare("SELECT highest FROM replay_highest WHERE sender = 'sensor-1'").get() },
      { highest: 3 },
    );
    reader.close();
    store.close();
  }));

Deno.test("ReplayStore: the database uses WAL journaling", () =>
  withTempDir(TEMP_PREFIX, (dir) => {
    const path = `${dir}/replay.db`;
    ReplayStore.open(path).close();
    const db = new DatabaseSync(path, { readOnly: true });
    deepStrictEqual({ ...db.prepare("PRAGMA journal_mode").get() }, { journal_mode: "wal" });
    db.close();
  }));

/** Opening damaged state must throw `code` and leave every byte of the file as it was. */
function assertRefusedUntouched(path: string, code: string): void {
  const before = Deno.readFileSync(path);
  assertStateError(() => ReplayStore.open(path), code);
  deepStrictEqual(Deno.readFileSync(path), before, "the state file must not be modified");
}

Deno.test("ReplayStore: a file of random bytes is refused as corrupt and left untouched", () =>
  withTempDir(TEMP_PREFIX, (dir) => {
    const path = `${dir}/replay.db`;
    Deno.writeFileSync(path, crypto.getRandomValues(new Uint8Array(8192)));
    assertRefusedUntouched(path, "STATE_CORRUPT");
  }));

Deno.test("ReplayStore: an empty existing file is refused, not treated as new state", () =>
  withTempDir(TEMP_PREFIX, (dir) => {
    const path = `${dir}/replay.db`;
    Deno.writeFileSync(path, new Uint8Array(0));
    assertRefusedUntouched(path, "STATE_CORRUPT");
  }));

Deno.test("ReplayStore: a truncated real database is refused and left untouched", () =>
  withTempDir(TEMP_PREFIX, (dir) => {
    const path = `${dir}/replay.db`;
    makeStore(path);
    const bytes = Deno.readFileSync(path);
    ok(bytes.length > 4096, `expected a multi-page database, got ${bytes.length} bytes`);
    for (const length of [50, 4096, Math.floor(bytes.length / 2), bytes.length - 1]) {
      Deno.writeFileSync(path, bytes.subarray(0, length));
      assertRefusedUntouched(path, "STATE_CORRUPT");
    }
  }));

Deno.test("ReplayStore: a database with damaged pages is refused and left untouched", () =>
  withTempDir(TEMP_PREFIX, (dir) => {
    const path = `${dir}/replay.db`;
    makeStore(path);
    const bytes = Deno.readFileSync(path);
    // Overwrite the middle of page 2 onwards (b-tree pages), keeping the 100-byte header intact.
    bytes.fill(0xa5, 4096 + 8, bytes.length - 512);
    Deno.writeFileSync(path, bytes);
    assertRefusedUntouched(path, "STATE_CORRUPT");
  }));

Deno.test("ReplayStore: a SQLite database with another schema is refused and left untouched", () =>
  withTempDir(TEMP_PREFIX, (dir) => {
    const path = `${dir}/replay.db`;
    const db = new DatabaseSync(path);
    db.exec("CREATE TABLE replay_highest (sender TEXT, highest INTEGER)");
    db.close();
    assertRefusedUntouched(path, "STATE_CORRUPT");
  }));

Deno.test("ReplayStore: an empty SQLite database is refused, not initialised", () =>
  withTempDir(TEMP_PREFIX, (dir) => {
    const path = `${dir}/replay.db`;
    const db = new DatabaseSync(path);
    db.exec("PRAGMA user_version = 1"); // forces the file to be written
    db.close();
    assertRefusedUntouched(path, "STATE_CORRUPT");
  }));

Deno.test("ReplayStore: a wrong schema version is refused and left untouched", () =>
  withTempDir(TEMP_PREFIX, (dir) => {
    const path = `${dir}/replay.db`;
    makeStore(path, 3);
    const db = new DatabaseSync(path);
    db.exec("UPDATE meta SET value = '2' WHERE key = 'schema_version'");
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    db.close();
    assertRefusedUntouched(path, "STATE_CORRUPT");
    const db2 = new DatabaseSync(path);
    db2.exec("DELETE FROM meta");
    db2.close();
    assertRefusedUntouched(path, "STATE_CORRUPT");
  }));

Deno.test("ReplayStore: a directory in place of the file is refused as unreadable", () =>
  withTempDir(TEMP_PREFIX, (dir) => {
    assertStateError(() => ReplayStore.open(dir), "STATE_UNREADABLE");
  }));

Deno.test("ReplayStore: opening read-only a path that does not exist creates nothing", () =>
  withTempDir(TEMP_PREFIX, (dir) => {
    const path = `${dir}/replay.db`;
    assertStateError(() => ReplayStore.open(path, { readOnly: true }), "STATE_UNREADABLE");
    throws(() => Deno.statSync(path), Deno.errors.NotFound);
  }));

Deno.test("ReplayStore: a store opened read-only reads state but accept throws STATE_WRITE_FAILED", () =>
  withTempDir(TEMP_PREFIX, (dir) => {
    const path = `${dir}/replay.db`;
    makeStore(path, 2);
    const store = ReplayStore.open(path, { readOnly: true });
    equal(store.highest("sensor-1"), 2n);
    assertStateError(() => store.accept("sensor-1", 3), "STATE_WRITE_FAILED");
    assertStateError(() => store.acceptBatch([{ sender: "new", counter: 1 }]), "STATE_WRITE_FAILED");
    equal(store.highest("sensor-1"), 2n);
    store.close();
  }));

/**
 * Makes a file unwritable even for root: chmod for ordinary users, the immutable attribute (chattr +i)
 * for root, who ignores file modes. Returns the undo function, or undefined if neither is possible.
 */
async function makeReadOnly(path: string): Promise<(() => Promise<void>) | undefined> {
  if (Deno.uid() !== 0) {
    await Deno.chmod(path, 0o444);
    return () => Deno.chmod(path, 0o644);
  }
  const chattr = async (flag: string) =>
    (await new Deno.Command("chattr", { args: [flag, path] }).output()).success;
  try {
    if (await chattr("+i")) return async () => void await chattr("-i");
  } catch {
    // chattr not installed
  }
  return undefined;
}

Deno.test("ReplayStore: a read-only state file makes accept throw STATE_WRITE_FAILED, never succeed silently", () =>
  withTempDir(TEMP_PREFIX, async (dir) => {
    const path = `${dir}/replay.db`;
    makeStore(path, 2);
    const undo = await makeReadOnly(path);
    if (!undo) {
      ok(!Deno.env.get("CI"), "CI must be able to make a file read-only (chmod or chattr +i)");
      return;
    }
    try {
      const store = ReplayStore.open(path);
      equal(store.highest("sensor-1"), 2n);
      assertStateError(() => store.accept("sensor-1", 3), "STATE_WRITE_FAILED");
      equal(store.highest("sensor-1"), 2n);
      store.close();
    } finally {
      await undo();
    }
  }));

Deno.test("ReplayStore: a failed batch records none of its items", () =>
  withTempDir(TEMP_PREFIX, (dir) => {
    const path = `${dir}/replay.db`;
    makeStore(path, 1);
    const store = ReplayStore.open(path, { readOnly: true });
    assertStateError(
      () => store.acceptBatch([{ sender: "x", counter: 1 }, { sender: "y", counter: 1 }]),
      "STATE_WRITE_FAILED",
    );
    store.close();
    const reopened = ReplayStore.open(path);
    equal(reopened.highest("x"), undefined);
    equal(reopened.highest("y"), undefined);
    reopened.close();
  }));

Deno.test("ReplayStore: many accepts in one batch all persist", () =>
  withTempDir(TEMP_PREFIX, (dir) => {
    const path = `${dir}/replay.db`;
    const store = ReplayStore.open(path);
    const items = Array.from({ length: 1000 }, (_, i) => ({ sender: `s${i % 10}`, counter: i }));
    const results = store.acceptBatch(items);
    equal(results.filter((r) => r.ok).length, 1000);
    store.close();
    const reopened = ReplayStore.open(path);
    for (let s = 0; s < 10; s++) equal(reopened.highest(`s${s}`), BigInt(990 + s));
    reopened.close();
  }));

Deno.test("ReplayStore: with create false a missing file is STATE_MISSING (exit-2 kind) and nothing is made", async () => {
  await withTempDir(TEMP_PREFIX, (dir) => {
    const path = `${dir}/lost.db`;
    throws(() => ReplayStore.open(path, { create: false }), (error: unknown) => {
      ok(error instanceof StateError);
      equal(error.code, "STATE_MISSING");
      equal(error.kind, "input");
      ok(error.message.includes(path), error.message);
      return true;
    });
    throws(() => Deno.statSync(path), Deno.errors.NotFound);
  });
});

Deno.test("ReplayStore: the creation time is recorded once and survives a reopen", async () => {
  await withTempDir(TEMP_PREFIX, (dir) => {
    const path = `${dir}/replay.db`;
    ReplayStore.open(path, { nowMs: 1_796_220_000_000 }).close();
    const reopened = ReplayStore.open(path, { create: false, nowMs: 5 });
    equal(reopened.createdAtMs, 1_796_220_000_000);
    reopened.close();
  });
});

Deno.test("ReplayStore: a garbled creation time is STATE_CORRUPT, and the file is left as it was", async () => {
  await withTempDir(TEMP_PREFIX, (dir) => {
    const path = `${dir}/replay.db`;
    ReplayStore.open(path).close();
    const db = new DatabaseSync(path);
    db.exec("UPDATE meta SET value = 'yesterday' WHERE key = 'created_at_ms'");
    db.close();
    const before = Deno.readFileSync(path);
    assertStateError(() => ReplayStore.open(path), "STATE_CORRUPT");
    deepStrictEqual(Deno.readFileSync(path), before);
  });
});
