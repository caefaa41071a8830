import { deepStrictEqual, equal, ok, throws } from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import {
  addSender,
  emptyTrustList,
  formatTrustList,
  loadTrustList,
  lookup,
  parseTrustList,
  revoke,
  saveTrustList,
  TrustError,
  type TrustList,
} from "../../store/trust.ts";
import { assertThrowsCode, withTempDir } from "../../testkit/temp_dir.ts";

const TEMP_PREFIX = "secmqtt-trust-";

function publicKeyPem(): string {
  const { publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return publicKey.export({ type: "spki", format: "pem" }).toString();
}

const PEM_A = publicKeyPem();
const PEM_B = publicKeyPem();

function sample(): TrustList {
  return {
    version: 1,
    senders: {
      "sensor-1": { suite: "dsa2048-sha256", public_key: PEM_A, status: "active" },
      "sensor-2": { suite: "rsa-oaep+aes-256-gcm", public_key: PEM_B, status: "revoked" },
    },
  };
}

function assertTrustError(fn: () => unknown, code: string): void {
  assertThrowsCode(fn, TrustError, code);
}

Deno.test("trust list: save then load gives the same list", () =>
  withTempDir(TEMP_PREFIX, (dir) => {
    const path = `${dir}/trust.json`;
    saveTrustList(path, sample());
    deepStrictEqual(loadTrustList(path), sample());
  }));

Deno.test("trust list: the saved file is stable JSON with sorted senders and a trailing newline", () => {
  const list = sample();
  const reversed: TrustList = {
    version: 1,
    senders: { "sensor-2": list.senders["sensor-2"], "sensor-1": list.senders["sensor-1"] },
  };
  const text = formatTrustList(reversed);
  equal(text, formatTrustList(list));
  ok(text.endsWith("}\n"));
  ok(text.indexOf('"sensor-1"') < text.indexOf('"sensor-2"'));
});

Deno.test("lookup: returns PEM, suite and status; unknown and prototype names are undefined", () => {
  const list = sample();
  deepStrictEqual(lookup(list, "sensor-1"), {
    publicKeyPem: PEM_A,
    suite: "dsa2048-sha256",
    status: "active",
  });
  equal(lookup(list, "sensor-2")?.status, "revoked");
  equal(lookup(list, "sensor-3"), undefined);
  equal(lookup(list, "constructor"), undefined);
  equal(lookup(list, "__proto__"), undefined);
  equal(lookup(list, "hasOwnProperty"), undefined);
});

Deno.test("trust list: ids that name Object.prototype members are ordinary senders", () =>
  withTempDir(TEMP_PREFIX, (dir) => {
    const path = `${dir}/trust.json`;
    const entry = JSON.stringify(sample().senders["sensor-1"]);
    const list = parseTrustList(`{"version":1,"senders":{"__proto__":${entry},"constructor":${entry}}}`);
    equal(Object.getPrototypeOf(list.senders), Object.prototype, "the prototype must not be replaced");
    equal(lookup(list, "__proto__")?.publicKeyPem, PEM_A);
    equal(lookup(list, "constructor")?.suite, "dsa2048-sha256");
    equal(lookup(list, "toString"), undefined);
    saveTrustList(path, revoke(list, "__proto__"));
    const reloaded = loadTrustList(path);
    equal(lookup(reloaded, "__proto__")?.status, "revoked");
    equal(lookup(reloaded, "constructor")?.status, "active");
    const added = addSender(emptyTrustList(), "__proto__", { suite: "x", publicKeyPem: PEM_B });
    equal(lookup(added, "__proto__")?.publicKeyPem, PEM_B);
  }));

Deno.test("revoke: marks the sender revoked without changing the input", () => {
  const list = sample();
  const updated = revoke(list, "sensor-1");
  equal(lookup(updated, "sensor-1")?.status, "revoked");
  equal(lookup(list, "sensor-1")?.status, "active");
  assertTrustError(() => revoke(list, "sensor-9"), "TRUST_UNKNOWN_SENDER");
});

Deno.test("revoke: survives a save and load", () =>
  withTempDir(TEMP_PREFIX, (dir) => {
    const path = `${dir}/trust.json`;
    saveTrustList(path, sample());
    saveTrustList(path, revoke(loadTrustList(path), "sensor-1"));
    equal(lookup(loadTrustList(path), "sensor-1")?.status, "revoked");
  }));

Deno.test("addSender: adds an active sender; an existing or malformed one is refused", () => {
  const list = addSender(emptyTrustList(), "sensor-7", { suite: "dsa2048-sha256", publicKeyPem: PEM_A });
  deepStrictEqual(lookup(list, "sensor-7"), {
    publicKeyPem: PEM_A,
    suite: "dsa2048-sha256",
    status: "active",
  });
  assertTrustError(
    () => addSender(list, "sensor-7", { suite: "dsa2048-sha256", publicKeyPem: PEM_B }),
    "TRUST_SENDER_EXISTS",
  );
  assertTrustError(() => addSender(list, "a/b", { suite: "x", publicKeyPem: PEM_A }), "TRUST_INVALID");
  assertTrustError(() => addSender(list, "s", { suite: "x", publicKeyPem: "not a key" }), "TRUST_INVALID");
});

Deno.test("loadTrustList: a missing file is TRUST_MISSING, a directory TRUST_UNREADABLE", () =>
  withTempDir(TEMP_PREFIX, (dir) => {
    assertTrustError(() => loadTrustList(`${dir}/absent.json`), "TRUST_MISSING");
    assertTrustError(() => loadTrustList(dir), "TRUST_UNREADABLE");
  }));

/** The JSON shape of a trust list, loosely typed so tests can break it. */
type TrustDocument = { version: unknown; senders: Record<string, Record<string, unknown>> };

Deno.test("parseTrustList: strict validation refuses anything off-format", () => {
  const good = JSON.parse(JSON.stringify(sample()));
  const variants: [string, (d: TrustDocument) => unknown][] = [
    ["not JSON", () => "{"],
    ["an array", () => []],
    ["version 2", (d) => ({ ...d, version: 2 })],
    ["version as string", (d) => ({ ...d, version: "1" })],
    ["missing senders", (d) => ({ version: d.version })],
    ["extra top-level field", (d) => ({ ...d, extra: true })],
    ["senders as array", (d) => ({ ...d, senders: [] })],
    ["bad sender id", (d) => ({ ...d, senders: { "a b": d.senders["sensor-1"] } })],
    ["sender id with slash", (d) => ({ ...d, senders: { "a/b": d.senders["sensor-1"] } })],
    ["sender id over 64 characters", (d) => ({ ...d, senders: { ["s".repeat(65)]: d.senders["sensor-1"] } })],
    ["unknown status", (d) => ({ ...d, senders: { s: { ...d.senders["sensor-1"], status: "trusted" } } })],
    ["extra entry field", (d) => ({ ...d, senders: { s: { ...d.senders["sensor-1"], note: "x" } } })],
    ["missing suite", (d) => ({ ...d, senders: { s: { public_key: PEM_A, status: "active" } } })],
    ["empty suite", (d) => ({ ...d, senders: { s: { ...d.senders["sensor-1"], suite: "" } } })],
    ["private key PEM", (d) => ({
      ...d,
      senders: { s: { ...d.senders["sensor-1"], public_key: PEM_A.replaceAll("PUBLIC KEY", "PRIVATE KEY") } },
    })],
    [
      "PEM with junk before",
      (d) => ({ ...d, senders: { s: { ...d.senders["sensor-1"], public_key: "x\n" + PEM_A } } }),
    ],
    ["PEM with bad base64", (d) => ({
      ...d,
      senders: { s: { ...d.senders["sensor-1"], public_key: PEM_A.replace(/\n[A-Za-z0-9+/]{4}/, "\n!!!!") } },
    })],
    ["PEM with short inner line", (d) => ({
      ...d,
      senders: {
        s: { ...d.senders["sensor-1"], public_key: PEM_A.replace(/\n([A-Za-z0-9+/]{4})/, "\n$1\n") },
      },
    })],
  ];
  for (const [name, mutate] of variants) {
    const data = mutate(JSON.parse(JSON.stringify(good)));
    const text = typeof data === "string" ? data : JSON.stringify(data);
    throws(() => parseTrustList(text), (error: unknown) => {
      ok(error instanceof TrustError, `${name}: expected TrustError, got ${error}`);
      equal(error.code, "TRUST_INVALID", name);
      return true;
    }, name);
  }
});

Deno.test("saveTrustList: an invalid list is refused before anything is written", () =>
  withTempDir(TEMP_PREFIX, (dir) => {
    const path = `${dir}/trust.json`;
    const bad = {
      version: 1,
      senders: { s: { suite: "x", public_key: "nope", status: "active" } },
    } as TrustList;
    assertTrustError(() => saveTrustList(path, bad), "TRUST_INVALID");
    throws(() => Deno.statSync(path), Deno.errors.NotFound);
  }));

Deno.test("saveTrustList: an unwritable location is TRUST_WRITE_FAILED", () =>
  withTempDir(TEMP_PREFIX, (dir) => {
    assertTrustError(() => saveTrustList(`${dir}/missing/trust.json`, sample()), "TRUST_WRITE_FAILED");
  }));
