import assert from "node:assert/strict";
import { parseLogLine } from "../../log/jsonl.ts";
import {
  aggregateLogs,
  type AggregateMetrics,
  LogSurvey,
  MetricsFold,
  PUBLICATION_FILTER_MAX_CELLS,
  PUBLICATION_FILTER_MIN_CELLS,
  publicationFilterCells,
} from "../../metrics/aggregate.ts";

/** Folds JSONL text line by line in two passes, as `metrics` does with a file. */
function fold(text: string): AggregateMetrics {
  const items = text.trim().split("\n").map((line, i) => parseLogLine(line.trim(), i + 1));
  const survey = new LogSurvey();
  for (const item of items) if (item.ok) survey.add(item.record);
  const f = new MetricsFold(survey);
  for (const item of items) {
    if (item.ok) f.add(item.record);
    else f.addBadLine("test", item.line, item.error);
  }
  return f.finish();
}

const R = `"ts":1,"run":"r1"`;

Deno.test("a replay succeeds only when the digest is acted on more often than it was published", () => {
  const m = fold(`
    {${R},"role":"sensor","event":"published","phase":"insecure","digest":"d1"}
    {${R},"role":"actuator","event":"action","phase":"insecure","digest":"d1","latency_ms":2}
    {${R},"role":"attacker","event":"attack_sent","phase":"insecure","class":"replay","digest":"d1"}
    {${R},"role":"actuator","event":"action","phase":"insecure","digest":"d1","latency_ms":900}
    {${R},"role":"sensor","event":"published","phase":"secure","digest":"s1"}
    {${R},"role":"actuator","event":"action","phase":"secure","digest":"s1","latency_ms":5}
    {${R},"role":"attacker","event":"attack_sent","phase":"secure","class":"replay","digest":"s1"}
    {${R},"role":"actuator","event":"rejected","phase":"secure","digest":"s1","code":"REPLAY"}
  `);
  assert.deepEqual(
    { attempts: m.attacks.insecure.replay.attempts, accepted: m.attacks.insecure.replay.accepted },
    { attempts: 1, accepted: 1 },
  );
  assert.equal(m.attacks.secure.replay.accepted, 0);
  assert.equal(m.attacks.secure.replay.blocked, 1);
  assert.deepEqual(m.attacks.secure.replay.by_code, { REPLAY: 1 });
  // The legit copy is not double-counted as an attack, and the attack copy is not counted as legit.
  assert.equal(m.legit.insecure.accepted, 1);
  assert.equal(m.legit.secure.accepted, 1);
  assert.equal(m.legit.secure.falsely_rejected, 0);
});

Deno.test("a replay acted on once in total (the original was lost) is not a success", () => {
  const m = fold(`
    {${R},"role":"sensor","event":"published","phase":"insecure","digest":"d1"}
    {${R},"role":"attacker","event":"attack_sent","phase":"insecure","class":"replay","digest":"d1"}
    {${R},"role":"actuator","event":"action","phase":"insecure","digest":"d1","latency_ms":2}
  `);
  assert.equal(m.attacks.insecure.replay.accepted, 0);
  assert.equal(m.legit.insecure.accepted, 1);
});

Deno.test("legit and attack messages are told apart by digest, latency counts legit actions only", () => {
  const m = fold(`
    {${R},"role":"sensor","event":"published","phase":"insecure","digest":"a1"}
    {${R},"role":"actuator","event":"action","phase":"insecure","digest":"a1","latency_ms":2}
    {${R},"role":"sensor","event":"published","phase":"insecure","digest":"a2"}
    {${R},"role":"actuator","event":"action","phase":"insecure","digest":"a2","latency_ms":4}
    {${R},"role":"attacker","event":"attack_sent","phase":"insecure","class":"inject","digest":"x1"}
    {${R},"role":"actuator","event":"action","phase":"insecure","digest":"x1","latency_ms":1000}
    {${R},"role":"attacker","event":"attack_sent","phase":"insecure","class":"tamper","digest":"x2"}
  `);
  assert.equal(m.legit.insecure.sent, 2);
  assert.equal(m.legit.insecure.accepted, 2);
  assert.equal(m.attacks.insecure.inject.accepted, 1);
  assert.equal(m.attacks.insecure.tamper.accepted, 0);
  assert.deepEqual(m.attacks.insecure.tamper.by_code, { NOT_SEEN: 1 });
  assert.equal(m.latency_ms.insecure.count, 2);
  assert.equal(m.latency_ms.insecure.mean, 3);
  assert.equal(m.latency_ms.insecure.max, 4);
  assert.equal(m.attack_latency_ms.insecure.max, 1000);
});

