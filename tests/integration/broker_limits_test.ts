/**
 * The embedded broker's limits before login, on real sockets: four unauthenticated 200 MiB CONNECTs
 * are closed from their headers and barely move the broker's memory (measured in a child process),
 * a silent connection is closed by the connect timeout, pending connections are capped per address,
 * refused logins are answered later and later without locking the real device out, and an oversize
 * publish after login is never delivered. The client wrapper's maxPacketBytes refuses an oversize packet too.
 */

import assert from "node:assert/strict";
import { systemClock } from "../../core/clock.ts";
import { Log, memoryLogWriter, parseLogLine } from "../../log/jsonl.ts";
import { homePaths } from "../../store/home.ts";
import { loadBrokerPolicy } from "../../auth/policy.ts";
import { type BrokerLimits, startBroker } from "../../transport/broker.ts";
import { connectMqtt, TransportError } from "../../transport/client.ts";
import { credential, makeTestHome } from "./secure_home.ts";

const MiB = 1024 * 1024;
const ATTACK_CONNECT_BYTES = 200 * MiB;
const MEMORY_BOUND_BYTES = 64 * MiB;
const CONFIG = new URL("../../deno.json", import.meta.url).pathname;
const RSS_BROKER = new URL("./rss_broker.ts", import.meta.url).pathname;

/** The fixed header of a CONNECT whose Remaining Length says `bodyBytes` (MQTT 3.1.1 §2.2.3). */
function connectHeader(bodyBytes: number): Uint8Array {
  const bytes = [0x10];
  do {
    let digit = bodyBytes % 128;
    bodyBytes = Math.floor(bodyBytes / 128);
    if (bodyBytes > 0) digit |= 0x80;
    bytes.push(digit);
  } while (bodyBytes > 0);
  return new Uint8Array(bytes);
}

/** Sends the header of a huge CONNECT, then streams its body until the broker closes; returns bytes sent. */
async function streamHugeConnect(port: number): Promise<{ sent: number; closed: boolean }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const chunk = new Uint8Array(MiB).fill(0x41);
  let sent = 0;
  let closed = false;
  try {
    sent += await conn.write(connectHeader(ATTACK_CONNECT_BYTES));
    while (sent < ATTACK_CONNECT_BYTES) sent += await conn.write(chunk);
  } catch {
    closed = true; // the broker reset the connection under our writes
  }
  if (!closed) {
    // Everything was written: the broker must still close it (a read then ends or fails).
    closed = await conn.read(new Uint8Array(16)).then((n) => n === null, () => true);
  }
  try {
    conn.close();
  } catch { /* already closed */ }
  return { sent, closed };
}

class LineReader {
  #lines: string[] = [];
  #waiters: ((line: string) => void)[] = [];
  constructor(stream: ReadableStream<Uint8Array>) {
    (async () => {
      let buffered = "";
      for await (const text of stream.pipeThrough(new TextDecoderStream())) {
        buffered += text;
        for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          const waiter = this.#waiters.shift();
          if (waiter) waiter(line);
          else this.#lines.push(line);
        }
      }
    })();
  }
  next(): Promise<string> {
    const line = this.#lines.shift();
    return line !== undefined ? Promise.resolve(line) : new Promise((r) => this.#waiters.push(r));
  }
}

