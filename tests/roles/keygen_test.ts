/** keygen: ids checked before anything is written, the home staged and renamed into place, passwd 0600. */

import assert from "node:assert/strict";
import { SUITE_ED25519 } from "../../crypto/envelope.ts";
import { checkHomeIds, createHome, HomeIdError, type HomeOptions } from "../../roles/keygen.ts";
import { homePaths } from "../../store/home.ts";
import { runSecmqtt } from "../integration/cli_process.ts";

function listTree(dir: string): string[] {
  const out: string[] = [];
  for (const entry of Deno.readDirSync(dir)) {
    out.push(entry.name);
    if (entry.isDirectory) out.push(...listTree(`${dir}/${entry.name}`).map((n) => `${entry.name}/${n}`));
  }
  return out.sort();
}

Deno.test("ids that could leave the home, or that collide, are refused naming the flag", () => {
  const base = { sensors: ["door-sensor-1"], actuatorId: "door-actuator" };
  for (
    const [ids, flag] of [
      [{ ...base, sensors: ["../escaped"] }, "--sensor"],
      [{ ...base, sensors: ["a/b"] }, "--sensor"],
      [{ ...base, sensors: [".."] }, "--sensor"],
      [{ ...base, sensors: [""] }, "--sensor"],
      [{ ...base, sensors: ["Door"] }, "--sensor"],
      [{ ...base, sensors: ["x".repeat(64)] }, "--sensor"],
      [{ ...base, actuatorId: "-lead" }, "--actuator"],
      [{ ...base, attacker: "mal:lory" }, "--attacker"],
      [{ ...base, sensors: ["s1", "s1"] }, "--sensor"],
      [{ ...base, attacker: "door-actuator" }, "--attacker"],
    ] as [Pick<HomeOptions, "sensors" | "actuatorId" | "attacker">, string][]
  ) {
    assert.throws(
      () => checkHomeIds(ids),
      (e: unknown) =>
        e instanceof HomeIdError && e.code === "CONFIG_INVALID_ID" && e.message.startsWith(flag),
      JSON.stringify(ids),
    );
  }
  checkHomeIds({
    sensors: ["door-sensor-1", "sensor-0001", "s_2"],
    actuatorId: "door-actuator",
    attacker: "mallory",
  });
});

Deno.test("a bad id writes nothing: no key beside the home, no half-written home", async () => {
  const root = await Deno.makeTempDir({ prefix: "secmqtt-keygen-" });
  try {
    await assert.rejects(
      createHome({
        outDir: `${root}/home/keys`,
        sensors: ["door-sensor-1", "../escaped"],
        actuatorId: "door-actuator",
        suite: SUITE_ED25519,
        force: false,
      }),
      HomeIdError,
    );
    assert.deepEqual(listTree(root), []);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a new home appears whole, with passwd and secrets 0600 and no staging left", async () => {
  const root = await Deno.makeTempDir({ prefix: "secmqtt-keygen-" });
  try {
    const dir = `${root}/keys`;
    const summary = await createHome({
      outDir: dir,
      sensors: ["door-sensor-1"],
      actuatorId: "door-actuator",
      suite: SUITE_ED25519,
      attacker: "mallory",
      force: false,
    });
    assert.equal(summary.dir, dir);
    assert.deepEqual(listTree(root).filter((n) => !n.startsWith("keys")), []);
    assert.ok(!listTree(dir).some((n) => n.includes(".keygen-")));
    const paths = homePaths(dir);
    assert.equal(Deno.statSync(paths.passwd).mode! & 0o777, 0o600);
    assert.equal(Deno.statSync(paths.privateKey("door-sensor-1")).mode! & 0o777, 0o600);
    assert.equal(Deno.statSync(paths.credential("mallory")).mode! & 0o777, 0o600);
    assert.equal(Deno.statSync(dir).mode! & 0o777, 0o700);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("--force replaces a home in an existing directory, credentials included", async () => {
  const root = await Deno.makeTempDir({ prefix: "secmqtt-keygen-" });
  try {
    const dir = `${root}/keys`;
    const options: HomeOptions = {
      outDir: dir,
      sensors: ["door-sensor-1"],
      actuatorId: "door-actuator",
      suite: SUITE_ED25519,
      attacker: "mallory",
      force: false,
    };
    await createHome(options);
    const paths = homePaths(dir);
    const oldPassword = Deno.readTextFileSync(paths.credential("mallory"));
    const oldKey = Deno.readTextFileSync(paths.privateKey("door-sensor-1"));
    await assert.rejects(createHome(options), /exists; use --force/);
    await createHome({ ...options, force: true });
    assert.notEqual(Deno.readTextFileSync(paths.credential("mallory")), oldPassword);
    assert.notEqual(Deno.readTextFileSync(paths.privateKey("door-sensor-1")), oldKey);
    assert.ok(!listTree(dir).some((n) => n.includes(".keygen-")));
    assert.deepEqual(listTree(root).filter((n) => !n.startsWith("keys")), []);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("secmqtt keygen --sensor ../escaped: one line naming the flag, exit 2, nothing written", async () => {
  const root = await Deno.makeTempDir({ prefix: "secmqtt-keygen-" });
  try {
    const { code, stdout, stderr } = await runSecmqtt([
      "keygen",
      "--out",
      `${root}/keys`,
      "--suite",
      "ed25519",
      "--sensor",
      "../escaped",
    ]);
    assert.equal(code, 2);
    assert.equal(stdout, "");
    assert.equal(stderr.trim().split("\n").length, 1);
    assert.match(stderr, /--sensor "\.\.\/escaped" is not a valid id/);
    assert.deepEqual(listTree(root), []);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
