import { deepStrictEqual, equal, match, ok, throws } from "node:assert/strict";
import {
  createPasswordFile,
  formatPasswordLine,
  hashPassword,
  parsePasswordFile,
  PasswdError,
  verifyPassword,
} from "../../auth/passwd.ts";
import { fromBase64 } from "../../crypto/codec.ts";
import { withTempDir } from "../../testkit/temp_dir.ts";

const TEMP_PREFIX = "secmqtt-passwd-";

/** Finds a Mosquitto binary on PATH or in the sbin directories Debian installs the broker to. */
function findBinary(name: string): string | undefined {
  const dirs = [...(Deno.env.get("PATH") ?? "").split(":"), "/usr/sbin", "/usr/local/sbin"];
  for (const dir of dirs) {
    if (!dir) continue;
    try {
      if (Deno.statSync(`${dir}/${name}`).isFile) return `${dir}/${name}`;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

const MOSQUITTO = findBinary("mosquitto");
const MOSQUITTO_PASSWD = findBinary("mosquitto_passwd");
const MOSQUITTO_PUB = findBinary("mosquitto_pub");
/** In CI a missing Mosquitto is a failure, not a reason to skip. */
const IN_CI = Deno.env.get("CI") !== undefined;

function needs(binary: string | undefined, name: string): { ignore: boolean; name: string } {
  if (binary === undefined && !IN_CI) {
    return { ignore: true, name: `${name} (ignored: Mosquitto not installed)` };
  }
  return { ignore: false, name };
}

function requireBinary(binary: string | undefined, name: string): string {
  if (binary === undefined) {
    throw new Error(`${name} not found; install Mosquitto (apt-get install mosquitto mosquitto-clients)`);
  }
  return binary;
}

async function run(
  binary: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(binary, { args, stdout: "piped", stderr: "piped" }).output();
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** Runs `mosquitto_passwd -c -b` and returns the line it wrote. */
async function mosquittoPasswdLine(
  dir: string,
  user: string,
  password: string,
  hashType?: string,
): Promise<string> {
  const path = `${dir}/mp-${crypto.randomUUID()}`;
  const args = [...(hashType ? ["-H", hashType] : []), "-c", "-b", path, user, password];
  const result = await run(requireBinary(MOSQUITTO_PASSWD, "mosquitto_passwd"), args);
  equal(result.code, 0, result.stderr);
  return Deno.readTextFileSync(path).trimEnd();
}

Deno.test("hashPassword: writes the $7$ format with 101 iterations, a 12-byte salt and a 64-byte hash", () => {
  const hash = hashPassword("s3cret");
  match(hash, /^\$7\$101\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==$/);
  equal(fromBase64(hash.split("$")[3]).length, 12);
  equal(fromBase64(hash.split("$")[4]).length, 64);
  ok(hashPassword("s3cret") !== hash, "each call draws a fresh salt");
});

Deno.test("hashPassword: a fixed salt and iteration count give a fixed line", () => {
  const salt = new Uint8Array(12).fill(7);
  equal(hashPassword("pw", { salt, iterations: 5 }), hashPassword("pw", { salt, iterations: 5 }));
  ok(hashPassword("pw", { salt, iterations: 5 }).startsWith("$7$5$BwcHBwcHBwcHBwcH$"));
});

Deno.test("hashPassword: refuses bad salts, iteration counts and NUL in the password", () => {
  for (const options of [{ salt: new Uint8Array(11) }, { iterations: 0 }, { iterations: 1.5 }]) {
    throws(() => hashPassword("pw", options), PasswdError);
  }
  throws(() => hashPassword("a\0b"), PasswdError);
});

Deno.test("verifyPassword: accepts the right password and rejects a wrong one or an unknown user", () => {
  const file = parsePasswordFile(createPasswordFile([
    { username: "sensor-1", password: "correct horse" },
    { username: "actuator", password: "battery staple" },
  ]));
  deepStrictEqual(verifyPassword(file, "sensor-1", "correct horse"), { ok: true, username: "sensor-1" });
  deepStrictEqual(verifyPassword(file, "actuator", "battery staple"), { ok: true, username: "actuator" });
  deepStrictEqual(verifyPassword(file, "sensor-1", "battery staple"), { ok: false, code: "WRONG_PASSWORD" });
  deepStrictEqual(verifyPassword(file, "sensor-1", ""), { ok: false, code: "WRONG_PASSWORD" });
  deepStrictEqual(verifyPassword(file, "sensor-1", "correct horse\0x"), {
    ok: false,
    code: "WRONG_PASSWORD",
  });
  deepStrictEqual(verifyPassword(file, "nobody", "correct horse"), { ok: false, code: "UNKNOWN_USER" });
});

Deno.test("parsePasswordFile: skips comments and blank lines, keeps file order", () => {
  const a = formatPasswordLine("a", hashPassword("1"));
  const b = formatPasswordLine("b c", hashPassword("2"));
  const file = parsePasswordFile(`# users\n\n${a}\r\n${b}\n`);
  deepStrictEqual(file.entries.map((e) => e.username), ["a", "b c"]);
  ok(verifyPassword(file, "b c", "2").ok);
});

Deno.test("parsePasswordFile: refuses malformed lines with the line number", () => {
  const good = hashPassword("x");
  const bad = [
    "nocolon",
    ":" + good,
    "user:plaintext",
    "user:$5$abc$def",
    "user:$7$0$" + good.split("$").slice(3).join("$"),
    "user:$7$abc$" + good.split("$").slice(3).join("$"),
    "user:$7$101$" + "AAAA$" + good.split("$")[4],
    "user:$7$101$" + good.split("$")[3] + "$AAAA",
    "user:$7$101$" + good.split("$")[3] + "$" + good.split("$")[4] + "$extra",
    "user:$6$" + good.split("$")[3],
    ` user:${good}`,
  ];
  for (const line of bad) {
    throws(() => parsePasswordFile(`# first\n${line}\n`), (error: unknown) => {
      ok(error instanceof PasswdError, `${line}: expected PasswdError, got ${error}`);
      equal(error.code, "PASSWD_MALFORMED");
      match(error.message, /line 2/);
      return true;
    }, line);
  }
  throws(() => parsePasswordFile(`u:${good}\nu:${good}\n`), /duplicate/);
});

Deno.test("formatPasswordLine and createPasswordFile: refuse usernames Mosquitto would misread", () => {
  const hash = hashPassword("x");
  for (const username of ["", "a:b", "a\nb", " lead", "trail ", "#comment"]) {
    throws(() => formatPasswordLine(username, hash), PasswdError, JSON.stringify(username));
  }
  throws(() => formatPasswordLine("u", "$7$nope"), PasswdError);
  throws(
    () => createPasswordFile([{ username: "u", password: "1" }, { username: "u", password: "2" }]),
    PasswdError,
  );
});

Deno.test(
  {
    ...needs(
      MOSQUITTO_PASSWD,
      "hashPassword: equals the line mosquitto_passwd writes for the same salt and iterations",
    ),
    fn: () =>
      withTempDir(TEMP_PREFIX, async (dir) => {
        for (const password of ["pass", "correct horse battery staple", "ünïcødé ✓"]) {
          const line = await mosquittoPasswdLine(dir, "user", password);
          const [, , iterations, salt] = line.slice("user:".length).split("$");
          const ours = formatPasswordLine(
            "user",
            hashPassword(password, { iterations: Number(iterations), salt: fromBase64(salt) }),
          );
          equal(ours, line);
        }
      }),
  },
);

Deno.test(
  {
    ...needs(MOSQUITTO_PASSWD, "verifyPassword: verifies $7$ and $6$ lines made by mosquitto_passwd"),
    fn: () =>
      withTempDir(TEMP_PREFIX, async (dir) => {
        const pbkdf2Line = await mosquittoPasswdLine(dir, "new", "pw-7");
        const sha512Line = await mosquittoPasswdLine(dir, "old", "pw-6", "sha512");
        match(sha512Line, /^old:\$6\$/);
        const file = parsePasswordFile(`${pbkdf2Line}\n${sha512Line}\n`);
        deepStrictEqual(file.entries.map((e) => e.scheme), ["pbkdf2-sha512", "sha512"]);
        ok(verifyPassword(file, "new", "pw-7").ok);
        ok(verifyPassword(file, "old", "pw-6").ok);
        ok(!verifyPassword(file, "new", "pw-6").ok);
        ok(!verifyPassword(file, "old", "pw-7").ok);
      }),
  },
);

/** A free TCP port on the loopback interface (the OS picks it; we release it for the broker). */
function freeLoopbackPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Starts Mosquitto with `config` and resolves once it logs that it is running. */
async function startBroker(dir: string, config: string): Promise<{ stop: () => Promise<void> }> {
  const confPath = `${dir}/mosquitto.conf`;
  Deno.writeTextFileSync(confPath, config);
  const child = new Deno.Command(requireBinary(MOSQUITTO, "mosquitto"), {
    args: ["-c", confPath],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let log = "";
  while (!/mosquitto version \S+ running/.test(log)) {
    const { value, done } = await reader.read();
    if (done) {
      await child.status;
      throw new Error(`mosquitto exited before it was ready:\n${log}`);
    }
    log += value;
  }
  // Keep draining the log so the broker never blocks on a full pipe.
  const drained = (async () => {
    while (!(await reader.read()).done) { /* discard */ }
  })();
  return {
    stop: async () => {
      child.kill("SIGTERM");
      await child.status;
      await drained;
    },
  };
}

Deno.test(
  {
    ...needs(
      MOSQUITTO,
      "real Mosquitto accepts our password file: right password in, wrong password and unknown user out",
    ),
    fn: () =>
      withTempDir(TEMP_PREFIX, async (dir) => {
        const pub = requireBinary(MOSQUITTO_PUB, "mosquitto_pub");
        const passwdPath = `${dir}/passwd`;
        Deno.writeTextFileSync(
          passwdPath,
          createPasswordFile([
            { username: "sensor-1", password: "s3nsor pass" },
            { username: "actuator-1", password: "act-üator" },
          ]),
        );
        const port = freeLoopbackPort();
        const config = [
          `listener ${port} 127.0.0.1`,
          "allow_anonymous false",
          `password_file ${passwdPath}`,
          "persistence false",
          "log_dest stderr",
          // Mosquitto started as root drops to user "mosquitto", who cannot read our private temp dir.
          ...(Deno.uid() === 0 ? ["user root"] : []),
          "",
        ].join("\n");
        const broker = await startBroker(dir, config);
        try {
          const publish = (user: string, password: string) =>
            run(pub, [
              "-h",
              "127.0.0.1",
              "-p",
              String(port),
              "-u",
              user,
              "-P",
              password,
              "-t",
              "t/1",
              "-m",
              "hi",
            ]);
          const right = await publish("sensor-1", "s3nsor pass");
          equal(right.code, 0, `right password refused: ${right.stderr}`);
          const right2 = await publish("actuator-1", "act-üator");
          equal(right2.code, 0, `right password refused: ${right2.stderr}`);
          const wrong = await publish("sensor-1", "s3nsor pas");
          ok(wrong.code !== 0, "wrong password accepted");
          match(wrong.stderr, /not authori[sz]ed|refused/i);
          const unknown = await publish("intruder", "s3nsor pass");
          ok(unknown.code !== 0, "unknown user accepted");
          const anonymous = await run(pub, ["-h", "127.0.0.1", "-p", String(port), "-t", "t/1", "-m", "hi"]);
          ok(anonymous.code !== 0, "anonymous client accepted");
        } finally {
          await broker.stop();
        }
      }),
  },
);
