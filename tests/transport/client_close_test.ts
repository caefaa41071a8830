/**
 * A broker that hangs up instead of acknowledging (an ACL or retain refusal does that) must not leave a
 * client without reconnects waiting forever: the publish and the subscribe fail with a code.
 */

import assert from "node:assert/strict";
import { connectMqtt, TransportError } from "../../transport/client.ts";

/** Accepts one MQTT connection, answers CONNECT with CONNACK, then closes on the next packet. */
function hangUpBroker(): { url: string; done: Promise<void> } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const done = (async () => {
    const conn = await listener.accept();
    listener.close();
    const buffer = new Uint8Array(4096);
    await conn.read(buffer); // CONNECT
    await conn.write(new Uint8Array([0x20, 0x02, 0x00, 0x00])); // CONNACK, accepted
    await conn.read(buffer); // PUBLISH or SUBSCRIBE: refused by hanging up
    conn.close();
  })();
  return { url: `mqtt://127.0.0.1:${port}`, done };
}

for (const action of ["publish", "subscribe"] as const) {
  Deno.test(`without reconnects, a ${action} the broker hangs up on fails instead of waiting forever`, async () => {
    const broker = hangUpBroker();
    const client = await connectMqtt({ url: broker.url, reconnectPeriodMs: 0, clientId: "c" });
    try {
      const pending = action === "publish"
        ? client.publish("t", "x", { qos: 1 })
        : client.subscribe("t", { qos: 1 });
      await assert.rejects(pending, (error: unknown) => {
        assert.ok(error instanceof TransportError);
        assert.equal(error.code, action === "publish" ? "PUBLISH_FAILED" : "SUBSCRIBE_REFUSED");
        return true;
      });
    } finally {
      await client.close();
      await broker.done;
    }
  });
}
