/**
 * The home's CA and broker certificate: OpenSSL verifies the chain strictly and reads the SAN entries,
 * and a real TLS handshake (Deno's node:tls) succeeds against ca.crt and fails against another CA.
 */

import assert from "node:assert/strict";
import tls from "node:tls";
import { encodeSubjectAltNames, isIpAddress, issueHomeTls } from "../../crypto/x509.ts";

const HOSTS = ["localhost", "127.0.0.1", "::1", "broker.home"];

async function openssl(args: string[]): Promise<{ code: number; out: string }> {
  const result = await new Deno.Command("openssl", { args, stdout: "piped", stderr: "piped" }).output();
  const decoder = new TextDecoder();
  return { code: result.code, out: decoder.decode(result.stdout) + decoder.decode(result.stderr) };
}

Deno.test("OpenSSL verifies the broker certificate against the home CA (strict X.509) and sees every SAN", async () => {
  const home = await issueHomeTls({ homeName: "secmqtt test", brokerHosts: HOSTS, nowMs: Date.now() });
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/ca.crt`, home.ca.certPem);
    await Deno.writeTextFile(`${dir}/broker.crt`, home.broker.certPem);
    const verify = await openssl(["verify", "-x509_strict", "-CAfile", `${dir}/ca.crt`, `${dir}/broker.crt`]);
    assert.equal(verify.code, 0, verify.out);
    assert.match(verify.out, /broker\.crt: OK/);
    const text = await openssl(["x509", "-in", `${dir}/broker.crt`, "-noout", "-text"]);
    assert.match(
      text.out,
      /DNS:localhost, IP Address:127\.0\.0\.1, IP Address:0:0:0:0:0:0:0:1, DNS:broker\.home/,
    );
    assert.match(text.out, /CA:FALSE/);
    assert.match(text.out, /TLS Web Server Authentication/);
    const ca = await openssl(["x509", "-in", `${dir}/ca.crt`, "-noout", "-text"]);
    assert.match(ca.out, /CA:TRUE/);
    assert.match(ca.out, /Certificate Sign/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Connects to a TLS server on 127.0.0.1 that presents `cert`; resolves with the client's verdict. */
async function handshake(cert: { certPem: string; keyPem: string }, caPem: string, servername?: string) {
  const server = tls.createServer({ cert: cert.certPem, key: cert.keyPem }, (socket) => socket.end());
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  try {
    return await new Promise<"ok" | string>((resolve) => {
      const socket = tls.connect({ host: "127.0.0.1", port, ca: caPem, servername }, () => {
        resolve("ok");
        socket.end();
      });
      socket.on("error", (error) => resolve(error.message));
    });
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

Deno.test("a TLS client trusting ca.crt completes the handshake; one trusting another CA refuses it", async () => {
  const home = await issueHomeTls({ homeName: "secmqtt test", brokerHosts: HOSTS, nowMs: Date.now() });
  const stranger = await issueHomeTls({ homeName: "someone else", brokerHosts: HOSTS, nowMs: Date.now() });
  assert.equal(await handshake(home.broker, home.ca.certPem), "ok");
  assert.equal(await handshake(home.broker, home.ca.certPem, "localhost"), "ok");
  assert.notEqual(await handshake(home.broker, stranger.ca.certPem), "ok");
  assert.notEqual(await handshake(home.broker, home.ca.certPem, "not-in-the-san.example"), "ok");
});

Deno.test("private keys come out as PKCS#8 PEM and certificates as PEM of their DER", async () => {
  const home = await issueHomeTls({ homeName: "h", brokerHosts: ["localhost"], nowMs: Date.now() });
  assert.match(home.broker.keyPem, /^-----BEGIN PRIVATE KEY-----\n/);
  assert.match(home.ca.certPem, /^-----BEGIN CERTIFICATE-----\n/);
  assert.equal(home.ca.certDer[0], 0x30);
});

Deno.test("SAN entries: addresses become iPAddress, names dNSName, anything else is refused", () => {
  assert.equal(isIpAddress("127.0.0.1"), true);
  assert.equal(isIpAddress("::1"), true);
  assert.equal(isIpAddress("fe80::1:2"), true);
  assert.equal(isIpAddress("256.0.0.1"), false);
  assert.equal(isIpAddress("broker.home"), false);
  const der = encodeSubjectAltNames(["127.0.0.1", "a.b"]);
  assert.deepEqual([...der], [0x30, 0x0b, 0x87, 0x04, 127, 0, 0, 1, 0x82, 0x03, 0x61, 0x2e, 0x62]);
  assert.throws(() => encodeSubjectAltNames(["bad host/"]), /not a host name/);
  assert.throws(() => encodeSubjectAltNames(["-x.home"]), /not a host name/);
});
