/** One topic per device: the topic names the device, and keygen's ACL lets each account write only its own. */

import assert from "node:assert/strict";
import { formatAcl, isAllowed, parseAcl, topicMatches } from "../../auth/acl.ts";
import { deviceIdOfTopic, SECURE_TOPIC_FILTER, secureTopicFor } from "../../roles/door.ts";
import { homeAcl } from "../../roles/keygen.ts";

Deno.test("a device topic names its device, and nothing else is a device topic", () => {
  assert.equal(secureTopicFor("door-sensor-1"), "home/secure/door-sensor-1/door");
  assert.equal(deviceIdOfTopic(secureTopicFor("door-sensor-1")), "door-sensor-1");
  for (
    const topic of ["home/secure/door", "home/secure//door", "home/secure/a/b/door", "home/secure/a/window"]
  ) {
    assert.equal(deviceIdOfTopic(topic), undefined, topic);
  }
  assert.ok(topicMatches(SECURE_TOPIC_FILTER, secureTopicFor("sensor-0042")));
  assert.ok(!topicMatches(SECURE_TOPIC_FILTER, "home/secure/door"));
});

Deno.test("keygen's ACL: each account writes only its own topic; the actuator reads them all", () => {
  const text = formatAcl(homeAcl(["door-sensor-1", "door-sensor-2"], "door-actuator", "mallory"));
  assert.match(text, /^pattern write home\/secure\/%u\/door$/m);
  const acl = parseAcl(text);
  const may = (username: string, access: "read" | "write", topic: string) =>
    isAllowed(acl, { username, clientId: username, topic, access });
  assert.ok(may("door-sensor-1", "write", secureTopicFor("door-sensor-1")));
  assert.ok(!may("door-sensor-1", "write", secureTopicFor("door-sensor-2")));
  assert.ok(!may("door-sensor-1", "write", "home/secure/door"));
  assert.ok(!may("door-sensor-1", "read", secureTopicFor("door-sensor-2")));
  assert.ok(may("door-actuator", "read", secureTopicFor("door-sensor-2")));
  // The attacker account is the stated broad-rights model: it writes every device topic.
  assert.ok(may("mallory", "write", secureTopicFor("door-sensor-1")));
  assert.ok(!may("mallory", "write", "home/secure/window"));
});
