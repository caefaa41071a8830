/**
 * The container files, checked without a Docker engine (none runs where the tests run): every secmqtt
 * command in the compose files uses a subcommand and flags that subcommand accepts, every file mounted from
 * ./keys is one `keygen` writes, and the Dockerfile copies every source folder the tool imports.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const LAUNCHER = `${ROOT}secmqtt`;
const COMPOSE_FILES = ["docker-compose.insecure.yml", "docker-compose.secure.yml"];

interface Service {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  volumes?: string[];
}

/** `${NAME:-default}` → default, as Compose does when NAME is unset. */
function withDefaults(text: string): string {
  return text.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, "$1");
}

function services(file: string): Record<string, Service> {
  const doc = parse(withDefaults(Deno.readTextFileSync(`${ROOT}${file}`)), { merge: true }) as {
    services: Record<string, Service>;
  };
  return doc.services;
}

/** Services that run the secmqtt image, with their command as argv. */
function secmqttCommands(file: string): { service: string; argv: string[] }[] {
  return Object.entries(services(file))
    .filter(([, s]) => s.image === "secmqtt:local" || s.build !== undefined)
    .map(([service, s]) => {
      assert.ok(Array.isArray(s.command), `${file}: ${service} gives its command as a list`);
      return { service, argv: s.command as string[] };
    });
}

async function helpText(sub: string): Promise<string> {
  const out = await new Deno.Command(LAUNCHER, { args: [sub, "--help"], stdout: "piped", stderr: "piped" })
    .output();
  assert.equal(out.code, 0, `secmqtt ${sub} --help`);
  return new TextDecoder().decode(out.stdout);
}

Deno.test("every compose command uses a real subcommand and only flags it accepts", async () => {
  let checked = 0;
  for (const file of COMPOSE_FILES) {
    for (const { service, argv } of secmqttCommands(file)) {
      const [sub, ...rest] = argv;
      const help = await helpText(sub);
      for (const flag of rest.filter((word) => /^--?[a-z]/.test(word))) {
        assert.ok(
          new RegExp(`(^|[\\s,])${flag}([\\s,=]|$)`, "m").test(help),
          `${file}: ${service} runs '${sub} ${flag}', which '${sub} --help' does not list`,
        );
        checked++;
      }
    }
  }
  assert.ok(checked > 20, `checked the compose commands' flags (${checked})`);
});

Deno.test("every file the compose files mount from ./keys is one keygen writes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "secmqtt-compose-" });
  try {
    const out = await new Deno.Command(LAUNCHER, {
      args: ["keygen", "--out", `${dir}/keys`, "--attacker", "mallory"],
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    let checked = 0;
    for (const file of COMPOSE_FILES) {
      for (const [service, s] of Object.entries(services(file))) {
        for (const volume of s.volumes ?? []) {
          const source = volume.split(":")[0];
          if (!source.startsWith("./keys/")) continue;
          assert.ok(
            Deno.statSync(`${dir}/${source.slice(2)}`).isFile,
            `${file}: ${service} mounts ${source}, which keygen does not write`,
          );
          checked++;
        }
      }
    }
    assert.ok(checked >= 3, `checked the mounted key files (${checked})`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the Dockerfile copies every source folder main.ts imports", async () => {
  const info = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "--config", `${ROOT}deno.json`, `${ROOT}main.ts`],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(info.code, 0, new TextDecoder().decode(info.stderr));
  const graph = JSON.parse(new TextDecoder().decode(info.stdout)) as { modules: { specifier: string }[] };
  const rootUrl = new URL(`file://${ROOT}`).href;
  const folders = new Set(
    graph.modules.map((m) => m.specifier).filter((s) => s.startsWith(rootUrl))
      .map((s) => s.slice(rootUrl.length)).filter((path) => path.includes("/"))
      .map((path) => path.split("/")[0]),
  );
  assert.ok(folders.has("crypto") && folders.has("cli"), `found the tool's folders: ${[...folders]}`);
  const dockerfile = Deno.readTextFileSync(`${ROOT}Dockerfile`);
  for (const folder of folders) {
    assert.match(dockerfile, new RegExp(`^COPY ${folder}/ ${folder}/$`, "m"), `Dockerfile copies ${folder}/`);
  }
});
