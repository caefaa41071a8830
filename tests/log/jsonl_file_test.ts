import assert from "node:assert/strict";
import { fileLogWriter, Log, LogFileError } from "../../log/jsonl.ts";

Deno.test("fileLogWriter creates the log's folder when it is missing", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/new/deeper/run.jsonl`;
    const log = new Log(fileLogWriter(path), { role: "t", run: "r", clock: { now: () => 1 } });
    log.event("hello");
    log.close();
    assert.equal(JSON.parse(Deno.readTextFileSync(path).trim()).event, "hello");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("fileLogWriter names the file and the OS reason when it cannot open it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    Deno.writeTextFileSync(`${dir}/plain-file`, "");
    const path = `${dir}/plain-file/run.jsonl`; // a file where a folder should be
    assert.throws(() => fileLogWriter(path), (error: unknown) => {
      assert.ok(error instanceof LogFileError);
      assert.equal(error.code, "LOG_OPEN_FAILED");
      assert.match(error.message, new RegExp(`cannot open log file ${path} for appending: .+`));
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
