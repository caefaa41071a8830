/** Flag tables: parsing, typed values and validation messages in one voice. */

import assert from "node:assert/strict";
import { flag, formatOptions, parseFlags, UsageError } from "../../cli/flags.ts";

const TABLE = {
  count: flag.int({ min: 1, help: "messages" }),
  port: flag.int({ placeholder: "P", min: 0, max: 65535, default: 1883, help: "TCP port" }),
  rate: flag.number({ above: 0, max: 10, help: "per second" }),
  qos: flag.choice({ short: "q", choices: ["0", "1"], default: "1", help: "QoS" }),
  "batch-ms": flag.int({ min: 0, max: 1000, words: ["off"], default: 2, help: "delay" }),
  name: flag.string({ short: "i", help: "a name", default: "door" }),
  log: flag.list({ help: "a log" }),
  quick: flag.boolean({ help: "small", conflicts: "full" }),
  full: flag.boolean({ help: "large" }),
  secure: flag.boolean({ help: "secure" }),
  state: flag.string({ help: "state file", requires: ["secure"] }),
};

function usageMessage(argv: string[], table: Parameters<typeof parseFlags>[1] = TABLE): string {
  try {
    parseFlags(argv, table, "sensor");
  } catch (error) {
    assert.ok(error instanceof UsageError, String(error));
    assert.equal(error.kind, "usage");
    return error.message;
  }
  assert.fail(`${argv.join(" ")} parsed without an error`);
}

Deno.test("defaults apply and absent optional flags are undefined", () => {
  const v = parseFlags([], TABLE, "sensor");
  assert.equal(v.count, undefined);
  assert.equal(v.port, 1883);
  assert.equal(v.qos, "1");
  assert.equal(v["batch-ms"], 2);
  assert.equal(v.name, "door");
  assert.deepEqual(v.log, []);
  assert.equal(v.quick, false);
});

Deno.test("values arrive typed: --name v, --name=v, -x v, -xv and repeated lists", () => {
  const v = parseFlags(
    [
      "--count",
      "3",
      "--port=0",
      "-q",
      "0",
      "-idoor-2",
      "--log",
      "a",
      "--log",
      "b",
      "--rate",
      "2.5",
      "--quick",
    ],
    TABLE,
    "sensor",
  );
  assert.equal(v.count, 3);
  assert.equal(v.port, 0);
  assert.equal(v.qos, "0");
  assert.equal(v.name, "door-2");
  assert.deepEqual(v.log, ["a", "b"]);
  assert.equal(v.rate, 2.5);
  assert.equal(v.quick, true);
  assert.equal(parseFlags(["--batch-ms", "off"], TABLE, "sensor")["batch-ms"], "off");
});

Deno.test("a negative number is a value and fails the range check naming the flag", () => {
  assert.equal(usageMessage(["--count", "-3"]), "--count must be at least 1, got -3");
  assert.equal(usageMessage(["--port", "70000"]), "--port must be at most 65535, got 70000");
  assert.equal(usageMessage(["--rate", "-1"]), "--rate must be greater than 0, got -1");
});

Deno.test("malformed values say what was expected and what came", () => {
  assert.equal(usageMessage(["--count", "many"]), "--count must be a whole number, got 'many'");
  assert.equal(usageMessage(["--count", "1.5"]), "--count must be a whole number, got '1.5'");
  assert.equal(usageMessage(["--batch-ms", "x"]), "--batch-ms must be a whole number or off, got 'x'");
  assert.equal(usageMessage(["--rate", "fast"]), "--rate must be a number, got 'fast'");
  assert.equal(usageMessage(["--qos", "5"]), "--qos must be 0 or 1, got 5");
  assert.equal(usageMessage(["--quick=yes"]), "--quick takes no value, got 'yes'");
});

Deno.test("unknown flags, stray arguments and missing values point to the subcommand's help", () => {
  assert.equal(usageMessage(["--foo"]), "unknown flag --foo (see secmqtt sensor --help)");
  assert.equal(usageMessage(["-x"]), "unknown flag -x (see secmqtt sensor --help)");
  assert.equal(usageMessage(["stray"]), "unexpected argument 'stray' (see secmqtt sensor --help)");
  assert.equal(usageMessage(["--count"]), "--count needs a value (see secmqtt sensor --help)");
  assert.equal(usageMessage(["--name", "--quick"]), "--name needs a value (see secmqtt sensor --help)");
});

Deno.test("flags that conflict or need a companion are refused", () => {
  assert.equal(usageMessage(["--quick", "--full"]), "give --quick or --full, not both");
  assert.equal(usageMessage(["--state", "x.sqlite"]), "--state needs --secure");
  assert.equal(parseFlags(["--state", "x.sqlite", "--secure"], TABLE, "sensor").state, "x.sqlite");
});

Deno.test("a required flag that is missing is named with its placeholder", () => {
  const table = {
    out: flag.string({ placeholder: "DIR", required: true, help: "where" }),
    log: flag.list({ placeholder: "FILE", required: true, help: "logs" }),
  };
  assert.equal(usageMessage(["--out", "x"], table), "--log FILE is required (see secmqtt sensor --help)");
  assert.equal(usageMessage(["--log", "a"], table), "--out DIR is required (see secmqtt sensor --help)");
});

Deno.test("option lines are aligned, show defaults and end with -h, --help", () => {
  const lines = formatOptions(TABLE);
  assert.equal(lines.at(-1)?.trim().startsWith("-h, --help"), true);
  const columns = lines.filter((l) => l.startsWith("  -")).map((l) => l.search(/(?<=\S {2,})\S/));
  assert.equal(new Set(columns).size, 1, lines.join("\n"));
  assert.ok(lines.some((l) => /--port P\s+TCP port \(default: 1883\)/.test(l)), lines.join("\n"));
  assert.ok(lines.some((l) => /-q, --qos 0\|1\s+QoS \(default: 1\)/.test(l)), lines.join("\n"));
});
