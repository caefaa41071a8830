import assert from "node:assert/strict";
import { syntheticLogLines } from "../../testkit/synthetic_log.ts";
import { parseBenchTable } from "../../cli/metrics.ts";
import type { CryptoCostGroup } from "../../metrics/aggregate.ts";
import { blockedByChartSpec, cryptoChartSpec, latencyCdfChartSpec, renderSvg } from "../../metrics/charts.ts";
import { describeAttackClass, describeReasonCode } from "../../metrics/glossary.ts";
import { OKABE_ITO } from "../../metrics/palette.ts";
import { metricsDocument, summaryMarkdown } from "../../metrics/report.ts";
import { SettingsFold } from "../../metrics/settings.ts";
import { writeReport } from "../../metrics/write.ts";

/** The `role_started` lines the fixture's roles would write (the synthetic log has none). */
const ROLE_STARTED = [
  { role: "sensor", phase: "insecure", sensor_id: "door-1", topic: "home/door", interval_ms: 40, count: 64 },
  { role: "attacker", phase: "insecure", classes: ["eavesdrop", "inject", "replay", "tamper"], attempts: 3 },
  { role: "attacker", phase: "secure", classes: ["replay", "bitflip"], attempts: 8 },
].map((fields) =>
  JSON.stringify({ ts: 1_767_225_599_000, run: "20260101T000000-b16b16", event: "role_started", ...fields })
);

/**
 * Writes a realistic fixture log (both phases, every attack class, timing results, one bad line, the
 * roles' `role_started` lines).
 */
async function fixture(dir: string): Promise<string> {
  const path = `${dir}/fixture.jsonl`;
  const lines = [...ROLE_STARTED, ...syntheticLogLines({ cycles: 64, seed: 11 })];
  lines.splice(10, 0, "{not json");
  await Deno.writeTextFile(path, lines.join("\n") + "\n");
  return path;
}