Deno.test("the actuator's action before the sensor's publication (logs out of order) still counts as legit", () => {
  const m = fold(`
    {${R},"role":"actuator","event":"action","phase":"secure","digest":"s9","latency_ms":7}
    {${R},"role":"sensor","event":"published","phase":"secure","digest":"s9"}
  `);
  assert.equal(m.legit.secure.accepted, 1);
  assert.equal(m.latency_ms.secure.count, 1);
  assert.equal(m.unattributed.secure, undefined);
});

Deno.test("a legit message rejected and never acted on is falsely rejected, by code", () => {
  const m = fold(`
    {${R},"role":"sensor","event":"published","phase":"secure","digest":"s1"}
    {${R},"role":"actuator","event":"rejected","phase":"secure","digest":"s1","code":"STALE"}
    {${R},"role":"sensor","event":"published","phase":"secure","digest":"s2"}
    {${R},"role":"actuator","event":"action","phase":"secure","digest":"s2","latency_ms":6}
    {${R},"role":"sensor","event":"published","phase":"secure","digest":"s3"}
    {${R},"role":"actuator","event":"duplicate","phase":"secure","digest":"s2"}
  `);
  assert.equal(m.legit.secure.sent, 3);
  assert.equal(m.legit.secure.accepted, 1);
  assert.equal(m.legit.secure.falsely_rejected, 1);
  assert.equal(m.legit.secure.not_seen, 1);
  assert.equal(m.legit.secure.duplicates, 1);
  assert.deepEqual(m.legit.secure.rejected_by_code, { STALE: 1 });
});

Deno.test("blocked attempts are counted per reason code, including broker refusals", () => {
  const m = fold(`
    {${R},"role":"attacker","event":"attack_sent","phase":"secure","class":"forged-signature","digest":"f1"}
    {${R},"role":"actuator","event":"rejected","phase":"secure","digest":"f1","code":"BAD_SIGNATURE"}
    {${R},"role":"attacker","event":"attack_sent","phase":"secure","class":"forged-signature","digest":"f2"}
    {${R},"role":"actuator","event":"rejected","phase":"secure","digest":"f2","code":"BAD_SIGNATURE"}
    {${R},"role":"attacker","event":"attack_sent","phase":"secure","class":"forged-signature","digest":"f3"}
    {${R},"role":"actuator","event":"rejected","phase":"secure","digest":"f3","code":"STALE"}
    {${R},"role":"attacker","event":"attack_refused","phase":"secure","class":"wrong-password","code":"NOT_AUTHORIZED"}
    {${R},"role":"broker","event":"auth_failed","client_id":"m","username":"u","code":"NOT_AUTHORIZED"}
    {${R},"role":"attacker","event":"captured","phase":"secure","digest":"c1","readable":false}
    {${R},"role":"attacker","event":"captured","phase":"insecure","digest":"c2","readable":true}
  `);
  const forged = m.attacks.secure["forged-signature"];
  assert.deepEqual(forged, {
    attempts: 3,
    accepted: 0,
    blocked: 3,
    success_rate: 0,
    by_code: { BAD_SIGNATURE: 2, STALE: 1 },
  });
  assert.deepEqual(m.attacks.secure["wrong-password"].by_code, { NOT_AUTHORIZED: 1 });
  assert.equal(m.attacks.secure["wrong-password"].attempts, 1);
  assert.deepEqual(m.broker.auth_failed, { NOT_AUTHORIZED: 1 });
  assert.equal(m.attacks.secure.eavesdrop.attempts, 1);
  assert.equal(m.attacks.secure.eavesdrop.accepted, 0);
  assert.equal(m.attacks.insecure.eavesdrop.accepted, 1);
  assert.equal(m.attacks.insecure.eavesdrop.success_rate, 1);
});

