/**
 * One replay state shared by several actuator instances: a counter accepted by one is refused by every
 * other. Real SQLite files shared by several processes, and a real PostgreSQL server (initdb in a temp
 * directory) with several connections racing on the same counters.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { PG_REPLAY_TABLE, PgReplayStore } from "../../store/replay_pg.ts";
import { ReplayStore } from "../../store/replay.ts";
import { postgresAvailable, startPostgres } from "../../testkit/postgres.ts";
import pg from "pg";
import { waitFor } from "./cli_process.ts";

const WORKER = fileURLToPath(new URL("./replay_race_worker.ts", import.meta.url));
const CONTENDERS = 3;
const SENDERS = 200;

Deno.test("SQLite shared by processes: each contested counter is won by exactly one process", async () => {
  const dir = await Deno.makeTempDir({ prefix: "secmqtt-race-" });
  try {
    const path = `${dir}/replay.db`;
    ReplayStore.open(path).close(); // created once, as keygen or --init-state does
    const start = `${dir}/go`;
    const workers = Array.from({ length: CONTENDERS }, () =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "--quiet", WORKER, path, start, String(SENDERS)],
        stdout: "piped",
        stderr: "piped",
      }).spawn());
    // Release them together once every worker has opened the store.
    await waitFor(
      () => [...Deno.readDirSync(dir)].filter((e) => e.name.startsWith("go.ready-")).length === CONTENDERS,
      60_000,
      "every contender to open the store",
    );
    Deno.writeTextFileSync(start, "");
    const outputs = await Promise.all(workers.map((w) => w.output()));
    const wins = outputs.map((o) => {
      assert.equal(o.code, 0, new TextDecoder().decode(o.stderr));
      return JSON.parse(new TextDecoder().decode(o.stdout)) as string[];
    });
    const all = wins.flat();
    assert.equal(all.length, SENDERS, "every sender's counter 1 was won exactly once");
    assert.equal(new Set(all).size, SENDERS, "no counter was won twice");
    const store = ReplayStore.open(path);
    assert.equal(store.highest("s0"), 1n);
    store.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "PostgreSQL: fail-closed open, conditional accept, and a race of connections: one winner per counter",
  ignore: !postgresAvailable(),
  async fn() {
    const server = await startPostgres();
    const stores: PgReplayStore[] = [];
    try {
      await assert.rejects(PgReplayStore.open(server.url), (error: unknown) => {
        assert.equal((error as { code?: string }).code, "STATE_MISSING");
        assert.match((error as Error).message, /--init-state/);
        return true;
      });
      const first = await PgReplayStore.open(server.url, { init: true });
      stores.push(first);
      assert.ok(first.createdAtMs > 0, "creation time recorded");
      for (let i = 1; i < CONTENDERS; i++) stores.push(await PgReplayStore.open(server.url));

      assert.deepEqual(await first.accept("door", 5), { ok: true });
      assert.deepEqual(await stores[1].accept("door", 5), { ok: false, code: "REPLAY", highest: 5n });
      assert.deepEqual(await stores[1].accept("door", 4), { ok: false, code: "REPLAY", highest: 5n });
      assert.equal(stores[1].highest("door"), 5n, "the loser learned the winner's counter");
      assert.deepEqual(
        await first.acceptBatch([{ sender: "door", counter: 6 }, { sender: "door", counter: 6 }, {
          sender: "other",
          counter: 1,
        }]),
        [{ ok: true }, { ok: false, code: "REPLAY", highest: 6n }, { ok: true }],
      );

      // The race: every connection tries counter 1 of every sender at once.
      const attempts = await Promise.all(
        stores.map(async (store) => {
          const won: string[] = [];
          await Promise.all(
            Array.from({ length: SENDERS }, async (_, i) => {
              if ((await store.accept(`race-${i}`, 1)).ok) won.push(`race-${i}`);
            }),
          );
          return won;
        }),
      );
      const all = attempts.flat();
      assert.equal(all.length, SENDERS);
      assert.equal(new Set(all).size, SENDERS);

      // A restart keeps what was accepted.
      await first.close();
      const reopened = await PgReplayStore.open(server.url);
      stores[0] = reopened;
      assert.equal(reopened.highest("door"), 6n);
      assert.equal(reopened.isFresh("door", 6), false);
    } finally {
      for (const store of stores) await store.close();
      await server.close();
    }
  },
});

Deno.test({
  name: "PostgreSQL: tables that are not ours are refused as STATE_CORRUPT and left alone",
  ignore: !postgresAvailable(),
  async fn() {
    const server = await startPostgres();
    const client = new pg.Client({ connectionString: server.url });
    try {
      await client.connect();
      await client.query(`CREATE TABLE ${PG_REPLAY_TABLE} (sender text PRIMARY KEY, highest text)`);
      await assert.rejects(PgReplayStore.open(server.url, { init: true }), (error: unknown) => {
        assert.equal((error as { code?: string }).code, "STATE_CORRUPT");
        return true;
      });
      const still = await client.query(`SELECT count(*) AS n FROM ${PG_REPLAY_TABLE}`);
      assert.equal(Number(still.rows[0].n), 0);
    } finally {
      await client.end();
      await server.close();
    }
  },
});
