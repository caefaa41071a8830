/** Errors by kind: each coded error is usage, input, state or internal; main.ts maps kinds to exit codes. */

import assert from "node:assert/strict";
import { EXIT_STATUS_BY_KIND, SecmqttError } from "../../core/errors.ts";
import { UsageError } from "../../cli/flags.ts";
import { RuntimeFailure } from "../../cli/runtime.ts";
import { BrokerConfigError } from "../../auth/policy.ts";
import { SUITE_ED25519 } from "../../crypto/envelope.ts";
import { createHome } from "../../roles/keygen.ts";
import { CounterError } from "../../store/counter.ts";
import { homePaths } from "../../store/home.ts";
import { IdentityError } from "../../store/identity.ts";
import { KeyFileError } from "../../store/keyfiles.ts";
import { StateError } from "../../store/replay.ts";
import { TrustError } from "../../store/trust.ts";
import { TransportError } from "../../transport/client.ts";
import { runMain } from "./capture_io.ts";

Deno.test("usage and input errors exit 2, runtime and state failures exit 1", () => {
  assert.deepEqual(EXIT_STATUS_BY_KIND, { usage: 2, input: 2, state: 1, internal: 1 });
});

Deno.test("each error class has the kind its codes call for", () => {
  const cases: [SecmqttError, string][] = [
    [new UsageError("--count must be at least 1, got -3"), "usage"],
    [new KeyFileError("KEY_FILE_MISSING", "k.pem", "missing"), "input"],
    [new KeyFileError("KEY_FILE_WRITE_FAILED", "k.pem", "disk full"), "state"],
    [new TrustError("TRUST_INVALID", "bad json"), "input"],
    [new TrustError("TRUST_WRITE_FAILED", "disk full"), "state"],
    [new BrokerConfigError("CONFIG_UNREADABLE", "passwd"), "input"],
    [new IdentityError("CONFIG_UNKNOWN_SENSOR", "no such sensor"), "input"],
    [new StateError("STATE_WRITE_FAILED", "fsync failed"), "state"],
    [new StateError("STATE_CORRUPT", "not a database"), "state"],
    [new StateError("STATE_CLOSED", "closed"), "internal"],
    [new CounterError("STATE_WRITE_FAILED", "disk full"), "state"],
    [new CounterError("COUNTER_BAD_OPTION", "block 0"), "internal"],
    [new TransportError("CONNECT_FAILED", "refused"), "state"],
    [new RuntimeFailure("ACTUATOR_FAILED", "did not start"), "state"],
  ];
  for (const [error, kind] of cases) {
    assert.ok(error instanceof SecmqttError, error.name);
    assert.equal(error.kind, kind, `${error.name} ${error.code}`);
  }
});

Deno.test("every error class in the tree extends SecmqttError", async () => {
  const root = new URL("../../", import.meta.url);
  const offenders: string[] = [];
  for (const dir of ["auth", "cli", "core", "crypto", "log", "metrics", "roles", "store", "transport"]) {
    for await (const entry of Deno.readDir(new URL(`${dir}/`, root))) {
      if (!entry.name.endsWith(".ts") || `${dir}/${entry.name}` === "core/errors.ts") continue;
      const source = await Deno.readTextFile(new URL(`${dir}/${entry.name}`, root));
      if (/class \w+ extends (?:Error|RangeError|TypeError)\b/.test(source)) {
        offenders.push(`${dir}/${entry.name}`);
      }
    }
  }
  assert.deepEqual(offenders, []);
});

Deno.test("sensor --count -3: one line naming --count, exit 2", async () => {
  const { code, out, err } = await runMain(["sensor", "--count", "-3"]);
  assert.equal(code, 2);
  assert.deepEqual(out, []);
  assert.deepEqual(err, ["secmqtt sensor: --count must be at least 1, got -3"]);
});

Deno.test("an unknown flag and a bad choice: one line each, exit 2", async () => {
  const unknown = await runMain(["actuator", "--foo"]);
  assert.equal(unknown.code, 2);
  assert.deepEqual(unknown.err, ["secmqtt actuator: unknown flag --foo (see secmqtt actuator --help)"]);
  const qos = await runMain(["sensor", "--qos", "5"]);
  assert.equal(qos.code, 2);
  assert.deepEqual(qos.err, ["secmqtt sensor: --qos must be 0 or 1, got 5"]);
  const suite = await runMain(["keygen", "--suite", "rsa"]);
  assert.equal(suite.code, 2);
  assert.deepEqual(suite.err, ["secmqtt keygen: --suite must be dsa or ed25519, got rsa"]);
});

Deno.test("a state fault (corrupt counter) and a refused connection exit 1; a missing home (input) exits 2", async () => {
  const dir = await Deno.makeTempDir({ prefix: "secmqtt-exit-" });
  try {
    const home = `${dir}/home`;
    await createHome({
      outDir: home,
      sensors: ["s1"],
      actuatorId: "a1",
      suite: SUITE_ED25519,
      attacker: "mallory",
      force: false,
    });
    await Deno.writeTextFile(homePaths(home).counter("s1"), "not a counter\n");
    const base = ["sensor", "--secure", "--keys", home, "--id", "s1", "--actuator", "a1", "--count", "1"];
    const corrupt = await runMain([...base, "--broker", "mqtt://127.0.0.1:1"]);
    assert.equal(corrupt.code, 1, corrupt.err.join("\n"));
    assert.equal(corrupt.err.length, 1);
    assert.match(corrupt.err[0], /counter/);
    const missing = await runMain(["sensor", "--secure", "--keys", `${dir}/nothing`, "--count", "1"]);
    assert.equal(missing.code, 2, missing.err.join("\n"));
    assert.equal(missing.err.length, 1);
    // The README's `attack --secure --keys DIR`: the attacker's password comes from the home, so the run
    // gets as far as the broker, whose refusal is a runtime failure.
    const refused = await runMain([
      "attack",
      "--secure",
      "--keys",
      home,
      "--actuator",
      "a1",
      "--broker",
      "mqtt://127.0.0.1:1",
      "--connect-wait-s",
      "0", // one attempt: waiting for the broker is the connection tests' subject
    ]);
    assert.equal(refused.code, 1, refused.err.join("\n"));
    assert.deepEqual(refused.err.length, 1);
    assert.match(refused.err[0], /^secmqtt attack: cannot connect/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