Deno.test("bad lines are counted, with examples, and never stop the fold", () => {
  const m = fold(`
    {${R},"role":"sensor","event":"published","phase":"insecure","digest":"d1"}
    this is not json
    {"ts":1,"role":"sensor"}
    [1,2]
    {${R},"role":"actuator","event":"action","phase":"insecure","digest":"d1","latency_ms":3}
  `);
  assert.equal(m.bad_lines, 3);
  assert.equal(m.records, 2);
  assert.equal(m.lines, 5);
  assert.equal(m.bad_line_examples[0].line, 2);
  assert.equal(m.legit.insecure.accepted, 1);
});

Deno.test("per-stage means are grouped by suite and epoch length, actions joined to their epoch", () => {
  const m = fold(`
    {${R},"role":"sensor","event":"published","phase":"secure","digest":"e1","suite":"ed25519","epoch_length":1,"stages":{"sign_ms":1,"wrap_ms":2,"encrypt_ms":0.5,"seal_ms":0.1}}
    {${R},"role":"sensor","event":"published","phase":"secure","digest":"e2","suite":"ed25519","epoch_length":1,"stages":{"sign_ms":3,"wrap_ms":4,"encrypt_ms":0.5,"seal_ms":0.1}}
    {${R},"role":"sensor","event":"published","phase":"secure","digest":"e3","suite":"ed25519","epoch_length":10,"stages":{"sign_ms":2,"wrap_ms":0,"encrypt_ms":0.5,"seal_ms":0.1}}
    {${R},"role":"actuator","event":"action","phase":"secure","digest":"e1","latency_ms":5,"suite":"ed25519","stages":{"parse_ms":0.1,"verify_ms":1,"replay_ms":0.01,"unwrap_ms":2,"decrypt_ms":0.2,"commit_ms":0.3,"total_ms":3.61}}
    {${R},"role":"actuator","event":"action","phase":"secure","digest":"e3","latency_ms":5,"suite":"ed25519","stages":{"parse_ms":0.1,"verify_ms":3,"replay_ms":0.01,"unwrap_ms":0,"decrypt_ms":0.2,"commit_ms":0.3,"total_ms":3.61}}
  `);
  const [epoch1, epoch10] = m.crypto.sensor;
  assert.equal(epoch1.suite, "ed25519");
  assert.equal(epoch1.epoch_length, 1);
  assert.equal(epoch1.count, 2);
  assert.equal(epoch1.stages.sign_ms.mean, 2);
  assert.equal(epoch1.stages.wrap_ms.mean, 3);
  assert.equal(epoch10.epoch_length, 10);
  assert.equal(epoch10.stages.wrap_ms.mean, 0);
  assert.deepEqual(m.crypto.actuator.map((g) => [g.epoch_length, g.stages.verify_ms.mean]), [[1, 1], [
    10,
    3,
  ]]);
});

Deno.test("timing and recovery results keep the last run and every t", () => {
  const m = fold(`
    {${R},"role":"timing","event":"timing_result","function":"vulnerableEqual","t":900,"n":2000,"leak":true,"threshold":4.5,"percentiles_ns":{"prefix":{"p50":18},"random":{"p50":4}}}
    {${R},"role":"timing","event":"timing_result","function":"vulnerableEqual","t":1200,"n":2100,"leak":true,"threshold":4.5}
    {${R},"role":"timing","event":"recovery_result","function":"vulnerableEqual","target_bytes":16,"bytes_recovered":16,"budget":100,"queries":50}
  `);
  assert.equal(m.timing.vulnerableEqual.t, 1200);
  assert.equal(m.timing.vulnerableEqual.runs, 2);
  assert.deepEqual(m.timing.vulnerableEqual.t_values, [900, 1200]);
  assert.equal(m.recovery.vulnerableEqual.bytes_recovered, 16);
});

