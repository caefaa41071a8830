/**
 * The connection defaults of the secure roles: with --secure the broker is mqtts://127.0.0.1:8883 and an
 * mqtts:// broker is verified with the home's tls/ca.crt (never silently the system's CAs); --broker and
 * --cafile still win; a missing home CA is one line naming the file and the fix.
 */

import assert from "node:assert/strict";
import {
  CONNECTION_FLAGS,
  connectionFromFlags,
  DEFAULT_BROKER_URL,
  DEFAULT_SECURE_BROKER_URL,
} from "../../cli/common.ts";
import { flag, parseFlags, UsageError } from "../../cli/flags.ts";
import { issueHomeTls } from "../../crypto/x509.ts";

const TABLE = {
  ...CONNECTION_FLAGS,
  secure: flag.boolean({ help: "secure" }),
  keys: flag.string({ placeholder: "DIR", help: "home" }),
};

async function homeWithCa(): Promise<{ dir: string; caPem: string }> {
  const dir = await Deno.makeTempDir({ prefix: "secmqtt-conn-" });
  const tls = await issueHomeTls({ homeName: "t", brokerHosts: ["127.0.0.1"], nowMs: Date.now() });
  await Deno.mkdir(`${dir}/tls`);
  await Deno.writeTextFile(`${dir}/tls/ca.crt`, tls.ca.certPem);
  return { dir, caPem: tls.ca.certPem };
}

Deno.test("without --secure: mqtt://127.0.0.1:1883 and no CA", async () => {
  const conn = await connectionFromFlags(parseFlags([], TABLE, "sensor"));
  assert.equal(conn.url, DEFAULT_BROKER_URL);
  assert.equal(conn.ca, undefined);
});

Deno.test("--secure --keys DIR: mqtts://127.0.0.1:8883 verified with DIR/tls/ca.crt", async () => {
  const { dir, caPem } = await homeWithCa();
  try {
    const conn = await connectionFromFlags(parseFlags(["--secure", "--keys", dir], TABLE, "sensor"));
    assert.equal(conn.url, DEFAULT_SECURE_BROKER_URL);
    assert.equal(DEFAULT_SECURE_BROKER_URL, "mqtts://127.0.0.1:8883");
    assert.equal(conn.ca, caPem);
    assert.equal(conn.caFile, `${dir}/tls/ca.crt`);

    const given = await connectionFromFlags(
      parseFlags(["--secure", "--keys", dir, "--broker", "mqtts://localhost:18883"], TABLE, "sensor"),
    );
    assert.equal(given.url, "mqtts://localhost:18883");
    assert.equal(given.ca, caPem);

    // An explicit plaintext broker stays plaintext: no CA to read.
    const plain = await connectionFromFlags(
      parseFlags(["--secure", "--keys", dir, "--broker", "mqtt://127.0.0.1:1884"], TABLE, "sensor"),
    );
    assert.equal(plain.ca, undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--cafile wins over the home's CA", async () => {
  const { dir } = await homeWithCa();
  const other = await homeWithCa();
  try {
    const conn = await connectionFromFlags(
      parseFlags(["--secure", "--keys", dir, "--cafile", `${other.dir}/tls/ca.crt`], TABLE, "sensor"),
    );
    assert.equal(conn.ca, other.caPem);
    assert.equal(conn.caFile, `${other.dir}/tls/ca.crt`);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(other.dir, { recursive: true });
  }
});

Deno.test("--secure with a home that has no tls/ca.crt: one line naming the file and the fix", async () => {
  const dir = await Deno.makeTempDir({ prefix: "secmqtt-conn-" });
  try {
    await assert.rejects(
      connectionFromFlags(parseFlags(["--secure", "--keys", dir], TABLE, "sensor")),
      (error: unknown) =>
        error instanceof UsageError && error.message.includes(`${dir}/tls/ca.crt`) &&
        error.message.includes(`run secmqtt keygen --out ${dir}, or give --cafile FILE`) &&
        !error.message.includes("\n"),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
