/**
 * Runs every scenario of the conformance kit against the reference: the envelope layer (`open()` of
 * crypto/envelope.ts, with and without a key cache) and the whole receiver (`startActuator` +
 * `secureOpener` with a SQLite replay store in a temporary file and a fake clock). Also checks that the
 * kit covers every verdict for both suites, that docs/PROTOCOL.md's table is the receiver's closed set,
 * and that the committed kit is what `deno task conformance` generates.
 */

import assert from "node:assert/strict";
import { FakeClock } from "../../core/clock.ts";
import { fromBase64 } from "../../crypto/codec.ts";
import { EpochKeyCache, open, REASON_CODES, SUITE_DSA, SUITE_ED25519 } from "../../crypto/envelope.ts";
import { importRsaPrivateKeyPem } from "../../crypto/rsa.ts";
import { Log, memoryLogWriter } from "../../log/jsonl.ts";
import { type MessageOpener, startActuator } from "../../roles/actuator.ts";
import { SECURE_TOPIC_FILTER } from "../../roles/door.ts";
import {
  keyCacheFor,
  RECEIVER_REASON_CODES,
  secureOpener,
  trustResolver,
} from "../../roles/secure_actuator.ts";
import { type ReplayState, ReplayStore, StateError } from "../../store/replay.ts";
import { parseTrustList } from "../../store/trust.ts";
import { loadEnvelopeFixtureKeys } from "../../testkit/fixture_keys.ts";
import {
  committedWraps,
  differences,
  generateKit,
  TRUST_LISTS_FILE,
  type TrustListCase,
} from "./generate.ts";
import { type DeliverStep, KIT_DIR, readScenarios, type Scenario, type TrustJson, VERDICTS } from "./kit.ts";

const scenarios = await readScenarios();
const recipientKeys = new Map<string, Promise<CryptoKey>>();
function recipientKey(file: string): Promise<CryptoKey> {
  let key = recipientKeys.get(file);
  if (!key) {
    key = Deno.readTextFile(new URL(file, KIT_DIR)).then(importRsaPrivateKeyPem);
    recipientKeys.set(file, key);
  }
  return key;
}

function trustOf(json: TrustJson) {
  const list = parseTrustList(JSON.stringify(json), "scenario trust list");
  return { list, resolver: trustResolver(list) };
}

/** `i note: expected X, got Y` for every step whose verdict differs; [] when the run conforms. */
type Mismatches = string[];

function mismatch(out: Mismatches, index: number, step: DeliverStep, expected: string, got: string): void {
  if (expected !== got) out.push(`step ${index} (${step.note}): expected ${expected}, got ${got}`);
}

/** The envelope layer alone: the runner keeps the replay state and commits on an `accept` expectation. */
async function runOpen(scenario: Scenario, withCache: boolean): Promise<Mismatches> {
  const out: Mismatches = [];
  const recipientPrivateKey = await recipientKey(scenario.receiver.recipient_private_key);
  const highest = new Map<string, number>(Object.entries(scenario.receiver.replay_state));
  let trust = trustOf(scenario.receiver.trust).resolver;
  let trustJson = scenario.receiver.trust;
  let keyCache = withCache ? new EpochKeyCache() : undefined;
  for (const [index, step] of scenario.steps.entries()) {
    if (step.action === "restart") {
      if (step.trust) trustJson = step.trust;
      trust = trustOf(trustJson).resolver;
      keyCache = withCache ? new EpochKeyCache() : undefined;
      continue;
    }
    if (step.expect_open === undefined) continue;
    const result = await open(fromBase64(step.envelope_b64), step.topic, {
      clock: { now: () => step.now_ms },
      trust,
      replay: { isFresh: (sender, counter) => !highest.has(sender) || counter > highest.get(sender)! },
      recipientPrivateKey,
      timestampWindowMs: scenario.receiver.timestamp_window_ms,
      keyCache,
    });
    mismatch(out, index, step, step.expect_open, result.ok ? "accept" : result.code);
    if (result.ok && step.expect === "accept") highest.set(result.message.sender, result.message.counter);
  }
  return out;
}

