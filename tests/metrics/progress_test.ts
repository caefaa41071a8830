import assert from "node:assert/strict";
import { aggregateLogs } from "../../metrics/aggregate.ts";
import { type FoldProgress, formatBytes, ProgressLines } from "../../metrics/progress.ts";

/** A clock the test moves by hand. */
function fakeClock(start = 1_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

const at = (pass: 1 | 2, mb: number): FoldProgress => ({ pass, bytesRead: mb * 1e6, bytesTotal: 200e6 });

Deno.test("progress lines come at most every 2 s while the fold runs, naming the pass and the bytes read", () => {
  const clock = fakeClock();
  const lines: string[] = [];
  const progress = new ProgressLines({ now: clock.now, write: (l) => lines.push(l), live: true });
  progress.update(at(1, 10));
  clock.advance(1_999);
  progress.update(at(1, 60));
  assert.deepEqual(lines, [], "nothing before the interval");
  clock.advance(1);
  progress.update(at(1, 120));
  assert.deepEqual(lines, ["metrics: pass 1 of 2, 120 MB of 200 MB read"]);
  clock.advance(500);
  progress.update(at(1, 150));
  clock.advance(1_500);
  progress.update(at(2, 5));
  assert.deepEqual(lines.slice(1), ["metrics: pass 2 of 2, 5.0 MB of 200 MB read"]);
});

Deno.test("the final line is written always, also when stderr is not a terminal", () => {
  const clock = fakeClock();
  const lines: string[] = [];
  const progress = new ProgressLines({ now: clock.now, write: (l) => lines.push(l), live: false });
  for (let i = 1; i <= 100; i++) {
    clock.advance(1_000);
    progress.update(at(i <= 50 ? 1 : 2, 2 * (i % 51)));
  }
  assert.deepEqual(lines, [], "no progress lines when not live");
  progress.finish("554 records");
  assert.deepEqual(lines, ["metrics: read 200 MB twice in 100.0 s, 554 records"]);
});

Deno.test("bytes read out in short SI units", () => {
  assert.equal(formatBytes(0), "0 B");
  assert.equal(formatBytes(999), "999 B");
  assert.equal(formatBytes(1_500), "1.5 kB");
  assert.equal(formatBytes(120_400_000), "120 MB");
  assert.equal(formatBytes(2.5e9), "2.5 GB");
});

Deno.test("aggregateLogs reports both passes, each up to the inputs' total size", async () => {
  const dir = await Deno.makeTempDir({ prefix: "secmqtt-progress-test-" });
  try {
    const record = (i: number) =>
      JSON.stringify({ ts: i, role: "sensor", run: "r", event: "published", digest: `d${i}` });
    const a = `${dir}/a.jsonl`;
    const b = `${dir}/b.jsonl`;
    await Deno.writeTextFile(a, Array.from({ length: 50 }, (_, i) => record(i)).join("\n") + "\n");
    await Deno.writeTextFile(b, Array.from({ length: 70 }, (_, i) => record(100 + i)).join("\n") + "\n");
    const total = (await Deno.stat(a)).size + (await Deno.stat(b)).size;
    const seen: FoldProgress[] = [];
    const m = await aggregateLogs([a, b], (p) => seen.push({ ...p }));
    assert.equal(m.records, 120);
    for (const pass of [1, 2] as const) {
      const ofPass = seen.filter((p) => p.pass === pass);
      assert.ok(ofPass.length > 0, `pass ${pass} reported`);
      assert.equal(ofPass.at(-1)!.bytesRead, total, `pass ${pass} ends at the total`);
      assert.ok(
        ofPass.every((p, i) => p.bytesTotal === total && (i === 0 || p.bytesRead > ofPass[i - 1].bytesRead)),
      );
    }
    assert.ok(
      seen.findIndex((p) => p.pass === 2) > seen.findLastIndex((p) => p.pass === 1),
      "pass 1 before pass 2",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
