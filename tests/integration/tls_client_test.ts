/**
 * The MQTT client over TLS against real Mosquitto serving the home's certificate: it connects with the
 * home's CA, and refuses a broker it cannot verify (no CA, another home's CA, plaintext).
 */

import assert from "node:assert/strict";
import { issueHomeTls } from "../../crypto/x509.ts";
import { connectMqtt, TransportError } from "../../transport/client.ts";
import { mosquittoAvailable, startMosquitto } from "../../testkit/brokers.ts";

Deno.test({
  name:
    "mqtts:// with the home's CA connects and delivers; without it, with a stranger's CA, or plaintext: refused",
  ignore: !mosquittoAvailable(),
  async fn() {
    const home = await issueHomeTls({
      homeName: "tls test",
      brokerHosts: ["localhost", "127.0.0.1"],
      nowMs: Date.now(),
    });
    const stranger = await issueHomeTls({
      homeName: "stranger",
      brokerHosts: ["127.0.0.1"],
      nowMs: Date.now(),
    });
    const dir = await Deno.makeTempDir();
    await Deno.writeTextFile(`${dir}/broker.crt`, home.broker.certPem);
    await Deno.writeTextFile(`${dir}/broker.key`, home.broker.keyPem, { mode: 0o600 });
    const broker = await startMosquitto([
      "allow_anonymous true",
      "user root", // the key file is the test runner's, 0600
      `certfile ${dir}/broker.crt`,
      `keyfile ${dir}/broker.key`,
    ]);
    const tlsUrl = `mqtts://127.0.0.1:${broker.port}`;
    try {
      const subscriber = await connectMqtt({ url: tlsUrl, ca: home.ca.certPem, reconnectPeriodMs: 0 });
      const publisher = await connectMqtt({ url: `mqtts://localhost:${broker.port}`, ca: home.ca.certPem });
      const got = new Promise<string>((resolve) =>
        subscriber.onMessage((_topic, payload) => resolve(new TextDecoder().decode(payload)))
      );
      await subscriber.subscribe("t", { qos: 1 });
      await publisher.publish("t", "over tls", { qos: 1 });
      assert.equal(await got, "over tls");
      await publisher.close();
      await subscriber.close();

      for (
        const attempt of [{ url: tlsUrl }, { url: tlsUrl, ca: stranger.ca.certPem }, { url: broker.url }]
      ) {
        await assert.rejects(
          connectMqtt({ ...attempt, reconnectPeriodMs: 0, connectTimeoutMs: 3000 }),
          (error: unknown) => error instanceof TransportError && error.code === "CONNECT_FAILED",
          JSON.stringify({ url: attempt.url, ca: attempt.ca ? "stranger" : "none" }),
        );
      }
    } finally {
      await broker.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
