import assert from "node:assert/strict";
import { KeyPrefetch } from "../../roles/key_prefetch.ts";

/** A key maker whose every key is finished by hand, so a test decides what is ready when. */
function manualMaker() {
  const pending: { resolve(key: { id: number }): void; reject(error: Error): void }[] = [];
  let made = 0;
  const make = () =>
    new Promise<{ id: number }>((resolve, reject) => {
      pending.push({ resolve, reject });
      made++;
    });
  return {
    make,
    get made() {
      return made;
    },
    /** Finishes the oldest key still being made, with id = its order of making. */
    finish(): void {
      const id = made - pending.length + 1;
      pending.shift()!.resolve({ id });
    },
    fail(): void {
      pending.shift()!.reject(new Error("wrap failed"));
    },
  };
}

/** Lets every pending promise callback run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

Deno.test("a key prepared and finished before it is asked for is handed out ready", async () => {
  const maker = manualMaker();
  const keys = new KeyPrefetch(maker.make);
  keys.prepare();
  maker.finish();
  await settle();
  const { key, source } = await keys.take();
  assert.deepEqual(key, { id: 1 });
  assert.equal(source, "ready");
  assert.equal(maker.made, 1);
});

Deno.test("a prepared key is handed out once: the next take makes a new one", async () => {
  const maker = manualMaker();
  const keys = new KeyPrefetch(maker.make);
  keys.prepare();
  maker.finish();
  const first = await keys.take();
  const second = keys.take();
  await settle();
  maker.finish();
  const { key, source } = await second;
  assert.notEqual(key, first.key);
  assert.equal(source, "on_demand");
  assert.equal(maker.made, 2);
});

Deno.test("two takes at once never share the prepared key", async () => {
  const maker = manualMaker();
  const keys = new KeyPrefetch(maker.make);
  keys.prepare();
  const a = keys.take();
  const b = keys.take();
  maker.finish();
  await settle();
  maker.finish();
  const [ka, kb] = await Promise.all([a, b]);
  assert.notEqual(ka.key, kb.key);
  assert.deepEqual([ka.source, kb.source], ["in_flight", "on_demand"]);
});

Deno.test("a take while the key is still being made waits for that key instead of making another", async () => {
  const maker = manualMaker();
  const keys = new KeyPrefetch(maker.make);
  keys.prepare();
  const taking = keys.take();
  await settle();
  assert.equal(maker.made, 1);
  maker.finish();
  assert.deepEqual(await taking, { key: { id: 1 }, source: "in_flight" });
});

Deno.test("without a preparation the key is made on demand", async () => {
  const maker = manualMaker();
  const keys = new KeyPrefetch(maker.make);
  const taking = keys.take();
  await settle();
  maker.finish();
  assert.deepEqual(await taking, { key: { id: 1 }, source: "on_demand" });
  assert.deepEqual(keys.stats.taken, { ready: 0, in_flight: 0, on_demand: 1 });
});

Deno.test("prepare is a no-op while a key is prepared or being made", async () => {
  const maker = manualMaker();
  const keys = new KeyPrefetch(maker.make);
  keys.prepare();
  keys.prepare();
  maker.finish();
  await settle();
  keys.prepare();
  assert.equal(maker.made, 1);
  assert.equal(keys.stats.prepared, 1);
  await keys.take();
});

Deno.test("a failed preparation is forgotten: take makes the key itself, and its own error surfaces", async () => {
  const maker = manualMaker();
  const keys = new KeyPrefetch(maker.make);
  keys.prepare();
  maker.fail();
  await settle();
  assert.equal(keys.stats.failed, 1);
  const taking = keys.take();
  await settle();
  maker.fail();
  await assert.rejects(taking, /wrap failed/);
  const retry = keys.take();
  await settle();
  maker.finish();
  assert.equal((await retry).source, "on_demand");
});

Deno.test("a maker that throws at once fails the preparation, not prepare()", async () => {
  let calls = 0;
  const keys = new KeyPrefetch<{ id: number }>(() => {
    calls++;
    if (calls === 1) throw new Error("no key");
    return Promise.resolve({ id: calls });
  });
  keys.prepare();
  assert.equal(keys.stats.failed, 1);
  assert.deepEqual(await keys.take(), { key: { id: 2 }, source: "on_demand" });
});

Deno.test("idle resolves once nothing is being made, also after a failure", async () => {
  const maker = manualMaker();
  const keys = new KeyPrefetch(maker.make);
  await keys.idle();
  keys.prepare();
  let idle = false;
  const waiting = keys.idle().then(() => idle = true);
  await settle();
  assert.equal(idle, false);
  maker.fail();
  await waiting;
  assert.equal(idle, true);
});
