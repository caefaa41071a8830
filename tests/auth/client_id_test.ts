import { deepStrictEqual, equal } from "node:assert/strict";
import { checkClientId, clientIdOwner } from "../../auth/client_id.ts";
import { brokerPolicy } from "../../auth/policy.ts";
import { createPasswordFile } from "../../auth/passwd.ts";

const ACCOUNTS = new Set(["door-sensor", "door-sensor-1", "door-actuator", "mallory"]);

Deno.test("a username is its own client id, and username-suffix ids are its extra instances", () => {
  equal(clientIdOwner("door-actuator", ACCOUNTS), "door-actuator");
  equal(clientIdOwner("door-actuator-2", ACCOUNTS), "door-actuator");
  equal(clientIdOwner("mallory-tap-7", ACCOUNTS), "mallory");
  deepStrictEqual(checkClientId("mallory", "mallory-x", ACCOUNTS), { ok: true });
});

Deno.test("the longest account name owns an id, so a shorter name cannot reach into a longer one's ids", () => {
  equal(clientIdOwner("door-sensor-1", ACCOUNTS), "door-sensor-1");
  equal(clientIdOwner("door-sensor-1-spare", ACCOUNTS), "door-sensor-1");
  equal(clientIdOwner("door-sensor-2", ACCOUNTS), "door-sensor");
  deepStrictEqual(checkClientId("door-sensor", "door-sensor-1", ACCOUNTS), {
    ok: false,
    owner: "door-sensor-1",
  });
});

Deno.test("another account's id, and ids in nobody's namespace, are refused", () => {
  deepStrictEqual(checkClientId("mallory", "door-actuator", ACCOUNTS), { ok: false, owner: "door-actuator" });
  deepStrictEqual(checkClientId("mallory", "door-actuator-x", ACCOUNTS), {
    ok: false,
    owner: "door-actuator",
  });
  deepStrictEqual(checkClientId("mallory", "tap", ACCOUNTS), { ok: false, owner: undefined });
  deepStrictEqual(checkClientId("mallory", "mallory_x", ACCOUNTS), { ok: false, owner: undefined });
  deepStrictEqual(checkClientId("mallory", "", ACCOUNTS), { ok: false, owner: undefined });
  deepStrictEqual(checkClientId("mallory", "-mallory", ACCOUNTS), { ok: false, owner: undefined });
});

Deno.test("the broker policy checks the client id only after the password", () => {
  const passwd = createPasswordFile([
    { username: "door-actuator", password: "a" },
    { username: "mallory", password: "m" },
  ]);
  const policy = brokerPolicy(passwd, "user door-actuator\ntopic read home/secure/#\n");
  const bytes = (s: string) => new TextEncoder().encode(s);
  deepStrictEqual(policy.authenticate("door-actuator", bytes("a"), "door-actuator"), { ok: true });
  deepStrictEqual(policy.authenticate("mallory", bytes("m"), "door-actuator"), {
    ok: false,
    code: "CLIENT_ID_NOT_OWNED",
    owner: "door-actuator",
  });
  // A wrong password is NOT_AUTHORIZED whatever the id: strangers learn nothing about id ownership.
  deepStrictEqual(policy.authenticate("mallory", bytes("x"), "door-actuator"), {
    ok: false,
    code: "NOT_AUTHORIZED",
  });
});