Deno.test("aggregateLogs streams several files and counts their bad lines", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/a.jsonl`,
      `{${R},"role":"sensor","event":"published","phase":"insecure","digest":"d1"}\nnot json\n`,
    );
    await Deno.writeTextFile(
      `${dir}/b.jsonl`,
      `{${R},"role":"actuator","event":"action","phase":"insecure","digest":"d1","latency_ms":1}\n`,
    );
    const m = await aggregateLogs([`${dir}/a.jsonl`, `${dir}/b.jsonl`]);
    assert.equal(m.bad_lines, 1);
    assert.equal(m.bad_line_examples[0].input, `${dir}/a.jsonl`);
    assert.equal(m.legit.insecure.accepted, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a replay of a legit message is judged exactly, even when the attacker's log is read last", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/sensor.jsonl`,
      [
        `{${R},"role":"sensor","event":"published","phase":"secure","digest":"0123456789abcdef"}`,
        `{${R},"role":"sensor","event":"published","phase":"secure","digest":"fedcba9876543210"}`,
      ].join("\n"),
    );
    await Deno.writeTextFile(
      `${dir}/actuator.jsonl`,
      [
        `{${R},"role":"actuator","event":"action","phase":"secure","digest":"0123456789abcdef","latency_ms":4}`,
        `{${R},"role":"actuator","event":"action","phase":"secure","digest":"0123456789abcdef","latency_ms":800}`,
        `{${R},"role":"actuator","event":"action","phase":"secure","digest":"fedcba9876543210","latency_ms":6}`,
        `{${R},"role":"actuator","event":"rejected","phase":"secure","digest":"fedcba9876543210","code":"REPLAY"}`,
      ].join("\n"),
    );
    await Deno.writeTextFile(
      `${dir}/attacker.jsonl`,
      [
        `{${R},"role":"attacker","event":"attack_sent","phase":"secure","class":"replay","digest":"0123456789abcdef"}`,
        `{${R},"role":"attacker","event":"attack_sent","phase":"secure","class":"replay","digest":"fedcba9876543210"}`,
      ].join("\n"),
    );
    const m = await aggregateLogs([`${dir}/sensor.jsonl`, `${dir}/actuator.jsonl`, `${dir}/attacker.jsonl`]);
    // The second action on the first digest is the replay's; the second digest's replay was rejected.
    assert.deepEqual(
      { ...m.attacks.secure.replay, success_rate: null },
      { attempts: 2, accepted: 1, blocked: 1, success_rate: null, by_code: { REPLAY: 1 } },
    );
    assert.deepEqual(
      [
        m.legit.secure.sent,
        m.legit.secure.accepted,
        m.legit.secure.falsely_rejected,
        m.legit.secure.not_seen,
      ],
      [2, 2, 0, 0],
    );
    assert.equal(m.latency_ms.secure.count, 2);
    assert.equal(m.attack_latency_ms.secure.max, 800);
    assert.equal(m.unattributed.secure, undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a rejected message nobody logged sending is unattributed, not a false rejection", () => {
  const m = fold(`
    {${R},"role":"sensor","event":"published","phase":"secure","digest":"p1"}
    {${R},"role":"actuator","event":"rejected","phase":"secure","digest":"g1","code":"MALFORMED"}
    {${R},"role":"sensor","event":"published","phase":"secure","digest":"p2"}
    {${R},"role":"actuator","event":"rejected","phase":"secure","digest":"p2","code":"STALE"}
  `);
  assert.deepEqual(
    [m.legit.secure.sent, m.legit.secure.accepted, m.legit.secure.falsely_rejected, m.legit.secure.not_seen],
    [2, 0, 1, 1],
  );
  assert.deepEqual(m.legit.secure.rejected_by_code, { STALE: 1 });
  assert.deepEqual(m.unattributed.secure, { actions: 0, rejected: { MALFORMED: 1 } });
});