/** The whole receiver, through the actuator's message path, restarted over the same replay database. */
async function runActuator(scenario: Scenario, overlapCommit: boolean): Promise<Mismatches> {
  const out: Mismatches = [];
  const dir = await Deno.makeTempDir({ prefix: "secmqtt-conformance-" });
  const dbPath = `${dir}/replay.db`;
  const recipientPrivateKey = await recipientKey(scenario.receiver.recipient_private_key);
  const clock = new FakeClock(0);
  const writer = memoryLogWriter();
  const log = new Log(writer, { role: "actuator", run: "conformance", clock });
  let failWrite = false;

  // The scenarios' receivers have state older than every envelope of theirs (§8.3 does not bite).
  let store = ReplayStore.open(dbPath, { nowMs: 0 });
  for (const [sender, counter] of Object.entries(scenario.receiver.replay_state)) {
    store.accept(sender, counter);
  }
  // The durable store, with a write that fails on demand (check 10).
  const state: ReplayState = {
    highest: (sender) => store.highest(sender),
    isFresh: (sender, counter) => store.isFresh(sender, counter),
    accept: (sender, counter) => {
      if (failWrite) throw new StateError("STATE_WRITE_FAILED", "injected write failure");
      return store.accept(sender, counter);
    },
    acceptBatch: (items) => store.acceptBatch(items),
    get createdAtMs() {
      return store.createdAtMs;
    },
    close: () => store.close(),
  };

  let rateExceeded = false;
  const start = async (trustJson: TrustJson, queueLimit?: number) => {
    const { list, resolver } = trustOf(trustJson);
    const opener: MessageOpener = secureOpener({
      clock,
      trust: resolver,
      replay: state,
      recipientPrivateKey,
      timestampWindowMs: scenario.receiver.timestamp_window_ms,
      keyCache: keyCacheFor(list),
      senderLimit: { take: () => !rateExceeded },
      overlapCommit,
    });
    let deliver: ((topic: string, payload: Uint8Array) => unknown) | undefined;
    const actuator = await startActuator(
      { topic: SECURE_TOPIC_FILTER, qos: 1, phase: "secure", queueLimit },
      {
        clock,
        log,
        transport: { subscribe: () => Promise.resolve(), onMessage: (handler) => deliver = handler },
        open: opener,
      },
    );
    return { actuator, deliver: deliver! };
  };

  try {
    let trustJson = scenario.receiver.trust;
    let receiver = await start(trustJson);
    // A receiver whose queue holds nothing: every message finds it full (check 0).
    let full = await start(trustJson, 0);
    for (const [index, step] of scenario.steps.entries()) {
      if (step.action === "restart") {
        store.close();
        store = ReplayStore.open(dbPath);
        if (step.trust) trustJson = step.trust;
        receiver = await start(trustJson);
        full = await start(trustJson, 0);
        continue;
      }
      assert.ok(step.now_ms >= clock.now(), "scenario clocks never go back");
      clock.advance(step.now_ms - clock.now());
      failWrite = step.state_write_fails === true;
      rateExceeded = step.sender_rate_exceeded === true;
      const before = writer.records.length;
      const target = step.receiver_overloaded ? full : receiver;
      await target.deliver(step.topic, fromBase64(step.envelope_b64));
      await target.actuator.idle();
      failWrite = false;
      rateExceeded = false;
      const verdicts = writer.records.slice(before).filter((r) =>
        ["action", "rejected", "duplicate"].includes(r.event as string)
      );
      assert.equal(verdicts.length, 1, `step ${index}: one verdict per message`);
      const [record] = verdicts;
      const got = record.event === "action"
        ? "accept"
        : record.event === "duplicate"
        ? "duplicate"
        : record.code;
      mismatch(out, index, step, step.expect, String(got));
    }
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
  return out;
}

for (const scenario of scenarios) {
  Deno.test(`conformance ${scenario.name}: open() gives every expected envelope-layer verdict`, async () => {
    assert.deepEqual(await runOpen(scenario, false), []);
  });
  Deno.test(`conformance ${scenario.name}: open() with a key cache gives the same verdicts`, async () => {
    assert.deepEqual(await runOpen(scenario, true), []);
  });
  Deno.test(`conformance ${scenario.name}: the actuator gives every expected verdict`, async () => {
    assert.deepEqual(await runActuator(scenario, true), []);
  });
  Deno.test(`conformance ${scenario.name}: so does the actuator that records after decrypting`, async () => {
    assert.deepEqual(await runActuator(scenario, false), []);
  });
}

Deno.test("conformance trust lists: store/trust.ts loads exactly the valid ones (§10)", async () => {
  const { cases } = JSON.parse(await Deno.readTextFile(new URL(TRUST_LISTS_FILE, KIT_DIR))) as {
    cases: TrustListCase[];
  };
  assert.ok(cases.some((c) => c.expect === "valid") && cases.some((c) => c.expect === "invalid"));
  const wrong = cases.filter((c) => {
    let loaded = true;
    try {
      parseTrustList(c.text);
    } catch {
      loaded = false;
    }
    return loaded !== (c.expect === "valid");
  }).map((c) => `${c.note}: expected ${c.expect}`);
  assert.deepEqual(wrong, []);
});

Deno.test("conformance kit: every verdict of the closed table is expected in some step, for both suites", () => {
  for (const suite of [SUITE_DSA, SUITE_ED25519]) {
    const expected = new Set(
      scenarios.filter((s) => s.suite === suite).flatMap((s) =>
        s.steps.flatMap((step) => step.action === "deliver" ? [step.expect] : [])
      ),
    );
    for (const verdict of VERDICTS) assert.ok(expected.has(verdict), `${suite}: no step expects ${verdict}`);
  }
});

Deno.test("conformance kit: every step of the envelope layer expects accept or a code of REASON_CODES", () => {
  for (const scenario of scenarios) {
    for (const step of scenario.steps) {
      if (step.action !== "deliver" || step.expect_open === undefined) continue;
      assert.ok(
        step.expect_open === "accept" || (REASON_CODES as readonly string[]).includes(step.expect_open),
        `${scenario.name}: ${step.expect_open}`,
      );
    }
  }
});

/** The first-column entries of the markdown table that follows `heading` in `text`. */
function tableColumn(text: string, heading: string): string[] {
  const start = text.indexOf(heading);
  assert.ok(start >= 0, `no ${heading}`);
  const lines = text.slice(start).split("\n");
  const first = lines.findIndex((line) => line.startsWith("|"));
  const rows: string[] = [];
  for (const line of lines.slice(first + 2)) {
    if (!line.startsWith("|")) break;
    rows.push(line.split("|")[1].trim().replaceAll("`", ""));
  }
  return rows;
}

Deno.test("PROTOCOL.md's verdict table is exactly accept, duplicate and RECEIVER_REASON_CODES", async () => {
  const spec = await Deno.readTextFile(new URL("../../docs/PROTOCOL.md", import.meta.url));
  assert.deepEqual(tableColumn(spec, "**Verdicts.**").sort(), [...VERDICTS].sort());
});

Deno.test("every reason code the receiver's code can produce is in RECEIVER_REASON_CODES, and back", async () => {
  const source = async (path: string) => await Deno.readTextFile(new URL(`../../${path}`, import.meta.url));
  const found = new Set<string>();
  const collect = (text: string, pattern: RegExp) => {
    for (const match of text.matchAll(pattern)) found.add(match[1]);
  };
  // open()'s codes are returned through fail("CODE", …); the receivers' as `code: "CODE"` in a verdict or
  // as the code argument of the actuator's reject().
  collect(await source("crypto/envelope.ts"), /fail\("([A-Z_]+)"/g);
  collect(await source("roles/secure_actuator.ts"), /code: "([A-Z_]+)"/g);
  const actuator = await source("roles/actuator.ts");
  collect(actuator, /code: "([A-Z_]+)"/g);
  collect(actuator, /reject\(\s*topic,\s*payload,\s*"([A-Z_]+)"/g);
  assert.deepEqual([...found].sort(), [...RECEIVER_REASON_CODES].sort());
});

Deno.test("docs/LOG.md lists every reason code of the secure receiver", async () => {
  const logDoc = await Deno.readTextFile(new URL("../../docs/LOG.md", import.meta.url));
  const listed = new Set(tableColumn(logDoc, "Reason codes in `rejected.code`"));
  for (const code of RECEIVER_REASON_CODES) assert.ok(listed.has(code), `LOG.md does not list ${code}`);
});

Deno.test("the committed kit is exactly what `deno task conformance` generates", async () => {
  const keys = await loadEnvelopeFixtureKeys();
  const files = await generateKit(await committedWraps(keys.rsaPublic, false), keys);
  assert.deepEqual(await differences(files), []);
});
