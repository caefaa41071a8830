/**
 * Test helper, run as a child process: the embedded broker in secure mode, reporting its own resident
 * memory. It prints `{"port":P}` once listening, then answers each stdin line: `reset` → the current RSS
 * (and starts a new peak), `peak` → the highest RSS sampled since the last reset, in bytes.
 *
 *   deno run -A --v8-flags=--expose-gc tests/integration/rss_broker.ts PASSWD ACL LOG [--no-packet-cap]
 *
 * `--no-packet-cap` lifts the packet caps, to measure what the caps save (not used by the tests).
 * @module
 */

import { loadBrokerPolicy } from "../../auth/policy.ts";
import { systemClock } from "../../core/clock.ts";
import { fileLogWriter, Log } from "../../log/jsonl.ts";
import { startBroker } from "../../transport/broker.ts";

const SAMPLE_EVERY_MS = 10;

const [passwd, acl, logPath, flag] = Deno.args;
const log = new Log(fileLogWriter(logPath), { role: "broker", run: "rss", clock: systemClock });
const uncapped = flag === "--no-packet-cap";
const broker = await startBroker({
  port: 0,
  log,
  policy: loadBrokerPolicy(passwd, acl),
  limits: uncapped ? { maxPacketBytesBeforeLogin: 2 ** 30, maxPacketBytesAfterLogin: 2 ** 30 } : {},
});
const collect = (globalThis as { gc?: () => void }).gc ?? (() => {});
let peak = 0;
const timer = setInterval(() => peak = Math.max(peak, Deno.memoryUsage().rss), SAMPLE_EVERY_MS);
console.log(JSON.stringify({ port: broker.port }));
for await (const line of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
  for (const command of line.split("\n").filter((l) => l.trim() !== "")) {
    if (command === "reset") {
      collect();
      peak = Deno.memoryUsage().rss;
      console.log(JSON.stringify({ rss: peak }));
    } else {
      peak = Math.max(peak, Deno.memoryUsage().rss);
      console.log(JSON.stringify({ rss: peak }));
    }
  }
}
clearInterval(timer);
await broker.close();
log.close();