async function withReport<T>(
  use: (paths: { json: string; summary: string; html: string }, log: string) => Promise<T>,
): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "secmqtt-report-test-" });
  try {
    const log = await fixture(dir);
    const { paths } = await writeReport({
      logs: [log],
      outDir: `${dir}/out`,
      benchTable: { title: "End-to-end bench", columns: ["suite", "msg/s"], rows: [["ed25519", 950]] },
    });
    return await use(paths, log);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("writeReport writes metrics.json with the required keys", async () => {
  await withReport(async (paths, log) => {
    const m = JSON.parse(await Deno.readTextFile(paths.json));
    for (const phase of ["insecure", "secure"]) {
      for (const key of ["count", "mean", "p50", "p95", "p99"]) {
        assert.equal(typeof m.latency_ms[phase][key], "number", `latency_ms.${phase}.${key}`);
      }
      assert.equal(typeof m.legit[phase].sent, "number");
      assert.equal(typeof m.legit[phase].accepted, "number");
      for (const [attackClass, o] of Object.entries(m.attacks[phase]) as [string, Record<string, number>][]) {
        assert.equal(typeof o.attempts, "number", `attacks.${phase}.${attackClass}.attempts`);
        assert.equal(typeof o.accepted, "number", `attacks.${phase}.${attackClass}.accepted`);
      }
    }
    assert.equal(m.attacks.insecure.replay.accepted, m.attacks.insecure.replay.attempts);
    assert.equal(m.attacks.secure.replay.accepted, 0);
    for (const fn of ["vulnerableEqual", "constantTimeEqual"]) {
      assert.equal(typeof m.timing[fn].t, "number");
      assert.equal(typeof m.timing[fn].n, "number");
      assert.equal(typeof m.timing[fn].leak, "boolean");
    }
    assert.equal(m.timing.vulnerableEqual.leak, true);
    assert.equal(m.bad_lines, 1);
    assert.deepEqual(m.inputs, [log]);
  });
});

Deno.test("summary.md has the headline tables", async () => {
  await withReport(async (paths) => {
    const md = await Deno.readTextFile(paths.summary);
    for (
      const heading of ["## Latency", "## Attacks", "## Legit delivery", "## Timing", "## End-to-end bench"]
    ) {
      assert.ok(md.includes(heading), heading);
    }
    assert.match(md, /\| replay \| \d+\/\d+ \(100%\) \| 0\/\d+ \(0%\) \| REPLAY \d+ \|/);
    assert.match(md, /\| vulnerableEqual \| [\d.]+ \| \d+ \| 4\.5 \| LEAK \|/);
  });
});

Deno.test("report.html is self-contained and has chart marks", async () => {
  await withReport(async (paths) => {
    const html = await Deno.readTextFile(paths.html);
    assert.ok(!/https?:\/\//.test(html), "no http(s) URL anywhere");
    assert.ok(!/<script|<link|@import|url\(/i.test(html), "no script, stylesheet link or CSS url()");
    assert.ok((html.match(/<svg/g) ?? []).length >= 4, "four charts");
    assert.ok(html.includes("mark-rect"), "bar marks");
    assert.ok(html.includes("mark-rule"), "box-plot whiskers");
    assert.ok(html.includes("mark-line"), "latency CDF lines");
    assert.ok(html.includes("<table>"));
    assert.ok(html.includes("End-to-end bench"));
  });
});

/** The chromium binary, or undefined when it is not installed. */
function chromiumPath(): string | undefined {
  for (const candidate of ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]) {
    try {
      if (Deno.statSync(candidate).isFile) return candidate;
    } catch {
      // not here; try the next
    }
  }
  return undefined;
}

const chromium = chromiumPath();
const inCI = Deno.env.get("CI") !== undefined;

Deno.test({
  name: "report.html renders in headless Chromium with its SVG marks",
  // Without Chromium the test is skipped locally, but must fail in CI.
  ignore: chromium === undefined && !inCI,
  async fn() {
    assert.ok(chromium, "chromium is required in CI (looked in /usr/bin)");
    await withReport(async (paths) => {
      const profile = await Deno.makeTempDir({ prefix: "secmqtt-chromium-" });
      try {
        const { success, stdout } = await new Deno.Command(chromium, {
          args: [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            `--user-data-dir=${profile}`,
            "--dump-dom",
            `file://${paths.html}`,
          ],
          stdout: "piped",
          stderr: "null",
        }).output();
        assert.ok(success, "chromium exited with an error");
        const dom = new TextDecoder().decode(stdout);
        assert.ok((dom.match(/<svg/g) ?? []).length >= 4, "four rendered charts");
        assert.match(dom, /<g class="mark-rect role-mark[^"]*"/);
        assert.match(dom, /<path [^>]*d="M[\d.-]+,[\d.-]+h[\d.-]+v[\d.-]+/);
        assert.ok(dom.includes("secmqtt report"));
        // The CDF is drawn: a line path with more than one segment.
        assert.match(
          dom,
          /<g class="mark-line role-mark[^"]*"[^>]*><path [^>]*d="M[\d.-]+,[\d.-]+L[\d.-]+,[\d.-]+L/,
        );
        // The blocked-by chart writes reason codes on its segments.
        assert.match(dom, /<text[^>]*>REPLAY \d+<\/text>/);
        assert.ok(dom.includes("Run settings"));
      } finally {
        await Deno.remove(profile, { recursive: true });
      }
    });
  },
});

Deno.test("bench tables parse from {columns, rows} or from an array of objects", () => {
  assert.deepEqual(parseBenchTable('[{"suite":"rsa","msg_s":410},{"suite":"ed25519","msg_s":950}]'), {
    columns: ["suite", "msg_s"],
    rows: [["rsa", 410], ["ed25519", 950]],
  });
  assert.deepEqual(parseBenchTable('{"title":"B","columns":["a"],"rows":[[1]]}'), {
    title: "B",
    columns: ["a"],
    rows: [[1]],
  });
  assert.throws(() => parseBenchTable("{}"), /--bench expects/);
});

/** A crypto cost group with the given mean per stage (p50 and p95 equal to the mean). */
function costGroup(suite: string, means: Record<string, number>): CryptoCostGroup {
  const stages = Object.fromEntries(Object.entries(means).map(([k, v]) => [k, { mean: v, p50: v, p95: v }]));
  return { suite, epoch_length: 1, count: 10, stages };
}

Deno.test("the crypto chart stacks component stages only, in running order, under short suite labels", () => {
  const spec = cryptoChartSpec({
    sensor: [
      costGroup("rsa-oaep-2048+aes-256-gcm+dsa-2048", {
        encrypt_ms: 3,
        sign_ms: 1,
        wrap_ms: 2,
        seal_ms: 6.5,
      }),
    ],
    actuator: [
      costGroup("rsa-oaep-2048+aes-256-gcm+ed25519", {
        parse_ms: 1,
        verify_ms: 1,
        replay_ms: 1,
        unwrap_ms: 1,
        decrypt_ms: 1,
        commit_ms: 1,
        total_ms: 6.2,
      }),
    ],
  })!;
  const rows = (spec.data as { values: { group: string; stage: string; ms: number }[] }).values;
  const total = (group: string) => rows.filter((r) => r.group === group).reduce((sum, r) => sum + r.ms, 0);
  assert.equal(total("sensor · DSA · epoch 1"), 6);
  assert.equal(total("actuator · Ed25519 · epoch 1"), 6);
  assert.deepEqual(
    rows.filter((r) => r.group.startsWith("sensor")).map((r) => r.stage),
    ["sign", "wrap", "encrypt"],
  );
  assert.ok(!rows.some((r) => r.stage === "seal" || r.stage === "total"));
});

Deno.test("the timing table shows recovered/secret bytes, and only recovered bytes when the length is unknown", () => {
  const aggregate = {
    lines: 0,
    records: 0,
    bad_lines: 0,
    bad_line_examples: [],
    runs: [],
    events: {},
    latency_ms: {},
    attack_latency_ms: {},
    overhead: { mean_ratio: null, p50_ratio: null, p95_ratio: null, p99_ratio: null },
    attacks: {},
    legit: {},
    unattributed: {},
    crypto: { sensor: [], actuator: [] },
    timing: {},
    recovery: {
      vulnerableEqual: { target_bytes: 16, bytes_recovered: 16, budget: 10, queries: 5 },
      constantTimeEqual: { target_bytes: null, bytes_recovered: 0, budget: 10, queries: 10 },
    },
    broker: { auth_failed: {}, acl_denied: 0, client_connected: 0 },
    settings: new SettingsFold().finish(),
  };
  const md = summaryMarkdown(metricsDocument(aggregate, [], new Date(0)));
  assert.match(md, /\| vulnerableEqual \|.*\| 16\/16 bytes \|/);
  assert.match(md, /\| constantTimeEqual \|.*\| 0 bytes \|/);
});

Deno.test("metrics.json carries the run settings from the logs and the versions that made it", async () => {
  await withReport(async (paths) => {
    const m = JSON.parse(await Deno.readTextFile(paths.json));
    assert.equal(m.settings.attackers.insecure.attempts, 3);
    assert.deepEqual(m.settings.attackers.secure, { classes: ["replay", "bitflip"], attempts: 8 });
    assert.deepEqual(m.settings.sensors.insecure, { count: 64, interval_ms: 40 });
    assert.ok(m.settings.suites.length > 0, "suites from published records");
    assert.ok(m.settings.epoch_lengths.every((n: unknown) => typeof n === "number"));
    assert.equal(m.settings.broker.kind, "embedded");
    assert.equal(m.settings.first_ts, 1_767_225_599_000);
    assert.ok(m.settings.last_ts > m.settings.first_ts);
    assert.equal(m.settings.generated_by.deno, Deno.version.deno);
    assert.match(m.settings.generated_by.secmqtt, /^\d+\.\d+\.\d+/);
  });
});

Deno.test("the report and summary show the settings and a headline, and describe every class and code that occurs", async () => {
  await withReport(async (paths) => {
    const m = JSON.parse(await Deno.readTextFile(paths.json));
    const html = await Deno.readTextFile(paths.html);
    const md = await Deno.readTextFile(paths.summary);
    for (const text of [html, md]) {
      assert.ok(text.includes("Run settings"));
      assert.ok(text.includes("14 classes") === false, "the fixture's own settings, not the demo's");
      assert.ok(text.includes("2 classes × 8 attempts"), "secure attacker settings");
      assert.match(text, /Attacks that worked: \d+ of \d+/);
      assert.ok(!text.includes("not described"), "every class and code has a description");
    }
    const escape = (t: string) => t.replace(/&/g, "&amp;").replace(/'/g, "'").replace(/"/g, "&quot;");
    const classes = new Set<string>();
    const codes = new Set<string>();
    for (const byClass of Object.values(m.attacks) as Record<string, { by_code: Record<string, number> }>[]) {
      for (const [c, o] of Object.entries(byClass)) {
        classes.add(c);
        for (const code of Object.keys(o.by_code)) codes.add(code);
      }
    }
    assert.ok(classes.size >= 10 && codes.size >= 5, "the fixture has many classes and codes");
    for (const c of classes) {
      assert.ok(html.includes(escape(describeAttackClass(c))), `html describes class ${c}`);
      assert.ok(md.includes(describeAttackClass(c)), `summary describes class ${c}`);
    }
    for (const code of codes) {
      assert.ok(html.includes(escape(describeReasonCode(code))), `html describes code ${code}`);
      assert.ok(md.includes(describeReasonCode(code)), `summary describes code ${code}`);
    }
  });
});

Deno.test("the report's colours are colour-blind safe: no red/green pair, Okabe–Ito vermillion for attacks that worked", async () => {
  await withReport(async (paths) => {
    const html = (await Deno.readTextFile(paths.html)).toLowerCase();
    for (const old of ["#d62728", "#2ca02c", "#1a7f37", "#c62828"]) assert.ok(!html.includes(old), old);
    assert.ok(html.includes(OKABE_ITO.vermillion.toLowerCase()));
    assert.ok(html.includes(OKABE_ITO.blue.toLowerCase()));
  });
});

Deno.test("the blocked-by chart splits each class by reason code and draws a segment per code", async () => {
  const attacks = {
    insecure: { replay: { attempts: 3, accepted: 3, blocked: 0, success_rate: 1, by_code: {} } },
    secure: {
      replay: { attempts: 8, accepted: 0, blocked: 8, success_rate: 0, by_code: { REPLAY: 5, DUPLICATE: 3 } },
      bitflip: { attempts: 8, accepted: 1, blocked: 7, success_rate: 0.125, by_code: { BAD_SIGNATURE: 7 } },
    },
  };
  const spec = blockedByChartSpec(attacks)!;
  const panels = (spec as unknown as { vconcat: { data: { values: Record<string, unknown>[] } }[] }).vconcat;
  const secure = panels[1].data.values;
  assert.deepEqual(
    secure.map((r) => [r.class, r.code, r.count]),
    [["replay", "REPLAY", 5], ["replay", "DUPLICATE", 3], ["bitflip", "ACCEPTED", 1], [
      "bitflip",
      "BAD_SIGNATURE",
      7,
    ]],
  );
  assert.equal(secure.at(-1)!.end, 1, "segments of a class fill its bar");
  const svg = await renderSvg(spec);
  assert.equal((svg.match(/<path [^>]*d="M[\d.-]+,[\d.-]+h[\d.-]+v[\d.-]+/g) ?? []).length >= 5, true);
  assert.match(svg, />REPLAY 5</);
  assert.equal(blockedByChartSpec({ secure: {} }), undefined);
});

Deno.test("the latency CDF puts every phase on one log axis and labels the median, p99 and maximum", async () => {
  const dist = (scale: number) => ({
    count: 100,
    mean: 2 * scale,
    p50: 2 * scale,
    p95: 5 * scale,
    p99: 9 * scale,
    max: 30 * scale,
    min: 1 * scale,
    p05: 1.1 * scale,
    p25: 1.5 * scale,
    p75: 3 * scale,
    cdf: [[0, 1 * scale], [0.5, 2 * scale], [0.99, 9 * scale], [1, 30 * scale]] as [number, number][],
  });
  const spec = latencyCdfChartSpec({ insecure: dist(1), secure: dist(50) })!;
  const encoding = (spec as unknown as { encoding: { x: { scale: { type: string } } } }).encoding;
  assert.equal(encoding.x.scale.type, "log");
  const svg = await renderSvg(spec);
  for (const label of ["p50 2.00 ms", "p99 9.00 ms", "max 30.0 ms", "p50 100 ms", "max 1500 ms"]) {
    assert.ok(svg.includes(label), label);
  }
  assert.match(svg, /<path [^>]*d="M[\d.-]+,[\d.-]+L/);
});
