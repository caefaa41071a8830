import { deepStrictEqual, equal, ok, throws } from "node:assert/strict";
import {
  AclError,
  type AclFile,
  type AclRequest,
  checkAccess,
  formatAcl,
  isAllowed,
  parseAcl,
  topicMatches,
} from "../../auth/acl.ts";

const ACL_TEXT = `# secmqtt broker ACL
topic read public/#

pattern write sensors/%u/#
pattern read commands/%c/+
pattern deny sensors/%u/locked

user actuator-1
topic read sensors/#
topic readwrite home/+/state
topic deny home/vault/state
topic write   actuators/lamp one
user sensor-1
topic home/sensor-1/temp
user actuator-1
topic write alarms/#
`;

const acl = parseAcl(ACL_TEXT);

function request(
  username: string | undefined,
  topic: string,
  access: AclRequest["access"],
  clientId = "client-x",
): AclRequest {
  return { username, clientId, topic, access };
}

Deno.test("topicMatches: + matches one level, # the rest including the parent", () => {
  ok(topicMatches("home/+/state", "home/kitchen/state"));
  ok(!topicMatches("home/+/state", "home/kitchen/lamp/state"));
  ok(!topicMatches("home/+/state", "home/state"));
  ok(topicMatches("home/+", "home/"));
  ok(topicMatches("home/#", "home"));
  ok(topicMatches("home/#", "home/a/b/c"));
  ok(topicMatches("#", "anything/at/all"));
  ok(topicMatches("+/+", "/finance"));
  ok(!topicMatches("home/#", "homes/a"));
  ok(topicMatches("a/b", "a/b"));
  ok(!topicMatches("a/b", "a/B"));
});

Deno.test("topicMatches: wildcards at the first level do not match $ topics (MQTT §4.7.2)", () => {
  ok(!topicMatches("#", "$SYS/broker/uptime"));
  ok(!topicMatches("+/broker/uptime", "$SYS/broker/uptime"));
  ok(topicMatches("$SYS/#", "$SYS/broker/uptime"));
});

Deno.test("topicMatches: invalid filters and topic names never match", () => {
  ok(!topicMatches("home/#/x", "home/a/x"));
  ok(!topicMatches("home/a+", "home/a+"));
  ok(!topicMatches("home/+", "home/+"));
  ok(!topicMatches("", ""));
});

Deno.test("parseAcl: global topic lines, user sections (merged), patterns wherever they appear", () => {
  deepStrictEqual(acl.anonymous, [{ access: "read", topic: "public/#" }]);
  deepStrictEqual(acl.patterns, [
    { access: "write", topic: "sensors/%u/#" },
    { access: "read", topic: "commands/%c/+" },
    { access: "deny", topic: "sensors/%u/locked" },
  ]);
  deepStrictEqual(acl.users.map((u) => u.username), ["actuator-1", "sensor-1"]);
  deepStrictEqual(acl.users[0].rules, [
    { access: "read", topic: "sensors/#" },
    { access: "readwrite", topic: "home/+/state" },
    { access: "deny", topic: "home/vault/state" },
    { access: "write", topic: "actuators/lamp one" },
    { access: "write", topic: "alarms/#" },
  ]);
  deepStrictEqual(acl.users[1].rules, [{ access: "readwrite", topic: "home/sensor-1/temp" }]);
});

Deno.test("parseAcl: refuses malformed lines with the line number", () => {
  const bad = [
    "topic",
    "topic read",
    "topic maybe a/b",
    "topic read a/#/b",
    "topic read a/b+",
    "user",
    "subscribe a/b",
    "\ttopic read a",
    "  # indented comments are not comments in Mosquitto",
  ];
  for (const line of bad) {
    throws(() => parseAcl(`# first\n${line}\n`), (error: unknown) => {
      ok(error instanceof AclError, `${JSON.stringify(line)}: expected AclError, got ${error}`);
      equal(error.code, "ACL_MALFORMED");
      ok(error.message.includes("line 2"), error.message);
      return true;
    }, line);
  }
});

Deno.test("formatAcl: writes a file that parses back to the same model", () => {
  const text = formatAcl(acl);
  deepStrictEqual(parseAcl(text), acl);
  equal(
    formatAcl({
      anonymous: [],
      patterns: [{ access: "write", topic: "sensors/%u/#" }],
      users: [{ username: "actuator-1", rules: [{ access: "read", topic: "sensors/#" }] }],
    }),
    "pattern write sensors/%u/#\nuser actuator-1\ntopic read sensors/#\n",
  );
});

