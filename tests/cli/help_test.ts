/** One help shape for every subcommand, answered in one place. */

import assert from "node:assert/strict";
import { COMMANDS } from "../../main.ts";
import { runMain } from "./capture_io.ts";

Deno.test("every subcommand's --help: usage, options with -h, --help, exit status", async () => {
  for (const command of COMMANDS) {
    for (const ask of ["--help", "-h"]) {
      const { code, out, err } = await runMain([command.name, ask]);
      assert.equal(code, 0, `${command.name} ${ask}`);
      assert.deepEqual(err, []);
      assert.equal(out[0], `Usage: secmqtt ${command.name} [options]`);
      const options = out.indexOf("Options:");
      const exit = out.indexOf("Exit status:");
      assert.ok(options > 2 && exit > options, `${command.name}: sections in order`);
      assert.ok(out.slice(options, exit).some((l) => /^ {2}-h, --help +\S/.test(l)), command.name);
      for (const code of [0, 1, 2]) {
        assert.ok(out.slice(exit).some((l) => l.startsWith(`  ${code}  `)), `${command.name} exit ${code}`);
      }
    }
  }
});

Deno.test("--help wins over other flags, even bad ones", async () => {
  const { code, out } = await runMain(["sensor", "--count", "-3", "--bogus", "--help"]);
  assert.equal(code, 0);
  assert.equal(out[0], "Usage: secmqtt sensor [options]");
});

Deno.test("every flag a subcommand accepts is in its help, with its short alias", async () => {
  const { out } = await runMain(["sensor", "--help"]);
  const help = out.join("\n");
  for (const line of ["--secure", "--count N", "--interval-ms MS", "--keys DIR", "-u, --username NAME"]) {
    assert.ok(help.includes(line), line);
  }
  assert.match(help, /-q, --qos 0\|1 +QoS for publish and subscribe \(default: 1\)/);
  assert.match(help, /--interval-ms MS +time between messages \(default: 2000\)/);
});

Deno.test("secmqtt --help lists --version and the exit status", async () => {
  const { code, out } = await runMain(["--help"]);
  assert.equal(code, 0);
  assert.ok(out.some((l) => /^ +--version +\S/.test(l)), out.join("\n"));
  assert.ok(out.includes("Exit status:"));
  assert.deepEqual((await runMain(["--version"])).code, 0);
});

Deno.test("only main.ts answers --help: no file in cli/ prints help or checks for --help", async () => {
  const dir = new URL("../../cli/", import.meta.url);
  const answersHelp = /io\.out\([^)]*help|\b(?:flags|values|parsed)\.help\b|["'](?:--help|-h)["']/i;
  let files = 0;
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.name.endsWith(".ts")) continue;
    files++;
    const source = await Deno.readTextFile(new URL(entry.name, dir));
    const hits = source.split("\n").filter((line) => answersHelp.test(line) && !/^\s*(\*|\/\/)/.test(line));
    assert.deepEqual(hits, [], `cli/${entry.name} answers --help itself`);
  }
  assert.ok(files >= 10, "cli/ was read");
  const main = await Deno.readTextFile(new URL("../../main.ts", import.meta.url));
  assert.match(main, /io\.out\(command\.help\)/);
});
