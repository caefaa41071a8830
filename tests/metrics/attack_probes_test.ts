import assert from "node:assert/strict";
import { parseLogLine } from "../../log/jsonl.ts";
import { LogSurvey, MetricsFold } from "../../metrics/aggregate.ts";

const R = `"ts":1,"run":"r1","role":"attacker","phase":"secure"`;

Deno.test("probe outcomes: attack_succeeded is accepted, attack_refused blocked by what the probe saw", () => {
  const lines = `
    {${R},"event":"attack_refused","class":"client-id-takeover","code":"NO_SESSION","expect":"CLIENT_ID_NOT_OWNED"}
    {${R},"event":"attack_refused","class":"client-id-takeover","code":"CONNECT_REFUSED","expect":"CLIENT_ID_NOT_OWNED"}
    {${R},"event":"attack_succeeded","class":"credential-sniff","expect":"TLS","credentials_read":true}
    {${R},"event":"attack_refused","class":"credential-sniff","code":"NOT_READABLE","expect":"TLS"}
    {${R},"event":"attack_class_done","class":"credential-sniff","attempts":2,"duration_ms":4,"attempts_per_s":500}
  `.trim().split("\n").map((line, i) => parseLogLine(line.trim(), i + 1));
  const survey = new LogSurvey();
  for (const item of lines) if (item.ok) survey.add(item.record);
  const fold = new MetricsFold(survey);
  for (const item of lines) if (item.ok) fold.add(item.record);
  const m = fold.finish();
  assert.deepEqual(m.attacks.secure["client-id-takeover"], {
    attempts: 2,
    accepted: 0,
    blocked: 2,
    success_rate: 0,
    by_code: { CONNECT_REFUSED: 1, NO_SESSION: 1 },
  });
  assert.deepEqual(m.attacks.secure["credential-sniff"], {
    attempts: 2,
    accepted: 1,
    blocked: 1,
    success_rate: 0.5,
    by_code: { NOT_READABLE: 1 },
  });
});