Deno.test("formatAcl: refuses what Mosquitto could not read back", () => {
  const base: AclFile = { anonymous: [], patterns: [], users: [] };
  throws(() => formatAcl({ ...base, anonymous: [{ access: "read", topic: "a/#/b" }] }), AclError);
  throws(() => formatAcl({ ...base, anonymous: [{ access: "read", topic: "a\nuser x" }] }), AclError);
  throws(() => formatAcl({ ...base, users: [{ username: "", rules: [] }] }), AclError);
  throws(() => formatAcl({ ...base, users: [{ username: "a\nb", rules: [] }] }), AclError);
  throws(
    () => formatAcl({ ...base, users: [{ username: "a", rules: [] }, { username: "a", rules: [] }] }),
    AclError,
  );
});

Deno.test("checkAccess: read and write are separate grants", () => {
  ok(isAllowed(acl, request("actuator-1", "sensors/s1/temp", "read")));
  ok(!isAllowed(acl, request("actuator-1", "sensors/s1/temp", "write")));
  ok(isAllowed(acl, request("actuator-1", "alarms/fire", "write")));
  ok(!isAllowed(acl, request("actuator-1", "alarms/fire", "read")));
  ok(isAllowed(acl, request("actuator-1", "home/kitchen/state", "read")));
  ok(isAllowed(acl, request("actuator-1", "home/kitchen/state", "write")));
  ok(isAllowed(acl, request("actuator-1", "actuators/lamp one", "write")), "topics may contain spaces");
});

Deno.test("checkAccess: a topic line without an access word grants readwrite", () => {
  ok(isAllowed(acl, request("sensor-1", "home/sensor-1/temp", "write")));
  ok(isAllowed(acl, request("sensor-1", "home/sensor-1/temp", "read")));
});

Deno.test("checkAccess: a deny line wins over a grant that also matches, wherever it appears", () => {
  const decision = checkAccess(acl, request("actuator-1", "home/vault/state", "read"));
  deepStrictEqual(decision, { ok: false, code: "ACL_DENY_RULE", detail: "topic deny home/vault/state" });
  ok(!isAllowed(acl, request("actuator-1", "home/vault/state", "write")));
});

Deno.test("checkAccess: no matching rule means denied", () => {
  const decision = checkAccess(acl, request("actuator-1", "garage/door", "write"));
  equal(decision.ok, false);
  ok(!decision.ok && decision.code === "ACL_NO_MATCH");
  ok(!isAllowed(acl, request("stranger", "home/kitchen/state", "read")));
});

Deno.test("checkAccess: global topic lines apply to clients without a username only (as Mosquitto)", () => {
  ok(isAllowed(acl, request(undefined, "public/news", "read")));
  ok(!isAllowed(acl, request(undefined, "public/news", "write")));
  ok(!isAllowed(acl, request("actuator-1", "public/news", "read")));
  ok(!isAllowed(acl, request("", "public/news", "read")), "an empty username is still a username");
});

Deno.test("checkAccess: %u and %c in patterns are the client's username and client id", () => {
  ok(isAllowed(acl, request("sensor-7", "sensors/sensor-7/temp", "write")));
  ok(!isAllowed(acl, request("sensor-7", "sensors/sensor-8/temp", "write")));
  ok(isAllowed(acl, request("anyone", "commands/dev-42/set", "read", "dev-42")));
  ok(!isAllowed(acl, request("anyone", "commands/dev-43/set", "read", "dev-42")));
  ok(
    !isAllowed(acl, request(undefined, "sensors/%u/temp", "write")),
    "a %u pattern never applies without a username",
  );
  ok(
    isAllowed(acl, request(undefined, "commands/c1/x", "read", "c1")),
    "a %c pattern applies to anonymous clients",
  );
});

Deno.test("checkAccess: a pattern deny wins over a pattern grant", () => {
  deepStrictEqual(checkAccess(acl, request("sensor-7", "sensors/sensor-7/locked", "write")), {
    ok: false,
    code: "ACL_DENY_RULE",
    detail: "pattern deny sensors/sensor-7/locked",
  });
});

Deno.test("checkAccess: a user's own topic grant is decided before pattern rules (Mosquitto order)", () => {
  const ordered = parseAcl("pattern deny secret/%u\nuser bob\ntopic read secret/#\n");
  ok(isAllowed(ordered, request("bob", "secret/bob", "read")));
  ok(!isAllowed(ordered, request("eve", "secret/eve", "read")));
});

Deno.test("checkAccess: usernames or client ids with + or # are refused when patterns are in use", () => {
  equal(checkAccess(acl, request("sensor+", "sensors/sensor+/x", "write")).ok, false);
  deepStrictEqual(checkAccess(acl, request("x", "commands/#/a", "read", "#")), {
    ok: false,
    code: "ACL_INVALID_TOPIC",
    detail: '"commands/#/a": wildcards are not allowed in a topic name',
  });
  const decision = checkAccess(acl, request("x", "commands/a/b", "read", "a/#"));
  ok(!decision.ok && decision.code === "ACL_DANGEROUS_ID");
});

