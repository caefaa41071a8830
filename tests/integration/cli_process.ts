/**
 * Test helper: runs `secmqtt` subcommands as real child processes (the same code path as ./secmqtt).
 * @module
 */

export { type SecmqttProcess, spawnSecmqtt } from "../../testkit/secmqtt_process.ts";
import { type SecmqttProcess, spawnSecmqtt } from "../../testkit/secmqtt_process.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const CONFIG = new URL("../../deno.json", import.meta.url).pathname;

/** What {@link spawnSecureSensor} runs: a secure sensor of the home `home`, publishing to `broker`. */
export interface SecureSensorRun {
  home: string;
  broker: string;
  /** JSONL log file. */
  log: string;
  intervalMs: number;
  /** Readings to publish; without it the sensor runs until stopped. */
  count?: number;
}

/**
 * Spawns `secmqtt sensor --secure` for `run`.
 * @example
 * ```ts
 * const sensor = spawnSecureSensor({ home, broker: url, log: `${home}/sensor.jsonl`, intervalMs: 50, count: 20 });
 * assert.equal((await sensor.child.status).code, 0, sensor.stderr());
 * ```
 */
export function spawnSecureSensor(run: SecureSensorRun): SecmqttProcess {
  return spawnSecmqtt([
    "sensor",
    "--secure",
    "--keys",
    run.home,
    "--broker",
    run.broker,
    "--interval-ms",
    String(run.intervalMs),
    "--log",
    run.log,
    ...(run.count === undefined ? [] : ["--count", String(run.count)]),
  ]);
}

/**
 * Runs `secmqtt <args…>` to completion and returns exit code, stdout and stderr.
 * @example
 * ```ts
 * const { code, stderr } = await runSecmqtt(["sensor", "--bogus"]);
 * ```
 */
export async function runSecmqtt(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--quiet", "--config", CONFIG, MAIN, ...args],
    stdin: "null",
  }).output();
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** Polls `check` until true or `timeoutMs` (for waiting on other processes; never a fixed sleep). */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = "condition",
) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Reads a JSONL log file written by child processes (missing file = no records). */
export function readRecords(path: string): Record<string, unknown>[] {
  let text = "";
  try {
    text = Deno.readTextFileSync(path);
  } catch {
    return [];
  }
  // A role may be writing its last line right now: only newline-terminated lines are complete.
  const complete = text.slice(0, text.lastIndexOf("\n") + 1);
  return complete.split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l));
}
