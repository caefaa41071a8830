/**
 * keygen's TLS files: a CA and a broker certificate that OpenSSL verifies, with SANs for localhost,
 * 127.0.0.1 and every --broker-host, the broker key 0600 and no CA key; a Mosquitto config for the home;
 * a bad --broker-host refused before anything is written.
 */

import assert from "node:assert/strict";
import { SUITE_ED25519 } from "../../crypto/envelope.ts";
import { createHome, HomeIdError } from "../../roles/keygen.ts";
import { homePaths } from "../../store/home.ts";
import { runSecmqtt } from "../integration/cli_process.ts";

async function openssl(args: string[]): Promise<{ code: number; out: string }> {
  const result = await new Deno.Command("openssl", { args, stdout: "piped", stderr: "piped" }).output();
  const decoder = new TextDecoder();
  return { code: result.code, out: decoder.decode(result.stdout) + decoder.decode(result.stderr) };
}

Deno.test("keygen writes tls/ca.crt, tls/broker.crt (SANs as asked) and tls/broker.key 0600, and no CA key", async () => {
  const root = await Deno.makeTempDir({ prefix: "secmqtt-keygen-tls-" });
  try {
    const dir = `${root}/keys`;
    const run = await runSecmqtt([
      "keygen",
      "--out",
      dir,
      "--suite",
      "ed25519",
      "--broker-host",
      "broker",
      "--broker-host",
      "192.168.1.10",
    ]);
    assert.equal(run.code, 0, run.stderr);
    const paths = homePaths(dir);
    assert.equal(Deno.statSync(paths.brokerKey).mode! & 0o777, 0o600);
    assert.equal(Deno.statSync(paths.caCert).mode! & 0o777, 0o644);
    assert.equal(Deno.statSync(paths.brokerCert).mode! & 0o777, 0o644);
    assert.equal(Deno.statSync(paths.tlsDir).mode! & 0o777, 0o700);
    assert.deepEqual([...Deno.readDirSync(paths.tlsDir)].map((e) => e.name).sort(), [
      "broker.crt",
      "broker.key",
      "ca.crt",
    ]);

    const verified = await openssl(["verify", "-CAfile", paths.caCert, paths.brokerCert]);
    assert.equal(verified.code, 0, verified.out);
    assert.match(verified.out, /: OK/);
    const san = await openssl(["x509", "-in", paths.brokerCert, "-noout", "-ext", "subjectAltName"]);
    assert.equal(san.code, 0, san.out);
    for (const entry of ["DNS:localhost", "IP Address:127.0.0.1", "DNS:broker", "IP Address:192.168.1.10"]) {
      assert.ok(san.out.includes(entry), `SAN ${entry} in ${san.out}`);
    }
    // The key belongs to the certificate.
    const certKey = await openssl(["x509", "-in", paths.brokerCert, "-noout", "-pubkey"]);
    const key = await openssl(["pkey", "-in", paths.brokerKey, "-pubout"]);
    assert.equal(certKey.out, key.out);
    // The broker certificate is no CA: it cannot sign a stranger's certificate the devices would trust.
    const text = await openssl(["x509", "-in", paths.brokerCert, "-noout", "-text"]);
    assert.match(text.out, /CA:FALSE/);

    const conf = Deno.readTextFileSync(paths.mosquittoConf);
    assert.ok(conf.includes(`certfile ${paths.brokerCert}\n`), "absolute certfile");
    assert.ok(conf.includes(`keyfile ${paths.brokerKey}\n`), "absolute keyfile");
    assert.ok(conf.includes(`password_file ${paths.passwd}\n`));
    assert.ok(conf.includes(`acl_file ${paths.acl}\n`));
    assert.ok(Deno.statSync(paths.mosquittoDataDir).isDirectory);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a bad --broker-host is refused naming the flag, before anything is written", async () => {
  const root = await Deno.makeTempDir({ prefix: "secmqtt-keygen-tls-" });
  try {
    for (const host of ["http://broker", "bro ker", "-broker", "a..b", ""]) {
      await assert.rejects(
        createHome({
          outDir: `${root}/keys`,
          sensors: ["door-sensor-1"],
          actuatorId: "door-actuator",
          suite: SUITE_ED25519,
          force: false,
          brokerHosts: [host],
        }),
        (e: unknown) => e instanceof HomeIdError && e.message.startsWith("--broker-host"),
        host,
      );
    }
    assert.deepEqual([...Deno.readDirSync(root)], []);
    const run = await runSecmqtt(["keygen", "--out", `${root}/keys`, "--broker-host", "http://broker"]);
    assert.equal(run.code, 2);
    assert.equal(run.stderr.trim().split("\n").length, 1, run.stderr);
    assert.match(run.stderr, /--broker-host "http:\/\/broker" is not a host name or IP address/);
    assert.deepEqual([...Deno.readDirSync(root)], []);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
