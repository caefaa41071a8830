import assert from "node:assert/strict";
import { SUITE_DSA, SUITE_ED25519 } from "../../crypto/envelope.ts";
import { measureVerifyMs, VerifyYardstick } from "../../roles/verify_baseline.ts";
import { withTestHome } from "../store/home_helpers.ts";

for (const suite of [SUITE_DSA, SUITE_ED25519] as const) {
  Deno.test(`the verify yardstick (${suite}): samples add up, and the median is a positive time`, () =>
    withTestHome(async (dir) => {
      const yardstick = await VerifyYardstick.prepare(dir, "door-sensor-1", "door-actuator");
      assert.equal(yardstick.count, 0);
      assert.ok(Number.isNaN(yardstick.median()));
      await yardstick.sample(5);
      await yardstick.sample(4);
      assert.equal(yardstick.count, 9);
      const median = yardstick.median();
      assert.ok(Number.isFinite(median) && median > 0, `median ${median}`);
      const once = await measureVerifyMs(dir, "door-sensor-1", "door-actuator", 3);
      assert.ok(Number.isFinite(once) && once > 0);
    }, { suite }));
}

Deno.test("the verify yardstick refuses a sensor the home does not trust, naming the trust list", () =>
  withTestHome(async (dir) => {
    await assert.rejects(
      () => VerifyYardstick.prepare(dir, "door-sensor-9", "door-actuator"),
      /door-sensor-9/,
    );
  }));
