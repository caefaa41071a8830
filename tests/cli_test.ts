/** The command line: help, one-line usage errors with exit 2. */

import assert from "node:assert/strict";
import { runSecmqtt } from "./integration/cli_process.ts";

Deno.test("secmqtt --help lists every subcommand", async () => {
  const { code, stdout } = await runSecmqtt(["--help"]);
  assert.equal(code, 0);
  for (
    const name of ["demo", "keygen", "broker", "sensor", "actuator", "attack", "timing", "metrics", "load"]
  ) {
    assert.match(stdout, new RegExp(`^  ${name} `, "m"), `--help lists ${name}`);
  }
});

Deno.test("every subcommand answers --help with exit 0", async () => {
  for (
    const name of ["demo", "keygen", "broker", "sensor", "actuator", "attack", "timing", "metrics", "load"]
  ) {
    const { code, stdout } = await runSecmqtt([name, "--help"]);
    assert.equal(code, 0, name);
    assert.match(stdout, /Usage:\s+secmqtt /, name);
  }
});

Deno.test("an unknown flag prints one line and exits 2", async () => {
  const { code, stderr, stdout } = await runSecmqtt(["sensor", "--bogus"]);
  assert.equal(code, 2);
  assert.equal(stdout, "");
  assert.equal(stderr.trim().split("\n").length, 1);
  assert.match(stderr, /unknown flag --bogus/);
});

Deno.test("a negative count is a value: one line naming --count, exit 2", async () => {
  const { code, stderr, stdout } = await runSecmqtt(["sensor", "--count", "-3"]);
  assert.equal(code, 2);
  assert.equal(stdout, "");
  assert.equal(stderr, "secmqtt sensor: --count must be at least 1, got -3\n");
});

Deno.test("a bad value and an unknown subcommand exit 2 with one line", async () => {
  for (
    const args of [["sensor", "--count", "many"], ["actuator", "--qos", "2"], [
      "sensor",
      "--broker",
      "http://x",
    ], ["nope"]]
  ) {
    const { code, stderr } = await runSecmqtt(args);
    assert.equal(code, 2, args.join(" "));
    assert.equal(stderr.trim().split("\n").length, 1, args.join(" "));
  }
});

Deno.test("a missing key file is one clear line and exit 2", async () => {
  const dir = await Deno.makeTempDir();
  const { code, stderr } = await runSecmqtt(["sensor", "--secure", "--keys", dir, "--count", "1"]);
  assert.equal(code, 2);
  assert.equal(stderr.trim().split("\n").length, 1);
  assert.match(stderr, new RegExp(dir));
  await Deno.remove(dir, { recursive: true });
});
