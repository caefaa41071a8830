/**
 * Runs `secmqtt` subcommands as real child processes (the same code path as ./secmqtt), for tests and for
 * benches that drive whole roles.
 * @module
 */

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const CONFIG = new URL("../deno.json", import.meta.url).pathname;

/** A running secmqtt child process. */
export interface SecmqttProcess {
  child: Deno.ChildProcess;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** SIGKILL, and wait for it to be gone. */
  kill9(): Promise<void>;
  /** SIGTERM, and wait for the exit status. */
  stop(): Promise<Deno.CommandStatus>;
}

/**
 * Spawns `secmqtt <args…>`.
 * @example
 * ```ts
 * const p = spawnSecmqtt(["actuator", "--secure", "--keys", dir]);
 * ```
 */
export function spawnSecmqtt(args: string[], env: Record<string, string> = {}): SecmqttProcess {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--quiet", "--config", CONFIG, MAIN, ...args],
    stdout: "null",
    stderr: "piped",
    stdin: "null",
    env,
  }).spawn();
  let err = "";
  const reading = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) err += chunk;
  })();
  return {
    child,
    stderr: () => err,
    async kill9() {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
      await child.status;
      await reading;
    },
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      const status = await child.status;
      await reading;
      return status;
    },
  };
}
