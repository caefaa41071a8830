import assert from "node:assert/strict";
import type { Clock } from "../../core/clock.ts";
import { utf8Encode } from "../../crypto/codec.ts";
import { Log, memoryLogWriter } from "../../log/jsonl.ts";
import { ATTACK_CATALOGUE } from "../../roles/attacks/catalogue.ts";
import { createAttackContext } from "../../roles/attacks/context.ts";
import type { AttackConnection, RelayObservation, SecureAttackerDeps } from "../../roles/attacks/options.ts";
import type { ProbeOutcome } from "../../roles/attacks/recipe.ts";
import { DEFAULT_SECURE_ATTACK } from "../../roles/attacks/run.ts";
import { loadEnvelopeFixtureKeys } from "../../testkit/fixture_keys.ts";
import { TransportError } from "../../transport/client.ts";

const clock: Clock = { now: () => 1_700_000_000_000, sleep: () => Promise.resolve() };
const keys = await loadEnvelopeFixtureKeys();

/** A broker connection that hands every subscriber what `retained` holds, and `queued` to anyone. */
function fakeConnection(
  broker: { retained: Map<string, Uint8Array>; queued: Uint8Array[]; retain: boolean },
) {
  const handlers: ((t: string, p: Uint8Array) => void)[] = [];
  const connection: AttackConnection = {
    publish(topic, payload, options) {
      const bytes = typeof payload === "string" ? utf8Encode(payload) : payload;
      if (options?.retain && broker.retain) broker.retained.set(topic, bytes);
      return Promise.resolve();
    },
    subscribe(filter) {
      const kept = broker.retained.get(filter);
      if (kept) queueMicrotask(() => handlers.forEach((h) => h(filter, kept)));
      return Promise.resolve();
    },
    onMessage(handler) {
      handlers.push(handler);
      for (const q of broker.queued) handler("home/secure/door", q);
    },
    onState() {},
    close: () => Promise.resolve(),
  };
  return connection;
}

function run(
  cls: "client-id-takeover" | "retained-poison" | "password-guessing" | "credential-sniff",
  deps: Partial<SecureAttackerDeps>,
): Promise<ProbeOutcome> {
  const ctx = createAttackContext(
    DEFAULT_SECURE_ATTACK,
    {
      clock,
      log: new Log(memoryLogWriter(), { role: "attacker", run: "test", clock }),
      transport: {
        publish: () => Promise.resolve(),
        subscribe: () => Promise.resolve(),
        onMessage: () => {},
      },
      connect: () => Promise.reject(new TransportError("NOT_AUTHORIZED", "refused")),
      ownCredentials: { username: "mallory", password: "mallory-pw" },
      actuatorPublicKey: keys.rsaPublic,
      ...deps,
    },
    [],
    () => Promise.resolve(),
  );
  const entry = ATTACK_CATALOGUE[cls];
  assert.equal(entry.level, "probe");
  if (entry.level !== "probe") throw new Error("not a probe");
  return entry.build(ctx, "v", 1).run();
}

Deno.test("client-id-takeover: refused at CONNECT, let in with nothing, or handed the actuator's queue", async () => {
  assert.deepEqual(await run("client-id-takeover", {}), {
    succeeded: false,
    code: "NOT_AUTHORIZED",
    fields: { client_id: "door-actuator" },
  });
  const asked: { clientId: string; clean?: boolean }[] = [];
  const broker = { retained: new Map(), queued: [] as Uint8Array[], retain: false };
  const connect: SecureAttackerDeps["connect"] = (o) => {
    asked.push(o);
    return Promise.resolve(fakeConnection(broker));
  };
  assert.deepEqual(await run("client-id-takeover", { connect }), {
    succeeded: false,
    code: "NO_SESSION",
    fields: { client_id: "door-actuator", received: 0 },
  });
  assert.equal(asked[0].clientId, "door-actuator");
  assert.equal(asked[0].clean, false, "a persistent session, to be handed the actuator's");
  broker.queued.push(utf8Encode("door event"), utf8Encode("another"));
  assert.deepEqual(await run("client-id-takeover", { connect }), {
    succeeded: true,
    fields: { client_id: "door-actuator", received: 2 },
  });
});

Deno.test("retained-poison: a broker that keeps it hands it to a fresh subscriber (then it is cleared)", async () => {
  const broker = { retained: new Map<string, Uint8Array>(), queued: [], retain: true };
  const connect: SecureAttackerDeps["connect"] = () => Promise.resolve(fakeConnection(broker));
  const outcome = await run("retained-poison", { connect });
  assert.deepEqual(outcome, {
    succeeded: true,
    fields: { topic: DEFAULT_SECURE_ATTACK.topic, delivered_to_new_subscriber: true },
  });
  assert.equal(
    broker.retained.get(DEFAULT_SECURE_ATTACK.topic)?.length,
    0,
    "cleared with an empty retained message",
  );
  broker.retain = false;
  broker.retained.clear();
  assert.deepEqual(await run("retained-poison", { connect }), {
    succeeded: false,
    code: "NOT_RETAINED",
    fields: { topic: DEFAULT_SECURE_ATTACK.topic },
  });
});

Deno.test("password-guessing: a refused guess is blocked with the broker's code, for the victim's account", async () => {
  const tried: { username?: string; password?: string }[] = [];
  const outcome = await run("password-guessing", {
    connect: (o) => {
      tried.push(o);
      return Promise.reject(new TransportError("NOT_AUTHORIZED", "refused"));
    },
  });
  assert.equal(outcome.succeeded, false);
  assert.equal(!outcome.succeeded && outcome.code, "NOT_AUTHORIZED");
  assert.equal(tried[0].username, DEFAULT_SECURE_ATTACK.victimUsername);
  assert.notEqual(tried[0].password, undefined);
});

Deno.test("credential-sniff: read credentials succeed (length only), ciphertext does not", async () => {
  const plain: RelayObservation[] = [{
    readable: true,
    username: "door-sensor-2",
    password: utf8Encode("pw-123"),
  }];
  assert.deepEqual(await run("credential-sniff", { relay: { observations: () => plain } }), {
    succeeded: true,
    fields: { connections: 1, username: "door-sensor-2", credentials_read: true, credential_bytes: 6 },
  });
  const tls: RelayObservation[] = [{ readable: false }];
  assert.deepEqual(await run("credential-sniff", { relay: { observations: () => tls } }), {
    succeeded: false,
    code: "NOT_READABLE",
    fields: { connections: 1 },
  });
});
