/**
 * A bad trust entry stops the actuator at start (exit 2, one line naming the sender and the reason),
 * before it connects or says it is listening.
 */

import assert from "node:assert/strict";
import { fromHex, toPem } from "../../crypto/codec.ts";
import { type Suite, SUITE_DSA, SUITE_ED25519 } from "../../crypto/envelope.ts";
import { homePaths } from "../../store/home.ts";
import { freePort } from "../../testkit/brokers.ts";
import { runSecmqtt } from "./cli_process.ts";
import { makeTestHome } from "./secure_home.ts";

/** The Ed25519 identity point (y = 1), the simplest small-order key, as an SPKI PEM. */
const SMALL_ORDER_ED25519_PEM = toPem(
  "PUBLIC KEY",
  fromHex("302a300506032b6570032100" + "01" + "00".repeat(31)),
);

function replaceKey(dir: string, sender: string, edit: (pem: string) => string): void {
  const path = homePaths(dir).trust;
  const trust = JSON.parse(Deno.readTextFileSync(path));
  trust.senders[sender].public_key = edit(trust.senders[sender].public_key);
  Deno.writeTextFileSync(path, JSON.stringify(trust, null, 2) + "\n");
}

/** A DSA public key PEM with one base64 character of y's last bytes changed (y^q ≢ 1 then). */
function corruptDsaPem(pem: string): string {
  const lines = pem.trimEnd().split("\n");
  const last = lines.length - 2; // the last base64 line before END
  const line = lines[last];
  const at = line.length - 4; // clear of the base64 padding
  lines[last] = line.slice(0, at) + (line[at] === "A" ? "B" : "A") + line.slice(at + 1);
  return lines.join("\n") + "\n";
}

for (
  const { suite, edit, reason } of [
    {
      suite: SUITE_ED25519,
      edit: () => SMALL_ORDER_ED25519_PEM,
      reason: /public key has small order/,
    },
    { suite: SUITE_DSA, edit: corruptDsaPem, reason: /DSA public key: expected y\^q ≡ 1/ },
  ] as { suite: Suite; edit: (pem: string) => string; reason: RegExp }[]
) {
  Deno.test(`actuator --secure refuses to start on a bad ${suite.split("+").pop()} trust entry: exit 2, one line`, async () => {
    const dir = await makeTestHome(suite);
    try {
      replaceKey(dir, "door-sensor-1", edit);
      const { code, stdout, stderr } = await runSecmqtt([
        "actuator",
        "--secure",
        "--keys",
        dir,
        "--broker",
        `mqtt://127.0.0.1:${freePort()}`,
      ]);
      assert.equal(code, 2, stderr);
      assert.equal(stdout, "");
      assert.equal(stderr.trim().split("\n").length, 1, stderr);
      assert.match(stderr, /sender 'door-sensor-1'/);
      assert.match(stderr, reason);
      assert.doesNotMatch(stderr, /listening/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
