/**
 * Test helper: a keygen'd secure home served by the embedded broker or by real Mosquitto started with
 * the home's password and ACL files.
 * @module
 */

import { type Suite, SUITE_DSA } from "../../crypto/envelope.ts";
import { createHome } from "../../roles/keygen.ts";
import { readCredential } from "../../store/credentials.ts";
import { homePaths } from "../../store/home.ts";
import {
  findMosquitto,
  freePort,
  secureMosquittoConfig,
  startEmbedded,
  startMosquitto,
  type TestBroker,
} from "../../testkit/brokers.ts";
import { loadBrokerPolicy } from "../../auth/policy.ts";
import { fixtureDsaDomain } from "../../testkit/fixtures.ts";
import { systemClock } from "../../core/clock.ts";
import { Log, memoryLogWriter } from "../../log/jsonl.ts";
import { startSecureHome } from "../../roles/home.ts";

/** The committed DSA domain the tests reuse (generating one takes about a second). */
export const FIXTURE_DSA_DOMAIN = fixtureDsaDomain(256);

/**
 * Creates a home in a new temp dir with one sensor, the actuator and the attacker account `mallory`.
 * @example
 * ```ts
 * const dir = await makeTestHome();
 * ```
 */
export async function makeTestHome(suite: Suite = SUITE_DSA, sensors = ["door-sensor-1"]): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "secmqtt-home-" });
  await createHome({
    outDir: dir,
    sensors,
    actuatorId: "door-actuator",
    suite,
    attacker: "mallory",
    force: true,
    dsaDomain: FIXTURE_DSA_DOMAIN,
  });
  return dir;
}

/** Reads a broker password keygen wrote. */
export function credential(dir: string, user: string): string {
  return readCredential(homePaths(dir), user).password;
}

/**
 * Starts a broker that enforces the home's passwd and acl: embedded, or real Mosquitto with
 * `allow_anonymous false`, `password_file` and `acl_file` (as broker-config/mosquitto.secure.conf).
 * @example
 * ```ts
 * const broker = await startSecureBroker("mosquitto", dir);
 * ```
 */
export async function startSecureBroker(kind: "embedded" | "mosquitto", dir: string): Promise<TestBroker> {
  const paths = homePaths(dir);
  if (kind === "mosquitto") {
    return await startMosquitto(secureMosquittoConfig(paths.passwd, paths.acl));
  }
  return await startEmbedded(loadBrokerPolicy(paths.passwd, paths.acl));
}

/**
 * A fresh test home with its secure broker (of `kind`), and the secure home (actuator `door-actuator`,
 * sensor `door-sensor-1`, a new epoch key per message) running against it, logging to memory as run `run`.
 * @example
 * ```ts
 * const { dir, broker, writer, log, home } = await startTestSecureHome("embedded", "p2");
 * ```
 */
export async function startTestSecureHome(kind: "embedded" | "mosquitto", run: string) {
  const dir = await makeTestHome();
  const broker = await startSecureBroker(kind, dir);
  const writer = memoryLogWriter();
  const log = new Log(writer, { role: "test", run, clock: systemClock });
  const home = await startSecureHome(
    { kind: "external", url: broker.url },
    { keysDir: dir, sensorId: "door-sensor-1", actuatorId: "door-actuator" },
    log,
    systemClock,
    { epochLength: 1 },
  );
  return { dir, broker, writer, log, home };
}

/**
 * Starts real Mosquitto on the `mosquitto.conf` keygen wrote into the home, changed in one thing only:
 * a copy listens on a free port instead of 8883 (which another test or a real broker may hold).
 * Resolves once it accepts TCP connections; `url` is mqtts://127.0.0.1:<port>.
 * @example
 * ```ts
 * const broker = await startHomeMosquitto(dir);
 * ```
 */
export async function startHomeMosquitto(dir: string): Promise<TestBroker & { output(): string }> {
  const binary = findMosquitto();
  if (!binary) throw new Error("mosquitto not installed");
  const paths = homePaths(dir);
  const port = freePort();
  const original = Deno.readTextFileSync(paths.mosquittoConf);
  const lines = original.split("\n");
  if (lines.filter((l) => l === "listener 8883").length !== 1) {
    throw new Error(`${paths.mosquittoConf} has no single 'listener 8883' line`);
  }
  const copy = `${dir}/mosquitto.test.conf`;
  Deno.writeTextFileSync(copy, lines.map((l) => l === "listener 8883" ? `listener ${port}` : l).join("\n"));
  const child = new Deno.Command(binary, { args: ["-c", copy], stdout: "piped", stderr: "piped" }).spawn();
  let output = "";
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) output += chunk;
  };
  const reading = Promise.all([collect(child.stdout), collect(child.stderr)]);
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        await child.status;
        throw new Error(`mosquitto did not start on ${copy}: ${output}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    kind: "mosquitto",
    url: `mqtts://127.0.0.1:${port}`,
    port,
    output: () => output,
    async close() {
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      await child.status;
      await reading;
    },
  };
}
