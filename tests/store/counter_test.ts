import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { CounterError, CounterStore } from "../../store/counter.ts";
import { assertThrowsCode, withTempDir } from "../../testkit/temp_dir.ts";

const TEMP_PREFIX = "secmqtt-counter-";

function assertCounterError(fn: () => unknown, code: string): void {
  assertThrowsCode(fn, CounterError, code);
}

function take(counter: CounterStore, n: number): number[] {
  return Array.from({ length: n }, () => counter.next());
}

Deno.test("CounterStore: a missing file starts at 1 and counts up by one", () =>
  withTempDir(TEMP_PREFIX, (dir) => {
    const counter = CounterStore.open(`${dir}/c`);
    deepStrictEqual(take(counter, 5), [1, 2, 3, 4, 5]);
    counter.close();
  }));

Deno.test("CounterStore: values are reserved on disk before they are handed out", () =>
  withTempDir(TEMP_PREFIX, (dir) => {
    const path = `${dir}/c`;
    const counter = CounterStore.open(path, { blockSize: 10 });
    counter.next();
    equal(Deno.readTextFileSync(path), "secmqtt-counter 1 10\n");
    take(counter, 9);
    equal(Deno.readTextFileSync(path), "secmqtt-counter 1 10\n");
    equal(counter.next(), 11);
    equal(Deno.readTextFileSync(path), "secmqtt-counter 1 20\n");
    counter.close();
  }));

Deno.test("CounterStore: values keep increasing across close and reopen", () =>
  withTempDir(TEMP_PREFIX, (dir) => {
    const path = `${dir}/c`;
    const seen: number[] = [];
    for (let round = 0; round < 5; round++) {
      const counter = CounterStore.open(path, { blockSize: 4 });
      seen.push(...take(counter, 3 + round));
      counter.close();
    }
    for (let i = 1; i < seen.length; i++) ok(seen[i] > seen[i - 1], `not increasing at ${i}: ${seen}`);
  }));

Deno.test("CounterStore: a crash (reopen without close) skips forward and never repeats a value", () =>
  withTempDir(TEMP_PREFIX, (dir) => {
    const path = `${dir}/c`;
    const seen = new Set<number>();
    let last = 0;
    for (let crash = 0; crash < 10; crash++) {
      // The previous instance is abandoned, as after kill -9: no close, no flush.
      const counter = CounterStore.open(path, { blockSize: 8 });
      for (const value of take(counter, 1 + crash * 3)) {
        ok(!seen.has(value), `value ${value} handed out twice`);
        ok(value > last, `value ${value} not above ${last}`);
        seen.add(value);
        last = value;
      }
    }
  }));

Deno.test("CounterStore: a corrupt file is refused and left as it was, never reset to 0", () =>
  withTempDir(TEMP_PREFIX, (dir) => {
    const path = `${dir}/c`;
    const bad = [
      "",
      "12\n",
      "secmqtt-counter 1 \n",
      "secmqtt-counter 1 012\n",
      "secmqtt-counter 2 5\n",
      "secmqtt-counter 1 5",
      "secmqtt-counter 1 -5\n",
      "secmqtt-counter 1 99999999999999999\n",
    ];
    for (const text of bad) {
      Deno.writeTextFileSync(path, text);
      assertCounterError(() => CounterStore.open(path), "STATE_CORRUPT");
      equal(Deno.readTextFileSync(path), text);
    }
    Deno.writeFileSync(path, new Uint8Array([0xff, 0xfe, 0x00]));
    assertCounterError(() => CounterStore.open(path), "STATE_CORRUPT");
  }));

Deno.test("CounterStore: an unreadable path is a typed error", () =>
  withTempDir(TEMP_PREFIX, (dir) => {
    assertCounterError(() => CounterStore.open(dir), "STATE_UNREADABLE");
  }));

Deno.test("CounterStore: a failed reservation hands out nothing", () =>
  withTempDir(TEMP_PREFIX, (dir) => {
    const counter = CounterStore.open(`${dir}/missing-dir/c`);
    assertCounterError(() => counter.next(), "STATE_WRITE_FAILED");
    assertCounterError(() => counter.next(), "STATE_WRITE_FAILED");
  }));

Deno.test("CounterStore: a bad block size and use after close are refused", () =>
  withTempDir(TEMP_PREFIX, (dir) => {
    assertCounterError(() => CounterStore.open(`${dir}/c`, { blockSize: 0 }), "COUNTER_BAD_OPTION");
    const counter = CounterStore.open(`${dir}/c`);
    counter.close();
    assertCounterError(() => counter.next(), "COUNTER_CLOSED");
  }));

Deno.test("CounterStore: the counter stops at 2^53-1 instead of losing precision", () =>
  withTempDir(TEMP_PREFIX, (dir) => {
    const path = `${dir}/c`;
    Deno.writeTextFileSync(path, `secmqtt-counter 1 ${Number.MAX_SAFE_INTEGER - 2}\n`);
    const counter = CounterStore.open(path);
    deepStrictEqual(take(counter, 2), [Number.MAX_SAFE_INTEGER - 1, Number.MAX_SAFE_INTEGER]);
    assertCounterError(() => counter.next(), "COUNTER_EXHAUSTED");
  }));

Deno.test("CounterStore: after a real kill -9 the restarted counter is above every value printed", () =>
  withTempDir(TEMP_PREFIX, async (dir) => {
    const path = `${dir}/c`;
    const script = `${dir}/child.ts`;
    const moduleUrl = new URL("../../store/counter.ts", import.meta.url).href;
    Deno.writeTextFileSync(
      script,
      `import { CounterStore } from ${JSON.stringify(moduleUrl)};
const counter = CounterStore.open(${JSON.stringify(path)}, { blockSize: 16 });
const encoder = new TextEncoder();
for (;;) Deno.stdout.writeSync(encoder.encode(counter.next() + "\\n"));
`,
    );
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--no-config",
        `--allow-read=${dir},${new URL("../../", import.meta.url).pathname}`,
        `--allow-write=${dir}`,
        script,
      ],
      stdout: "piped",
      stderr: "null",
    }).spawn();

    const printed: number[] = [];
    const decoder = new TextDecoder();
    let pending = "";
    const reader = child.stdout.getReader();
    while (printed.length < 2_000) {
      const { value, done } = await reader.read();
      if (done) break;
      pending += decoder.decode(value, { stream: true });
      const lines = pending.split("\n");
      pending = lines.pop() ?? ""; // an incomplete last line may be cut by the kill; only whole lines count
      for (const line of lines) printed.push(Number(line));
    }
    child.kill("SIGKILL");
    const status = await child.status;
    await reader.cancel();
    equal(status.signal, "SIGKILL");
    ok(printed.length >= 2_000, `child printed only ${printed.length} values`);

    const restarted = CounterStore.open(path, { blockSize: 16 });
    const next = restarted.next();
    const highest = Math.max(...printed);
    ok(next > highest, `restarted counter ${next} is not above the highest printed ${highest}`);
    restarted.close();
  }));
