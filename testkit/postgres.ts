/**
 * A throw-away PostgreSQL server for integration tests and benches: `initdb` into a temporary directory
 * (as the `postgres` user when running as root, which PostgreSQL refuses to run as), `postgres` on a free
 * loopback port with its socket in that directory, and removal of everything on close. In CI (env CI set)
 * a missing PostgreSQL is an error, never a skip: .ci/run installs Debian's `postgresql`.
 * @module
 */

import { pathExists } from "../core/paths.ts";
import { freePort, requiredProgram } from "./brokers.ts";
/** A running test server. */
export interface TestPostgres {
  /** `postgres://secmqtt@127.0.0.1:<port>/postgres`: trust authentication on loopback only. */
  url: string;
  port: number;
  /** Stops the server (fast shutdown) and removes its directory. */
  close(): Promise<void>;
}

/** The database superuser the test cluster is created with. */
export const TEST_PG_USER = "secmqtt";

const SEARCH_DIRS = ["/usr/local/bin", "/usr/bin"];

/**
 * The directory holding `initdb` and `postgres`: Debian keeps them under /usr/lib/postgresql/<major>/bin,
 * off PATH. Undefined when PostgreSQL is not installed.
 * @example
 * ```ts
 * const bin = findPostgresBin(); // "/usr/lib/postgresql/15/bin"
 * ```
 */
export function findPostgresBin(): string | undefined {
  const candidates: string[] = [];
  try {
    const majors = [...Deno.readDirSync("/usr/lib/postgresql")].map((e) => e.name)
      .filter((name) => /^\d+$/.test(name)).sort((a, b) => Number(b) - Number(a));
    candidates.push(...majors.map((major) => `/usr/lib/postgresql/${major}/bin`));
  } catch { /* not a Debian layout */ }
  candidates.push(...SEARCH_DIRS);
  return candidates.find((dir) => pathExists(`${dir}/initdb`) && pathExists(`${dir}/postgres`));
}

/**
 * True when PostgreSQL tests should run; throws in CI when it is missing.
 * @example
 * ```ts
 * Deno.test({ name: "…", ignore: !postgresAvailable(), fn: async () => {} });
 * ```
 */
export function postgresAvailable(): boolean {
  return requiredProgram(findPostgresBin() !== undefined, "PostgreSQL", "postgresql");
}

/**
 * Creates and starts a fresh cluster on a free loopback port; resolves once it accepts connections.
 * @example
 * ```ts
 * const pg = await startPostgres();
 * try { … pg.url … } finally { await pg.close(); }
 * ```
 */
export async function startPostgres(): Promise<TestPostgres> {
  const bin = findPostgresBin();
  if (!bin) throw new Error("PostgreSQL is not installed (apt-get install postgresql)");
  const asRoot = Deno.uid() === 0;
  const dir = await Deno.makeTempDir({ prefix: "secmqtt-pg-" });
  const data = `${dir}/data`;
  if (asRoot) await run(["chown", "postgres:postgres", dir]);
  await run(
    asPostgres(asRoot, [`${bin}/initdb`, "-D", data, "-U", TEST_PG_USER, "--auth=trust", "-E", "UTF8"]),
  );
  const port = freePort();
  const argv = asPostgres(asRoot, [
    `${bin}/postgres`,
    "-D",
    data,
    "-p",
    String(port),
    "-k",
    dir,
    "-c",
    "listen_addresses=127.0.0.1",
  ]);
  const server = new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdout: "null",
    stderr: "piped",
    stdin: "null",
  })
    .spawn();
  let stderr = "";
  const reading = (async () => {
    for await (const chunk of server.stderr.pipeThrough(new TextDecoderStream())) stderr += chunk;
  })();
  const close = async () => {
    // SIGINT is PostgreSQL's fast shutdown. It goes to the postmaster itself (its pid is the first line of
    // postmaster.pid): runuser, in between when running as root, does not pass SIGINT on.
    try {
      const pid = Number(Deno.readTextFileSync(`${data}/postmaster.pid`).split("\n")[0]);
      if (pid > 0) Deno.kill(pid, "SIGINT");
      else server.kill("SIGINT");
    } catch {
      try {
        server.kill("SIGKILL");
      } catch { /* gone */ }
    }
    await server.status;
    await reading;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  const deadline = Date.now() + 30_000;
  while (!/ready to accept connections/.test(stderr)) {
    if (Date.now() > deadline) {
      await close();
      throw new Error(`PostgreSQL did not start within 30 s:\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url: `postgres://${TEST_PG_USER}@127.0.0.1:${port}/postgres`, port, close };
}

function asPostgres(asRoot: boolean, argv: string[]): string[] {
  return asRoot ? ["runuser", "-u", "postgres", "--", ...argv] : argv;
}

async function run(argv: string[]): Promise<void> {
  const out = await new Deno.Command(argv[0], { args: argv.slice(1), stdout: "piped", stderr: "piped" })
    .output();
  if (!out.success) {
    throw new Error(`${argv.join(" ")} failed (${out.code}): ${new TextDecoder().decode(out.stderr)}`);
  }
}