Deno.test("actions on digests nobody published, or beyond their publications, are unattributed", () => {
  const m = fold(`
    {${R},"role":"actuator","event":"action","phase":"insecure","digest":"h1","latency_ms":3}
    {${R},"role":"sensor","event":"published","phase":"insecure","digest":"u1"}
    {${R},"role":"actuator","event":"action","phase":"insecure","digest":"u1","latency_ms":2}
    {${R},"role":"actuator","event":"action","phase":"insecure","digest":"u1","latency_ms":900}
    {${R},"role":"actuator","event":"rejected","phase":"insecure","digest":"u1","code":"MALFORMED"}
  `);
  assert.equal(m.legit.insecure.sent, 1);
  assert.equal(m.legit.insecure.accepted, 1);
  assert.equal(m.legit.insecure.falsely_rejected, 0);
  assert.deepEqual(m.unattributed.insecure, { actions: 2, rejected: { MALFORMED: 1 } });
  assert.equal(m.latency_ms.insecure.count, 1);
  assert.equal(m.latency_ms.insecure.max, 2);
});

Deno.test("a digest published in one phase is not claimed by a reaction in the other", () => {
  const m = fold(`
    {${R},"role":"sensor","event":"published","phase":"insecure","digest":"d1"}
    {${R},"role":"actuator","event":"action","phase":"secure","digest":"d1","latency_ms":3}
  `);
  assert.equal(m.legit.insecure.accepted, 0);
  assert.equal(m.legit.insecure.not_seen, 1);
  assert.equal(m.unattributed.secure.actions, 1);
});

Deno.test("an action gets its publication's epoch length even when the publication is read later", () => {
  const m = fold(`
    {${R},"role":"actuator","event":"action","phase":"secure","digest":"e1","latency_ms":5,"suite":"ed25519","stages":{"verify_ms":1}}
    {${R},"role":"sensor","event":"published","phase":"secure","digest":"e1","suite":"ed25519","epoch_length":10,"stages":{"sign_ms":1}}
  `);
  assert.deepEqual(m.crypto.actuator.map((g) => g.epoch_length), [10]);
});

Deno.test("legit traffic folds through the fixed-size filter: no per-message state, exact counts", () => {
  const lines: string[] = [];
  const digest = (i: number) => i.toString(16).padStart(16, "0");
  for (let i = 0; i < 20_000; i++) {
    lines.push(`{${R},"role":"sensor","event":"published","phase":"secure","digest":"${digest(i)}"}`);
    if (i % 100 === 0) {
      lines.push(
        `{${R},"role":"actuator","event":"rejected","phase":"secure","digest":"${digest(i)}","code":"STALE"}`,
      );
    } else if (i % 100 !== 1) {
      lines.push(
        `{${R},"role":"actuator","event":"action","phase":"secure","digest":"${digest(i)}","latency_ms":1}`,
      );
    }
  }
  const items = lines.map((line, i) => parseLogLine(line, i + 1));
  const survey = new LogSurvey();
  for (const item of items) if (item.ok) survey.add(item.record);
  const bytesAfterSurvey = survey.bytes;
  const f = new MetricsFold(survey);
  for (const item of items) if (item.ok) f.add(item.record);
  const m = f.finish();
  assert.equal(survey.bytes, bytesAfterSurvey);
  assert.equal(survey.bytes, PUBLICATION_FILTER_MIN_CELLS);
  assert.deepEqual(
    [m.legit.secure.sent, m.legit.secure.accepted, m.legit.secure.falsely_rejected, m.legit.secure.not_seen],
    [20_000, 19_600, 200, 200],
  );
  assert.equal(m.unattributed.secure, undefined);
});

