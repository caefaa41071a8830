/**
 * Real brokers on free loopback ports, for the integration tests and the end-to-end bench alike: the
 * embedded one in-process and a real Mosquitto process. In CI (env CI set) a missing `mosquitto` binary is
 * an error, never a skip.
 * @module
 */

import { pathExists } from "../core/paths.ts";
import { Log, memoryLogWriter } from "../log/jsonl.ts";
import { systemClock } from "../core/clock.ts";
import { type BrokerPolicy, startBroker } from "../transport/broker.ts";

/** A broker a test or bench can talk to. */
export interface TestBroker {
  kind: "embedded" | "mosquitto";
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Finds the mosquitto binary, or undefined.
 * @example
 * ```ts
 * const brokers = findMosquitto() ? ["embedded", "mosquitto"] : ["embedded"];
 * ```
 */
export function findMosquitto(): string | undefined {
  return ["/usr/sbin/mosquitto", "/usr/bin/mosquitto", "/usr/local/sbin/mosquitto"].find(pathExists);
}

/**
 * Whether a test that needs `program` should run: true when it was found; false outside CI; in CI (env CI
 * set) a missing program is an error, never a skip, naming the Debian package .ci/run must install.
 * @example
 * ```ts
 * requiredProgram(findMosquitto() !== undefined, "mosquitto", "mosquitto");
 * ```
 */
export function requiredProgram(found: boolean, program: string, debianPackage: string): boolean {
  if (!found && Deno.env.get("CI")) {
    throw new Error(
      `${program} is not installed, and CI is set: .ci/run must install it (apt-get install ${debianPackage})`,
    );
  }
  return found;
}

/**
 * True when Mosquitto tests should run; throws in CI when mosquitto is missing.
 * @example
 * ```ts
 * Deno.test({ name: "on mosquitto", ignore: !mosquittoAvailable(), fn: async () => {} });
 * ```
 */
export function mosquittoAvailable(): boolean {
  return requiredProgram(findMosquitto() !== undefined, "mosquitto", "mosquitto");
}

/**
 * A free TCP port on 127.0.0.1.
 * @example
 * ```ts
 * const broker = await startMosquitto(["allow_anonymous true"], freePort());
 * ```
 */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * Starts the embedded broker on a free port.
 * @example
 * ```ts
 * const broker = await startEmbedded();
 * await broker.close();
 * ```
 */
export async function startEmbedded(policy?: BrokerPolicy, log?: Log): Promise<TestBroker> {
  const brokerLog = log ?? new Log(memoryLogWriter(), { role: "broker", run: "test", clock: systemClock });
  const broker = await startBroker({ port: 0, log: brokerLog, policy });
  return { kind: "embedded", url: broker.url, port: broker.port, close: () => broker.close() };
}

/**
 * The Mosquitto configuration lines that enforce a home's password and ACL files, as
 * broker-config/mosquitto.secure.conf does.
 * @example
 * ```ts
 * const broker = await startMosquitto(secureMosquittoConfig(paths.passwd, paths.acl));
 * ```
 */
export function secureMosquittoConfig(passwdFile: string, aclFile: string): string[] {
  return [
    "allow_anonymous false",
    `password_file ${passwdFile}`,
    `acl_file ${aclFile}`,
    // Started as root, Mosquitto would switch to its own user, which cannot read a 0700 home.
    "user root",
  ];
}

/**
 * Directives a test sets itself when it starts Mosquitto (listener and TLS files, auth files, persistence,
 * log destination): {@link secureConfHardening} leaves them out of the repository's secure configuration.
 */
const SET_BY_THE_TEST = new Set([
  "listener",
  "certfile",
  "keyfile",
  "tls_version",
  "password_file",
  "acl_file",
  "persistence",
  "persistence_location",
  "autosave_interval",
  "log_dest",
]);

/**
 * Every hardening directive of broker-config/mosquitto.secure.conf, as written there (everything but what
 * a test sets itself), so integration tests run Mosquitto with the same limits users deploy.
 * @example
 * ```ts
 * const broker = await startMosquitto([...secureConfHardening(), ...secureMosquittoConfig(passwd, acl)]);
 * ```
 */
export function secureConfHardening(): string[] {
  const text = Deno.readTextFileSync(new URL("../broker-config/mosquitto.secure.conf", import.meta.url));
  return text.split("\n").map((l) => l.trim()).filter((l) =>
    l !== "" && !l.startsWith("#") && !SET_BY_THE_TEST.has(l.split(/\s+/)[0])
  );
}

/**
 * Starts real Mosquitto on a free port with the given extra configuration lines
 * (`listener` and persistence are set here). Resolves once it accepts TCP connections.
 * @example
 * ```ts
 * const broker = await startMosquitto();
 * await broker.close();
 * ```
 */
export async function startMosquitto(
  configLines: string[] = ["allow_anonymous true"],
  port = freePort(),
): Promise<TestBroker & { dir: string }> {
  const binary = findMosquitto();
  if (!binary) throw new Error("mosquitto not installed");
  const dir = await Deno.makeTempDir({ prefix: "secmqtt-mosq-" });
  const conf = `${dir}/mosquitto.conf`;
  await Deno.writeTextFile(
    conf,
    [`listener ${port} 127.0.0.1`, "persistence false", "log_dest stderr", ...configLines, ""].join("\n"),
  );
  const child = new Deno.Command(binary, { args: ["-c", conf], stdout: "null", stderr: "piped" }).spawn();
  const stderr: string[] = [];
  (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) stderr.push(chunk);
  })();
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new Error(`mosquitto did not start on port ${port}: ${stderr.join("")}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    kind: "mosquitto",
    url: `mqtt://127.0.0.1:${port}`,
    port,
    dir,
    async close() {
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      await child.status;
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
