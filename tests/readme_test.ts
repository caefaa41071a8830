/**
 * The README's commands do what it says: the demo of its first screen, and the by-hand walk through the
 * three phases, run exactly as written (in a temporary folder, with the repository's own launcher), and
 * every `./secmqtt <sub> --flag` the README shows is a flag that subcommand lists in its help.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { readRecords, waitFor } from "./integration/cli_process.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const LAUNCHER = `${ROOT}secmqtt`;
const README = Deno.readTextFileSync(`${ROOT}README.md`);

/** The shell code blocks of the README, in order. */
function shellBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]);
}

/** The commands of a block: comments and blank lines dropped, `./secmqtt` pointed at this clone. */
function commands(block: string): { argv: string[]; background: boolean; line: string }[] {
  return block.split("\n")
    .map((line) => line.replace(/\s+#.*$/, "").trim())
    .filter((line) => line.startsWith("./secmqtt "))
    .map((line) => {
      const background = line.endsWith("&");
      const words = line.replace(/&$/, "").trim().split(/\s+/);
      return { argv: words.slice(1), background, line };
    });
}

/** The section that holds the by-hand commands. */
function byHandBlock(): string {
  const start = README.indexOf("### The three phases by hand");
  assert.ok(start >= 0, "README has a by-hand section");
  const block = shellBlocks(README.slice(start))[0];
  assert.ok(block, "the by-hand section has a sh block");
  return block;
}

function flagOf(argv: string[], name: string): string | undefined {
  const at = argv.indexOf(name);
  return at >= 0 ? argv[at + 1] : undefined;
}

async function help(sub: string): Promise<string> {
  const out = await new Deno.Command(LAUNCHER, { args: [sub, "--help"], stdout: "piped", stderr: "piped" })
    .output();
  assert.equal(out.code, 0, `${sub} --help exits 0`);
  return new TextDecoder().decode(out.stdout);
}

Deno.test("every ./secmqtt command in the README uses a subcommand and flags that exist", async () => {
  const seen = new Map<string, Set<string>>();
  for (const block of shellBlocks(README)) {
    for (const { argv } of commands(block)) {
      const [sub, ...rest] = argv;
      if (sub.startsWith("-")) continue; // ./secmqtt --help and the like
      const flags = seen.get(sub) ?? new Set();
      for (const word of rest) if (/^--?[a-z]/.test(word)) flags.add(word.replace(/=.*$/, ""));
      seen.set(sub, flags);
    }
  }
  assert.ok(seen.has("demo") && seen.has("attack"), "found the README's commands");
  for (const [sub, flags] of seen) {
    if (sub === "<subcommand>") continue;
    const text = await help(sub);
    for (const flag of flags) {
      assert.ok(new RegExp(`(^|[\\s,])${flag}([\\s,=]|$)`, "m").test(text), `${sub} --help lists ${flag}`);
    }
  }
});

Deno.test("the README's demo command runs as written and writes the report it promises", async () => {
  const dir = await Deno.makeTempDir({ prefix: "secmqtt-readme-demo-" });
  try {
    const demo = shellBlocks(README).flatMap(commands).find((c) => c.argv[0] === "demo");
    assert.ok(demo, "the README shows the demo command");
    const out = await new Deno.Command(LAUNCHER, {
      args: demo.argv,
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    })
      .output();
    const printed = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, printed);
    for (
      const file of [
        "phase1.jsonl",
        "phase2.jsonl",
        "timing.jsonl",
        "metrics.json",
        "summary.md",
        "report.html",
      ]
    ) {
      assert.ok(Deno.statSync(`${dir}/out/${file}`).size > 0, `out/${file} written`);
    }
    assert.match(printed, /Phase I\b/);
    assert.match(printed, /Phase II\b/);
    assert.match(printed, /\| attack class \|/, "the headline table");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the README's three phases by hand run as written, with the outcomes it describes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "secmqtt-readme-hand-" });
  const background: Deno.ChildProcess[] = [];
  try {
    for (const { argv, background: inBackground, line } of commands(byHandBlock())) {
      const child = new Deno.Command(LAUNCHER, {
        args: argv,
        cwd: dir,
        stdout: "null",
        stderr: inBackground ? "null" : "piped", // a background pipe nobody reads would fill and block
      }).spawn();
      if (!inBackground) {
        const status = await child.output();
        assert.equal(status.code, 0, `${line}\n${new TextDecoder().decode(status.stderr)}`);
        continue;
      }
      background.push(child);
      // Wait until the background role is up before the next command, as a person reading its output would.
      const log = flagOf(argv, "--log");
      const sub = argv[0];
      if (log && (sub === "broker" || sub === "actuator")) {
        const event = sub === "broker" ? "broker_listening" : "role_started";
        const before = readRecords(`${dir}/${log}`).filter((r) => r.event === event).length;
        await waitFor(
          () => readRecords(`${dir}/${log}`).filter((r) => r.event === event).length > before,
          60_000,
          `${line} to be ready`,
        );
      }
    }
    const phase1 = readRecords(`${dir}/run.jsonl`);
    const attacks1 = new Set(phase1.filter((r) => r.event === "attack_sent").map((r) => r.digest));
    const acted1 = phase1.filter((r) => r.event === "action" && attacks1.has(r.digest));
    assert.ok(attacks1.size > 0 && acted1.length > 0, "Phase I: the actuator acted on attacks");

    const phase2 = readRecords(`${dir}/sec.jsonl`);
    assert.ok(phase2.some((r) => r.event === "attack_sent"), "Phase II: attacks were sent");
    // A replayed envelope has the digest of the legit one it copies: an attack is acted on when a digest
    // is acted on more often than the sensor published it, or was never published by the sensor at all.
    const tally = (event: string) => {
      const counts = new Map<unknown, number>();
      for (const r of phase2) if (r.event === event) counts.set(r.digest, (counts.get(r.digest) ?? 0) + 1);
      return counts;
    };
    const published = tally("published");
    const acted = tally("action");
    assert.ok(acted.size > 0, "Phase II: legit events acted on");
    for (const [digest, times] of acted) {
      assert.ok(
        times <= (published.get(digest) ?? 0),
        `Phase II: ${digest} acted on ${times}x, not the sensor's`,
      );
    }
    assert.ok(Deno.statSync(`${dir}/report/report.html`).size > 0, "the report was written");
  } finally {
    for (const child of background) {
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      await child.output().catch(() => {});
    }
    await Deno.remove(dir, { recursive: true });
  }
});