Deno.test("four unauthenticated 200 MiB CONNECTs are closed and grow the broker by less than 64 MiB", async () => {
  const dir = await makeTestHome();
  const paths = homePaths(dir);
  const logPath = `${dir}/broker.jsonl`;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--quiet",
      "--v8-flags=--expose-gc",
      "--config",
      CONFIG,
      RSS_BROKER,
      paths.passwd,
      paths.acl,
      logPath,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const out = new LineReader(child.stdout);
  const writer = child.stdin.getWriter();
  const ask = async (command: string) => {
    await writer.write(new TextEncoder().encode(command + "\n"));
    return JSON.parse(await out.next()).rss as number;
  };
  try {
    const { port } = JSON.parse(await out.next());
    // A legit login first, so the broker's code paths are warm before the baseline.
    const legit = await connectMqtt({
      url: `mqtt://127.0.0.1:${port}`,
      clientId: "door-sensor-1",
      username: "door-sensor-1",
      password: credential(dir, "door-sensor-1"),
      reconnectPeriodMs: 0,
    });
    await legit.close();
    const before = await ask("reset");
    const results = await Promise.all([0, 1, 2, 3].map(() => streamHugeConnect(port)));
    const peak = await ask("peak");
    const growth = peak - before;
    console.log(
      `broker RSS before ${(before / MiB).toFixed(1)} MiB, peak during the attack ${
        (peak / MiB).toFixed(1)
      } MiB ` +
        `(+${(growth / MiB).toFixed(1)} MiB); bytes each attacker got out: ${
          results.map((r) => r.sent).join(", ")
        }`,
    );
    for (const r of results) {
      assert.ok(r.closed, "the broker closed the connection");
      assert.ok(r.sent < ATTACK_CONNECT_BYTES, `closed before the whole CONNECT was sent (${r.sent})`);
    }
    assert.ok(growth < MEMORY_BOUND_BYTES, `broker grew by ${(growth / MiB).toFixed(1)} MiB`);
  } finally {
    await writer.close();
    await child.status;
  }
  const records = Deno.readTextFileSync(logPath).trim().split("\n").map((l, i) => parseLogLine(l, i + 1))
    .flatMap((r) => r.ok ? [r.record] : []);
  const tooLarge = records.filter((r) => r.event === "broker_denied" && r.code === "PACKET_TOO_LARGE");
  assert.equal(tooLarge.length, 4);
  for (const r of tooLarge) {
    assert.equal(r.logged_in, false);
    assert.equal(r.declared_bytes, 1 + 4 + ATTACK_CONNECT_BYTES);
    assert.equal(r.limit_bytes, 65536);
  }
  await Deno.remove(dir, { recursive: true });
});

async function secureBroker(dir: string, limits: Partial<BrokerLimits> = {}) {
  const paths = homePaths(dir);
  const writer = memoryLogWriter();
  const log = new Log(writer, { role: "broker", run: "limits", clock: systemClock });
  const broker = await startBroker({
    port: 0,
    log,
    policy: loadBrokerPolicy(paths.passwd, paths.acl),
    limits,
  });
  return { broker, records: writer.records };
}

/** Resolves once the peer closes `conn` (a read ends or fails). */
async function closedByPeer(conn: Deno.Conn): Promise<true> {
  const buffer = new Uint8Array(64);
  for (;;) {
    const n = await conn.read(buffer).catch(() => null);
    if (n === null) return true;
  }
}

