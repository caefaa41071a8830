import { deepStrictEqual, equal } from "node:assert/strict";
import { MqttFrameGuard } from "../../transport/frame_guard.ts";

/** A fixed header: type nibble and Remaining Length (MQTT 3.1.1 §2.2.3). */
function header(type: number, remaining: number): Uint8Array {
  const bytes = [type << 4];
  do {
    let digit = remaining % 128;
    remaining = Math.floor(remaining / 128);
    if (remaining > 0) digit |= 0x80;
    bytes.push(digit);
  } while (remaining > 0);
  return new Uint8Array(bytes);
}

function packet(type: number, bodyBytes: number): Uint8Array {
  const h = header(type, bodyBytes);
  const out = new Uint8Array(h.length + bodyBytes);
  out.set(h);
  return out;
}

Deno.test("a 200 MiB CONNECT is refused from its five header bytes", () => {
  const guard = new MqttFrameGuard(() => 65536);
  deepStrictEqual(guard.feed(header(1, 200 * 1024 * 1024)), {
    ok: false,
    code: "PACKET_TOO_LARGE",
    declaredBytes: 1 + 4 + 200 * 1024 * 1024,
    limitBytes: 65536,
  });
  // Refused for good: later bytes change nothing.
  equal(guard.feed(new Uint8Array(10)).ok, false);
});

Deno.test("the limit counts the whole packet, fixed header included", () => {
  equal(new MqttFrameGuard(() => 65536).feed(header(1, 65536 - 4)).ok, true);
  equal(new MqttFrameGuard(() => 65536).feed(header(1, 65536 - 3)).ok, false);
});

Deno.test("packets split at any byte are followed across chunks, and the CONNECT is reported once", () => {
  const stream = new Uint8Array([...packet(1, 300), ...packet(3, 20_000), ...packet(12, 0), ...packet(3, 5)]);
  for (const cut of [1, 2, 3, 7, 301, 303, 304, 20_000]) {
    const guard = new MqttFrameGuard(() => 65536);
    const connects = [];
    for (let i = 0; i < stream.length; i += cut) {
      const verdict = guard.feed(stream.subarray(i, i + cut));
      equal(verdict.ok, true);
      if (verdict.ok && verdict.connectReceived) connects.push(i);
    }
    equal(connects.length, 1, `cut ${cut}`);
    equal(guard.packets, 4, `cut ${cut}`);
  }
});

Deno.test("an oversize packet after good ones is refused at its header, under the limit of that moment", () => {
  let limit = 1000;
  const guard = new MqttFrameGuard(() => limit);
  equal(guard.feed(packet(1, 100)).ok, true);
  limit = 70_000;
  equal(guard.feed(packet(3, 60_000)).ok, true);
  deepStrictEqual(guard.feed(header(3, 80_000)), {
    ok: false,
    code: "PACKET_TOO_LARGE",
    declaredBytes: 80_004,
    limitBytes: 70_000,
  });
});

Deno.test("a fifth length byte and a first packet other than CONNECT are refused", () => {
  deepStrictEqual(new MqttFrameGuard(() => 1e9).feed(new Uint8Array([0x10, 0xff, 0xff, 0xff, 0xff, 0x01])), {
    ok: false,
    code: "MALFORMED_LENGTH",
  });
  deepStrictEqual(new MqttFrameGuard(() => 1e9).feed(packet(3, 4)), {
    ok: false,
    code: "FIRST_NOT_CONNECT",
    packetType: 3,
  });
  // A client reading the broker's stream starts with CONNACK.
  equal(new MqttFrameGuard(() => 1e9, { connectFirst: false }).feed(packet(2, 2)).ok, true);
});
