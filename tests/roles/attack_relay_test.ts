import assert from "node:assert/strict";
import { utf8Decode, utf8Encode } from "../../crypto/codec.ts";
import { issueHomeTls } from "../../crypto/x509.ts";
import { readConnect } from "../../roles/attacks/connect_packet.ts";
import { startRelay } from "../../roles/attacks/relay.ts";
import { connectHeader } from "../../roles/attacks/wire.ts";
import { connectMqtt } from "../../transport/client.ts";

/** The first bytes a real MQTT.js client sends to `url`'s loopback listener (which never answers). */
async function firstBytesOf(
  listen: (port: number) => Deno.Listener,
  connect: (port: number) => Promise<unknown>,
): Promise<Uint8Array> {
  const listener = listen(0);
  const port = (listener.addr as Deno.NetAddr).port;
  const accepted = (async () => {
    const conn = await listener.accept();
    const buffer = new Uint8Array(4096);
    const n = await conn.read(buffer);
    conn.close();
    return buffer.slice(0, n ?? 0);
  })();
  const client = connect(port).catch(() => {});
  const bytes = await accepted;
  await client;
  listener.close();
  return bytes;
}

Deno.test("readConnect: the username and password of a real MQTT.js CONNECT", async () => {
  const bytes = await firstBytesOf(
    (port) => Deno.listen({ hostname: "127.0.0.1", port }),
    (port) =>
      connectMqtt({
        url: `mqtt://127.0.0.1:${port}`,
        username: "door-sensor-1",
        password: "s3cret-pw",
        clientId: "door-sensor-1",
        reconnectPeriodMs: 0,
        connectTimeoutMs: 300,
      }),
  );
  const reading = readConnect(bytes);
  assert.ok(reading.ok);
  assert.equal(reading.clientId, "door-sensor-1");
  assert.equal(reading.username, "door-sensor-1");
  assert.equal(utf8Decode(reading.password!), "s3cret-pw");
  // A prefix is not enough yet; the whole packet is.
  assert.deepEqual(readConnect(bytes.subarray(0, bytes.length - 1)), { ok: false, code: "INCOMPLETE" });
});

Deno.test("readConnect: nothing from the TLS bytes of the same client over mqtts://", async () => {
  const tls = await issueHomeTls({ homeName: "relay test", brokerHosts: ["127.0.0.1"], nowMs: Date.now() });
  // The client's first bytes, read off a plain listener: what an on-path relay sees of a TLS connection.
  const raw = await firstBytesOf(
    (port) => Deno.listen({ hostname: "127.0.0.1", port }),
    (port) =>
      connectMqtt({
        url: `mqtts://127.0.0.1:${port}`,
        ca: tls.ca.certPem,
        username: "door-sensor-1",
        password: "s3cret-pw",
        reconnectPeriodMs: 0,
        connectTimeoutMs: 300,
      }),
  );
  assert.equal(raw[0], 0x16, "a TLS handshake record");
  assert.deepEqual(readConnect(raw), { ok: false, code: "NOT_CONNECT" });
  assert.ok(!new TextDecoder().decode(raw).includes("s3cret-pw"), "the password does not cross in clear");
});

Deno.test("readConnect: MQTT 5 properties, a will, and broken packets", () => {
  // MQTT 5 CONNECT: flags username|password|will, empty properties, client id "c", will props, topic "w",
  // payload "x", username "u", password "p".
  const body = [
    0,
    4,
    ...utf8Encode("MQTT"),
    5,
    0xc4,
    0,
    30,
    0,
    0,
    1,
    ...utf8Encode("c"),
    0,
    0,
    1,
    ...utf8Encode("w"),
    0,
    1,
    ...utf8Encode("x"),
    0,
    1,
    ...utf8Encode("u"),
    0,
    1,
    ...utf8Encode("p"),
  ];
  const packet = new Uint8Array([0x10, body.length, ...body]);
  const reading = readConnect(packet);
  assert.ok(reading.ok);
  assert.equal(reading.username, "u");
  assert.equal(utf8Decode(reading.password!), "p");
  assert.deepEqual(readConnect(new Uint8Array([0x30, 0])), { ok: false, code: "NOT_CONNECT" });
  assert.deepEqual(readConnect(new Uint8Array([0x10, 0xff, 0xff, 0xff, 0xff])), {
    ok: false,
    code: "MALFORMED",
  });
  // A CONNECT announcing 200 MiB is not buffered by a sniffer.
  assert.deepEqual(readConnect(connectHeader(200 * 1024 * 1024)), { ok: false, code: "MALFORMED" });
  assert.deepEqual(readConnect(new Uint8Array([0x10, 6, 0, 4, ...utf8Encode("HTTP")])), {
    ok: false,
    code: "NOT_CONNECT",
  });
});

Deno.test("connectHeader: the remaining length as a variable byte integer", () => {
  assert.deepEqual([...connectHeader(0)], [0x10, 0]);
  assert.deepEqual([...connectHeader(127)], [0x10, 0x7f]);
  assert.deepEqual([...connectHeader(321)], [0x10, 0xc1, 0x02]);
  assert.deepEqual([...connectHeader(200 * 1024 * 1024)], [0x10, 0x80, 0x80, 0x80, 0x64]);
});

Deno.test("startRelay: forwards both ways and records the credentials of a plaintext CONNECT", async () => {
  // A stand-in broker that echoes: enough to see bytes cross the relay in both directions.
  const upstream = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const echo = (async () => {
    const conn = await upstream.accept();
    const buffer = new Uint8Array(4096);
    const n = await conn.read(buffer);
    if (n !== null) await conn.write(buffer.subarray(0, n));
    conn.close();
  })();
  const relay = startRelay({ target: { hostname: "127.0.0.1", port: (upstream.addr as Deno.NetAddr).port } });
  try {
    const body = [
      0,
      4,
      ...utf8Encode("MQTT"),
      4,
      0xc2,
      0,
      30,
      0,
      1,
      ...utf8Encode("c"),
      0,
      1,
      ...utf8Encode("u"),
    ];
    const connect = new Uint8Array([0x10, body.length + 4, ...body, 0, 2, ...utf8Encode("pw")]);
    const device = await Deno.connect({ hostname: "127.0.0.1", port: relay.port });
    await device.write(connect);
    const back = new Uint8Array(4096);
    const n = await device.read(back);
    device.close();
    await echo;
    assert.deepEqual(back.slice(0, n!), connect, "the broker's answer came back unchanged");
    const [seen] = relay.observations();
    assert.equal(seen.readable, true);
    assert.equal(seen.username, "u");
    assert.equal(utf8Decode(seen.password!), "pw");
  } finally {
    await relay.close();
    upstream.close();
  }
});