Deno.test("checkAccess: read and write need a topic name, not a filter", () => {
  const decision = checkAccess(acl, request("actuator-1", "sensors/#", "read"));
  ok(!decision.ok && decision.code === "ACL_INVALID_TOPIC");
});

Deno.test("checkAccess: $ topics are only matched by rules starting with $", () => {
  const sys = parseAcl("user admin\ntopic read #\ntopic read $SYS/broker/#\n");
  ok(!isAllowed(sys, request("admin", "$SYS/load", "read")));
  ok(isAllowed(sys, request("admin", "$SYS/broker/uptime", "read")));
  ok(isAllowed(sys, request("admin", "home/x", "read")));
});

Deno.test("checkAccess subscribe: the filter must be covered by a read grant", () => {
  ok(isAllowed(acl, request("actuator-1", "sensors/#", "subscribe")));
  ok(isAllowed(acl, request("actuator-1", "sensors/+/temp", "subscribe")));
  ok(isAllowed(acl, request("actuator-1", "sensors", "subscribe")), "sensors/# also matches the parent");
  ok(!isAllowed(acl, request("actuator-1", "#", "subscribe")), "wider than any grant");
  ok(!isAllowed(acl, request("actuator-1", "alarms/#", "subscribe")), "write-only grant");
  ok(isAllowed(acl, request("actuator-1", "home/kitchen/state", "subscribe")));
  ok(!isAllowed(acl, request("sensor-1", "home/+/temp", "subscribe")), "a literal rule does not cover +");
  ok(isAllowed(acl, request("x", "commands/dev-1/+", "subscribe", "dev-1")), "patterns cover filters too");
  ok(!isAllowed(acl, request("x", "commands/dev-1/#", "subscribe", "dev-1")), "+ does not cover #");
});

Deno.test("checkAccess subscribe: a filter that could receive a denied topic is refused", () => {
  const decision = checkAccess(acl, request("actuator-1", "home/+/state", "subscribe"));
  deepStrictEqual(decision, { ok: false, code: "ACL_DENY_RULE", detail: "topic deny home/vault/state" });
  ok(isAllowed(acl, request("actuator-1", "home/kitchen/state", "subscribe")));
  ok(!isAllowed(acl, request("sensor-9", "sensors/sensor-9/#", "subscribe")), "intersects pattern deny");
});

Deno.test("checkAccess subscribe: $ filters need a $ grant; # grants do not cover them", () => {
  const sys = parseAcl("user admin\ntopic read #\ntopic read $SYS/#\n");
  ok(isAllowed(sys, request("admin", "#", "subscribe")));
  ok(isAllowed(sys, request("admin", "$SYS/#", "subscribe")));
  const plain = parseAcl("user admin\ntopic read #\n");
  ok(!isAllowed(plain, request("admin", "$SYS/#", "subscribe")));
  ok(!isAllowed(plain, request("admin", "a/#/b", "subscribe")), "an invalid filter is refused");
  const denySys = parseAcl("user admin\ntopic read #\ntopic deny #\n");
  ok(!isAllowed(denySys, request("admin", "a/b", "subscribe")));
});

Deno.test("checkAccess: an ACL with no rules for the client denies everything", () => {
  const empty = parseAcl("# nothing\n");
  ok(!isAllowed(empty, request("a", "x", "read")));
  ok(!isAllowed(empty, request(undefined, "x", "write")));
  ok(!isAllowed(empty, request("a", "x", "subscribe")));
});

// ---- Conformance with the real broker -------------------------------------------------------------