Deno.test("a connection that sends no CONNECT is closed by the connect timeout", async () => {
  const dir = await makeTestHome();
  const { broker, records } = await secureBroker(dir, { connectTimeoutMs: 200 });
  try {
    const silent = await Deno.connect({ hostname: "127.0.0.1", port: broker.port });
    // Half a CONNECT header, then nothing: a slow client holding a slot.
    await silent.write(new Uint8Array([0x10]));
    assert.equal(await closedByPeer(silent), true);
    silent.close();
    const denied = records.filter((r) => r.event === "broker_denied");
    assert.deepEqual(denied.map((r) => r.code), ["CONNECT_TIMEOUT"]);
    assert.equal(denied[0].address, "127.0.0.1");
  } finally {
    await broker.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("connections still logging in are capped per address; a logged-in one frees its slot", async () => {
  const dir = await makeTestHome();
  const { broker, records } = await secureBroker(dir, { maxPendingPerAddress: 2 });
  try {
    const first = await connectMqtt({
      url: broker.url,
      clientId: "door-sensor-1",
      username: "door-sensor-1",
      password: credential(dir, "door-sensor-1"),
      reconnectPeriodMs: 0,
    });
    const idle = [
      await Deno.connect({ hostname: "127.0.0.1", port: broker.port }),
      await Deno.connect({ hostname: "127.0.0.1", port: broker.port }),
    ];
    const third = await Deno.connect({ hostname: "127.0.0.1", port: broker.port });
    assert.equal(await closedByPeer(third), true);
    third.close();
    assert.deepEqual(
      records.filter((r) => r.event === "broker_denied").map((r) => [r.code, r.limit]),
      [["TOO_MANY_PENDING_FROM_ADDRESS", 2]],
    );
    for (const conn of idle) conn.close();
    await first.close();
  } finally {
    await broker.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("refused logins are answered later and later, and the real device still gets in at once", async () => {
  const dir = await makeTestHome();
  const { broker, records } = await secureBroker(dir);
  try {
    for (let i = 0; i < 4; i++) {
      await assert.rejects(
        connectMqtt({
          url: broker.url,
          clientId: `door-sensor-1-guess${i}`,
          username: "door-sensor-1",
          password: `guess-${i}`,
          reconnectPeriodMs: 0,
        }),
        (e: unknown) => e instanceof TransportError && e.code === "NOT_AUTHORIZED",
      );
    }
    const failed = records.filter((r) => r.event === "auth_failed");
    assert.deepEqual(failed.map((r) => r.delay_ms), [50, 100, 200, 400]);
    assert.ok(failed.every((r) => r.address === "127.0.0.1" && r.username === "door-sensor-1"));
    // The device knows its password: it is let in whatever the guesses before.
    const device = await connectMqtt({
      url: broker.url,
      clientId: "door-sensor-1",
      username: "door-sensor-1",
      password: credential(dir, "door-sensor-1"),
      reconnectPeriodMs: 0,
    });
    await device.close();
    assert.ok(records.some((r) => r.event === "client_connected" && r.client_id === "door-sensor-1"));
  } finally {
    await broker.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an oversize publish after login closes the sender and is never delivered", async () => {
  const dir = await makeTestHome();
  const { broker, records } = await secureBroker(dir);
  const reader = await connectMqtt({
    url: broker.url,
    clientId: "door-actuator",
    username: "door-actuator",
    password: credential(dir, "door-actuator"),
    reconnectPeriodMs: 0,
  });
  try {
    const received: number[] = [];
    reader.onMessage((_topic, payload) => void received.push(payload.length));
    await reader.subscribe("home/secure/#");
    const mallory = await connectMqtt({
      url: broker.url,
      clientId: "mallory",
      username: "mallory",
      password: credential(dir, "mallory"),
      reconnectPeriodMs: 0,
    });
    const closed = new Promise<void>((r) => mallory.onState((s) => s === "closed" && r()));
    mallory.publish("home/secure/door", new Uint8Array(300 * 1024), { qos: 0 }).catch(() => {});
    await closed;
    await mallory.close();
    // An ordinary message after it arrives alone: the oversize one was never routed.
    const sensor = await connectMqtt({
      url: broker.url,
      clientId: "door-sensor-1",
      username: "door-sensor-1",
      password: credential(dir, "door-sensor-1"),
      reconnectPeriodMs: 0,
    });
    await sensor.publish("home/secure/door-sensor-1/door", "small", { qos: 1 });
    await sensor.close();
    while (received.length === 0) await systemClock.sleep(10);
    assert.deepEqual(received, [5]);
    const denied = records.filter((r) => r.event === "broker_denied");
    assert.deepEqual(denied.map((r) => [r.code, r.logged_in, r.limit_bytes]), [[
      "PACKET_TOO_LARGE",
      true,
      256 * 1024,
    ]]);
  } finally {
    await reader.close();
    await broker.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("connectMqtt with maxPacketBytes closes a connection whose broker sends an oversize packet", async () => {
  // A fake broker: CONNACK, then the header of a 100 MiB PUBLISH and a first MiB of its body.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const served = (async () => {
    const conn = await listener.accept();
    await conn.read(new Uint8Array(1024)); // the CONNECT
    await conn.write(new Uint8Array([0x20, 0x02, 0x00, 0x00]));
    await conn.write(new Uint8Array([0x30, 0x80, 0x80, 0x80, 0x32]));
    const sent = await conn.write(new Uint8Array(MiB)).catch(() => 0);
    const closed = await closedByPeer(conn);
    conn.close();
    return { sent, closed };
  })();
  const client = await connectMqtt({
    url: `mqtt://127.0.0.1:${port}`,
    clientId: "door-actuator",
    reconnectPeriodMs: 0,
    maxPacketBytes: 256 * 1024,
  });
  const messages: number[] = [];
  client.onMessage((_t, payload) => void messages.push(payload.length));
  const result = await served;
  await client.close();
  listener.close();
  assert.equal(result.closed, true);
  assert.deepEqual(messages, []);
});
