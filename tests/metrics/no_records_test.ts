import assert from "node:assert/strict";
import { metricsCommand } from "../../cli/metrics.ts";
import { NoRecordsError } from "../../metrics/errors.ts";
import { writeReport } from "../../metrics/write.ts";

async function withDir(use: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "secmqtt-no-records-test-" });
  try {
    await use(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const exists = (path: string) => Deno.stat(path).then(() => true, () => false);

Deno.test("writeReport on an empty log throws NoRecordsError (exit 1) and writes nothing", async () => {
  await withDir(async (dir) => {
    const empty = `${dir}/empty.jsonl`;
    await Deno.writeTextFile(empty, "");
    const error = await writeReport({ logs: [empty], outDir: `${dir}/out` }).then(
      () => assert.fail("expected NoRecordsError"),
      (e) => e,
    );
    assert.ok(error instanceof NoRecordsError);
    assert.equal(error.code, "NO_RECORDS");
    assert.equal(error.exitCode, 1);
    assert.deepEqual(error.inputs, [empty]);
    assert.match(error.message, /no secmqtt log records in .*empty\.jsonl \(empty\)/);
    assert.equal(await exists(`${dir}/out/report.html`), false);
  });
});

Deno.test("writeReport on text that is not a log names every input and how many lines it read", async () => {
  await withDir(async (dir) => {
    const text = `${dir}/notes.txt`;
    const empty = `${dir}/empty.jsonl`;
    await Deno.writeTextFile(text, 'hello\nworld\n{"json": true}\n');
    await Deno.writeTextFile(empty, "\n");
    await assert.rejects(
      () => writeReport({ logs: [text, empty], outDir: `${dir}/out` }),
      (e: unknown) =>
        e instanceof NoRecordsError && e.message.includes(text) && e.message.includes(empty) &&
        e.message.includes("3 lines, none a log record") && !e.message.includes("\n"),
    );
  });
});

Deno.test("secmqtt metrics with no records exits 1 with one warning line naming the input", async () => {
  await withDir(async (dir) => {
    const empty = `${dir}/empty.jsonl`;
    await Deno.writeTextFile(empty, "");
    const out: string[] = [];
    const err: string[] = [];
    const code = await metricsCommand.run(["--log", empty, "--out", `${dir}/out`], {
      out: (l) => out.push(l),
      err: (l) => err.push(l),
      isTerminal: false,
      signal: new AbortController().signal,
    });
    assert.equal(code, 1);
    assert.deepEqual(out, []);
    assert.equal(err.length, 1, err.join("\n"));
    assert.match(err[0], /^secmqtt metrics: no secmqtt log records in /);
    assert.ok(err[0].includes(empty));
    assert.equal(await exists(`${dir}/out/metrics.json`), false);
  });
});

Deno.test("secmqtt metrics always ends with one progress line on stderr, terminal or not", async () => {
  await withDir(async (dir) => {
    const log = `${dir}/run.jsonl`;
    await Deno.writeTextFile(
      log,
      '{"ts":1,"role":"sensor","run":"r","event":"published","phase":"insecure"}\n',
    );
    const err: string[] = [];
    const code = await metricsCommand.run(["--log", log, "--out", `${dir}/out`], {
      out: () => {},
      err: (l) => err.push(l),
      isTerminal: false,
      signal: new AbortController().signal,
    });
    assert.equal(code, 0);
    assert.equal(err.filter((l) => l.startsWith("metrics: ")).length, 1);
    assert.match(
      err.find((l) => l.startsWith("metrics: "))!,
      /^metrics: read \d+ B twice in [\d.]+ s, 1 record$/,
    );
  });
});
