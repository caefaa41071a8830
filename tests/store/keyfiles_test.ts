import { deepStrictEqual, equal, match, ok, throws } from "node:assert/strict";
import {
  checkPrivateKeyMode,
  KeyFileError,
  readKeyFile,
  readKeyFileText,
  writeFileAtomic,
  writePublicFile,
  writeSecretFile,
} from "../../store/keyfiles.ts";
import { withTempDir } from "../../testkit/temp_dir.ts";

const TEMP_PREFIX = "secmqtt-keyfiles-";

function assertKeyFileError(fn: () => unknown, code: string, path: string): void {
  throws(fn, (error: unknown) => {
    ok(error instanceof KeyFileError, `expected a KeyFileError, got ${error}`);
    equal(error.code, code);
    equal(error.path, path);
    ok(error.message.includes(path), `message should name the path: ${error.message}`);
    ok(!error.message.includes("\n"), "message should be one line");
    return true;
  });
}

const posix = Deno.build.os !== "windows";

Deno.test({
  name: "writeSecretFile: the file has mode 0600 even under a permissive umask",
  ignore: !posix,
  fn: () =>
    withTempDir(TEMP_PREFIX, (dir) => {
      const path = `${dir}/sensor.key`;
      const previous = Deno.umask(0o000);
      try {
        writeSecretFile(path, "-----BEGIN PRIVATE KEY-----\n");
      } finally {
        Deno.umask(previous);
      }
      equal(Deno.statSync(path).mode! & 0o777, 0o600);
      equal(Deno.readTextFileSync(path), "-----BEGIN PRIVATE KEY-----\n");
    }),
});

Deno.test({
  name: "writeSecretFile: replacing with force keeps mode 0600 and the new content",
  ignore: !posix,
  fn: () =>
    withTempDir(TEMP_PREFIX, (dir) => {
      const path = `${dir}/sensor.key`;
      Deno.writeTextFileSync(path, "old", { mode: 0o644 });
      Deno.chmodSync(path, 0o644);
      writeSecretFile(path, new Uint8Array([1, 2, 3]), { force: true });
      equal(Deno.statSync(path).mode! & 0o777, 0o600);
      deepStrictEqual(Deno.readFileSync(path), new Uint8Array([1, 2, 3]));
    }),
});

Deno.test("writeSecretFile: refuses to overwrite an existing file without force", () =>
  withTempDir(TEMP_PREFIX, (dir) => {
    const path = `${dir}/sensor.key`;
    writeSecretFile(path, "first");
    assertKeyFileError(() => writeSecretFile(path, "second"), "KEY_FILE_EXISTS", path);
    equal(Deno.readTextFileSync(path), "first");
  }));

Deno.test("writeSecretFile: leaves no temporary files behind, on success or refusal", () =>
  withTempDir(TEMP_PREFIX, (dir) => {
    const path = `${dir}/sensor.key`;
    writeSecretFile(path, "first");
    throws(() => writeSecretFile(path, "second"));
    deepStrictEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["sensor.key"]);
  }));

Deno.test("writeSecretFile: a missing directory is KEY_FILE_WRITE_FAILED naming the path", () =>
  withTempDir(TEMP_PREFIX, (dir) => {
    const path = `${dir}/nope/sensor.key`;
    assertKeyFileError(() => writeSecretFile(path, "x"), "KEY_FILE_WRITE_FAILED", path);
  }));

Deno.test({
  name: "writePublicFile: the file has mode 0644",
  ignore: !posix,
  fn: () =>
    withTempDir(TEMP_PREFIX, (dir) => {
      const path = `${dir}/sensor.pub`;
      writePublicFile(path, "-----BEGIN PUBLIC KEY-----\n");
      equal(Deno.statSync(path).mode! & 0o777, 0o644);
      assertKeyFileError(() => writePublicFile(path, "again"), "KEY_FILE_EXISTS", path);
    }),
});

Deno.test("writeFileAtomic: overwrite replaces the content in one step", () =>
  withTempDir(TEMP_PREFIX, (dir) => {
    const path = `${dir}/f`;
    writeFileAtomic(path, new TextEncoder().encode("one"), { mode: 0o600, overwrite: false });
    writeFileAtomic(path, new TextEncoder().encode("two"), { mode: 0o600, overwrite: true });
    equal(Deno.readTextFileSync(path), "two");
    throws(
      () => writeFileAtomic(path, new Uint8Array(0), { mode: 0o600, overwrite: false }),
      Deno.errors.AlreadyExists,
    );
  }));

Deno.test("readKeyFile: returns the bytes written", () =>
  withTempDir(TEMP_PREFIX, (dir) => {
    const path = `${dir}/k`;
    writeSecretFile(path, new Uint8Array([0, 255, 7]));
    deepStrictEqual(readKeyFile(path), new Uint8Array([0, 255, 7]));
  }));

Deno.test("readKeyFile: a missing file is KEY_FILE_MISSING with a one-line message naming the path", () =>
  withTempDir(TEMP_PREFIX, (dir) => {
    const path = `${dir}/absent.key`;
    assertKeyFileError(() => readKeyFile(path), "KEY_FILE_MISSING", path);
    assertKeyFileError(() => readKeyFileText(path), "KEY_FILE_MISSING", path);
  }));

Deno.test("readKeyFile: a directory is KEY_FILE_UNREADABLE naming the path", () =>
  withTempDir(TEMP_PREFIX, (dir) => {
    assertKeyFileError(() => readKeyFile(dir), "KEY_FILE_UNREADABLE", dir);
  }));

Deno.test("readKeyFileText: invalid UTF-8 is KEY_FILE_UNREADABLE", () =>
  withTempDir(TEMP_PREFIX, (dir) => {
    const path = `${dir}/k.pem`;
    Deno.writeFileSync(path, new Uint8Array([0xc3, 0x28]));
    assertKeyFileError(() => readKeyFileText(path), "KEY_FILE_UNREADABLE", path);
  }));

Deno.test({
  name: "checkPrivateKeyMode: 0600 passes, group or world access is reported with a fix",
  ignore: !posix,
  fn: () =>
    withTempDir(TEMP_PREFIX, (dir) => {
      const path = `${dir}/sensor.key`;
      writeSecretFile(path, "secret");
      deepStrictEqual(checkPrivateKeyMode(path), { ok: true, mode: 0o600 });
      for (const mode of [0o640, 0o604, 0o660, 0o644]) {
        Deno.chmodSync(path, mode);
        const check = checkPrivateKeyMode(path);
        ok(!check.ok);
        equal(check.code, "KEY_FILE_PERMISSIVE");
        equal(check.mode, mode);
        match(check.detail, /chmod 600/);
      }
    }),
});

Deno.test("checkPrivateKeyMode: a missing file is KEY_FILE_MISSING", () =>
  withTempDir(TEMP_PREFIX, (dir) => {
    const path = `${dir}/absent.key`;
    assertKeyFileError(() => checkPrivateKeyMode(path), "KEY_FILE_MISSING", path);
  }));