/** Finds a Mosquitto binary on PATH or in the sbin directories Debian installs the broker to. */
function findBinary(name: string): string | undefined {
  const dirs = [...(Deno.env.get("PATH") ?? "").split(":"), "/usr/sbin", "/usr/local/sbin"];
  for (const dir of dirs.filter((d) => d !== "")) {
    try {
      if (Deno.statSync(`${dir}/${name}`).isFile) return `${dir}/${name}`;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

const MOSQUITTO = findBinary("mosquitto");
const MOSQUITTO_PUB = findBinary("mosquitto_pub");
const MOSQUITTO_SUB = findBinary("mosquitto_sub");
const HAVE_MOSQUITTO = MOSQUITTO !== undefined && MOSQUITTO_PUB !== undefined && MOSQUITTO_SUB !== undefined;

Deno.test({
  name: HAVE_MOSQUITTO || Deno.env.get("CI")
    ? "real Mosquitto makes the same publish decisions as checkAccess for our ACL file"
    : "real Mosquitto makes the same publish decisions as checkAccess (ignored: Mosquitto not installed)",
  ignore: !HAVE_MOSQUITTO && !Deno.env.get("CI"),
  fn: async () => {
    if (!HAVE_MOSQUITTO) throw new Error("mosquitto, mosquitto_pub and mosquitto_sub are required in CI");
    const dir = await Deno.makeTempDir({ prefix: "secmqtt-acl-" });
    const children: Deno.ChildProcess[] = [];
    try {
      const { createPasswordFile } = await import("../../auth/passwd.ts");
      const users = ["actuator-1", "sensor-1", "sensor-7", "watcher"];
      Deno.writeTextFileSync(
        `${dir}/passwd`,
        createPasswordFile(users.map((u) => ({ username: u, password: `pw-${u}` }))),
      );
      Deno.writeTextFileSync(`${dir}/acl`, ACL_TEXT + "user watcher\ntopic read #\ntopic write sentinel\n");
      const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const port = (listener.addr as Deno.NetAddr).port;
      listener.close();
      Deno.writeTextFileSync(
        `${dir}/mosquitto.conf`,
        [
          `listener ${port} 127.0.0.1`,
          "allow_anonymous false",
          `password_file ${dir}/passwd`,
          `acl_file ${dir}/acl`,
          "persistence false",
          "log_dest stderr",
          ...(Deno.uid() === 0 ? ["user root"] : []),
          "",
        ].join("\n"),
      );
      const broker = new Deno.Command(MOSQUITTO!, {
        args: ["-c", `${dir}/mosquitto.conf`],
        stdout: "null",
        stderr: "piped",
      })
        .spawn();
      children.push(broker);
      const brokerLog = broker.stderr.pipeThrough(new TextDecoderStream()).getReader();
      let log = "";
      while (!/mosquitto version \S+ running/.test(log)) {
        const { value, done } = await brokerLog.read();
        if (done) throw new Error(`mosquitto exited:\n${log}`);
        log += value;
      }
      (async () => {
        while (!(await brokerLog.read()).done) { /* drain */ }
      })();

      const common = ["-h", "127.0.0.1", "-p", String(port), "-q", "1"];
      const publish = async (user: string, topic: string, extra: string[] = []) => {
        const out = await new Deno.Command(MOSQUITTO_PUB!, {
          args: [
            ...common,
            ...extra,
            "-u",
            user,
            "-P",
            `pw-${user}`,
            "-i",
            `${user}-client`,
            "-t",
            topic,
            "-m",
            `${user}|${topic}`,
          ],
          stdout: "null",
          stderr: "null",
        }).output();
        equal(out.code, 0, `mosquitto_pub ${user} ${topic}`);
      };
      // A retained message is delivered as soon as the watcher's subscription exists: our "ready" signal.
      await publish("watcher", "sentinel", ["-r"]);
      const watcher = new Deno.Command(MOSQUITTO_SUB!, {
        args: [...common, "-u", "watcher", "-P", "pw-watcher", "-i", "watcher", "-t", "#", "-F", "%r|%p"],
        stdout: "piped",
        stderr: "null",
      }).spawn();
      children.push(watcher);
      const lines = watcher.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let received = "";
      while (!received.includes("|watcher|sentinel\n")) {
        const { value, done } = await lines.read();
        if (done) throw new Error(`watcher exited: ${received}`);
        received += value;
      }

      const matrix: [string, string][] = [];
      for (const user of ["actuator-1", "sensor-1", "sensor-7"]) {
        for (
          const topic of [
            "sensors/sensor-7/temp",
            "sensors/sensor-8/temp",
            "sensors/sensor-7/locked",
            "home/kitchen/state",
            "home/vault/state",
            "home/sensor-1/temp",
            "alarms/fire",
            "actuators/lamp one",
            "public/news",
          ]
        ) matrix.push([user, topic]);
      }
      received = "";
      for (const [user, topic] of matrix) await publish(user, topic);
      await publish("watcher", "sentinel");
      while (!received.includes("0|watcher|sentinel\n")) {
        const { value, done } = await lines.read();
        if (done) throw new Error(`watcher exited: ${received}`);
        received += value;
      }
      // Lines are "<retained flag>|<user>|<topic>"; the end sentinel is the only non-retained watcher line.
      const delivered = new Set(
        received.split("\n").filter((l) => l !== "" && !l.endsWith("|watcher|sentinel")).map((l) =>
          l.slice(2)
        ),
      );
      for (const [user, topic] of matrix) {
        const ours = isAllowed(acl, { username: user, clientId: `${user}-client`, topic, access: "write" });
        equal(
          delivered.has(`${user}|${topic}`),
          ours,
          `${user} write ${topic}: Mosquitto and checkAccess disagree`,
        );
      }
      ok(
        [...delivered].length > 0 && [...delivered].length < matrix.length,
        "the matrix mixes allowed and denied",
      );
    } finally {
      for (const child of children.reverse()) {
        try {
          child.kill("SIGTERM");
        } catch {
          // already exited
        }
        await child.status;
      }
      await Deno.remove(dir, { recursive: true });
    }
  },
});