Deno.test("the publication filter is sized from the input, between a floor and a 16 MiB cap", () => {
  assert.equal(publicationFilterCells(0), PUBLICATION_FILTER_MIN_CELLS);
  assert.equal(publicationFilterCells(64 << 20), 8 << 20);
  assert.equal(publicationFilterCells(1 << 30), PUBLICATION_FILTER_MAX_CELLS);
  assert.equal(PUBLICATION_FILTER_MAX_CELLS, 16 << 20);
});

Deno.test("counts past 255 on one attack digest stay exact (a replay flood)", () => {
  const lines = [
    `{${R},"role":"sensor","event":"published","phase":"insecure","digest":"d1"}`,
    `{${R},"role":"actuator","event":"action","phase":"insecure","digest":"d1","latency_ms":2}`,
  ];
  for (let i = 0; i < 600; i++) {
    lines.push(
      `{${R},"role":"attacker","event":"attack_sent","phase":"insecure","class":"replay","digest":"d1"}`,
    );
    if (i < 400) {
      lines.push(`{${R},"role":"actuator","event":"action","phase":"insecure","digest":"d1","latency_ms":9}`);
    } else {lines.push(
        `{${R},"role":"actuator","event":"rejected","phase":"insecure","digest":"d1","code":"REPLAY"}`,
      );}
  }
  const m = fold(lines.join("\n"));
  assert.deepEqual(
    { ...m.attacks.insecure.replay, success_rate: null },
    { attempts: 600, accepted: 400, blocked: 200, success_rate: null, by_code: { REPLAY: 200 } },
  );
  assert.equal(m.legit.insecure.accepted, 1);
  assert.equal(m.attack_latency_ms.insecure.count, 400);
});

Deno.test("a verbatim replay and a cross-topic replay of the same bytes each get their own codes", () => {
  const door = `"topic":"home/secure/door"`;
  const garage = `"topic":"home/secure/door/garage"`;
  // Read order as in a real run: both classes sent before the actuator's reactions, the REPLAY first.
  const m = fold(`
    {${R},"role":"sensor","event":"published","phase":"secure",${door},"digest":"0123456789abcdef"}
    {${R},"role":"actuator","event":"action","phase":"secure",${door},"digest":"0123456789abcdef","latency_ms":3}
    {${R},"role":"attacker","event":"attack_sent","phase":"secure","class":"cross-topic-replay",${garage},"digest":"0123456789abcdef"}
    {${R},"role":"attacker","event":"attack_sent","phase":"secure","class":"replay",${door},"digest":"0123456789abcdef"}
    {${R},"role":"actuator","event":"rejected","phase":"secure",${door},"digest":"0123456789abcdef","code":"REPLAY"}
    {${R},"role":"actuator","event":"rejected","phase":"secure",${garage},"digest":"0123456789abcdef","code":"BAD_SIGNATURE"}
    {${R},"role":"attacker","event":"attack_sent","phase":"secure","class":"replay",${door},"digest":"0123456789abcdef"}
    {${R},"role":"actuator","event":"rejected","phase":"secure",${door},"digest":"0123456789abcdef","code":"REPLAY"}
  `);
  assert.deepEqual(m.attacks.secure.replay.by_code, { REPLAY: 2 });
  assert.deepEqual(m.attacks.secure["cross-topic-replay"].by_code, { BAD_SIGNATURE: 1 });
  assert.deepEqual(
    [m.legit.secure.sent, m.legit.secure.accepted, m.legit.secure.falsely_rejected, m.legit.secure.not_seen],
    [1, 1, 0, 0],
  );
  assert.equal(m.unattributed.secure, undefined);
});

Deno.test("the same bytes acted on under another topic are a success of the cross-topic replay", () => {
  const m = fold(`
    {${R},"role":"sensor","event":"published","phase":"insecure","topic":"home/door","digest":"d1"}
    {${R},"role":"actuator","event":"action","phase":"insecure","topic":"home/door","digest":"d1","latency_ms":2}
    {${R},"role":"attacker","event":"attack_sent","phase":"insecure","class":"cross-topic-replay","topic":"home/garage","digest":"d1"}
    {${R},"role":"actuator","event":"action","phase":"insecure","topic":"home/garage","digest":"d1","latency_ms":50}
  `);
  assert.equal(m.attacks.insecure["cross-topic-replay"].accepted, 1);
  assert.equal(m.legit.insecure.accepted, 1);
  assert.equal(m.latency_ms.insecure.count, 1);
});

Deno.test("a replay the actuator took for a redelivery is blocked as DUPLICATE, not NOT_SEEN", () => {
  const door = `"topic":"home/secure/door"`;
  const m = fold(`
    {${R},"role":"sensor","event":"published","phase":"secure",${door},"digest":"s1"}
    {${R},"role":"actuator","event":"action","phase":"secure",${door},"digest":"s1","latency_ms":3}
    {${R},"role":"attacker","event":"attack_sent","phase":"secure","class":"replay",${door},"digest":"s1"}
    {${R},"role":"actuator","event":"duplicate","phase":"secure",${door},"digest":"s1"}
    {${R},"role":"actuator","event":"duplicate","phase":"secure",${door},"digest":"s1"}
    {${R},"role":"sensor","event":"published","phase":"secure",${door},"digest":"s2"}
    {${R},"role":"actuator","event":"action","phase":"secure",${door},"digest":"s2","latency_ms":3}
    {${R},"role":"actuator","event":"duplicate","phase":"secure",${door},"digest":"s2"}
  `);
  assert.deepEqual(m.attacks.secure.replay.by_code, { DUPLICATE: 1 });
  // One duplicate of s1 is left over after the replay's copy, and s2's is a plain QoS 1 redelivery.
  assert.equal(m.legit.secure.duplicates, 2);
  assert.equal(m.legit.secure.accepted, 2);
});

Deno.test("a recovery result whose secret length was redacted by the log keeps it unknown, not 0", () => {
  const m = fold(`
    {${R},"role":"timing","event":"recovery_result","function":"vulnerableEqual","target_bytes":"[redacted]","bytes_recovered":16,"budget":100,"queries":50}
  `);
  assert.equal(m.recovery.vulnerableEqual.target_bytes, null);
  assert.equal(m.recovery.vulnerableEqual.bytes_recovered, 16);
});

Deno.test("alerts are counted, and an attack class keeps the threat model its records name", () => {
  const m = fold(`
    {${R},"role":"attacker","event":"attack_sent","phase":"secure","class":"replay","model":"broad-rights","digest":"r1"}
    {${R},"role":"actuator","event":"rejected","phase":"secure","digest":"r1","code":"REPLAY"}
    {${R},"role":"attacker","event":"attack_refused","phase":"secure","class":"wrong-password","model":"device-account","code":"NOT_AUTHORIZED"}
    {${R},"role":"actuator","event":"alert","phase":"secure","publisher":"home/secure/m/door","account":"m","codes":{"BAD_SIGNATURE":20},"count":20,"since_ms":1}
  `);
  assert.equal(m.alerts, 1);
  assert.equal(m.attacks.secure.replay.model, "broad-rights");
  assert.equal(m.attacks.secure["wrong-password"].model, "device-account");
});

Deno.test("shed summaries count as unattributed refusals of their code, and in `shed`", () => {
  const m = fold(`
    {${R},"role":"actuator","event":"rejected","phase":"secure","digest":"x1","code":"OVERLOADED","topic":"home/secure/m/door"}
    {${R},"role":"actuator","event":"shed","phase":"secure","publisher":"home/secure/m/door","account":"m","code":"OVERLOADED","count":950,"detail":"publisher throttled","since_ms":1}
    {${R},"role":"actuator","event":"shed","phase":"secure","publisher":"home/secure/m/door","account":"m","code":"OVERLOADED","count":"many","detail":"x","since_ms":2}
  `);
  assert.equal(m.shed, 950);
  assert.equal(m.unattributed.secure.rejected.OVERLOADED, 951);
});
