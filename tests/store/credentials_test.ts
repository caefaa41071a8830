/** The one reader of a home's broker credentials: first-line parsing and one-line typed errors with the fix. */

import assert from "node:assert/strict";
import { findCredential, parseCredential, readCredential } from "../../store/credentials.ts";
import { homePaths } from "../../store/home.ts";
import { KeyFileError, writeSecretFile } from "../../store/keyfiles.ts";
import { isKeyFileError } from "./home_helpers.ts";

async function withHome(fn: (dir: string) => void | Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "secmqtt-credentials-" });
  try {
    Deno.mkdirSync(homePaths(dir).credentialsDir);
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("parseCredential: the password is the first line, LF or CRLF, untrimmed", () => {
  assert.equal(parseCredential("s3cret\n", "f"), "s3cret");
  assert.equal(parseCredential("s3cret\r\nsecond line\n", "f"), "s3cret");
  assert.equal(parseCredential("s3cret", "f"), "s3cret");
  assert.equal(parseCredential(" pass with spaces \n", "f"), " pass with spaces ");
});

Deno.test("parseCredential: an empty first line is KEY_FILE_EMPTY naming the file", () => {
  assert.throws(
    () => parseCredential("\nlater\n", "keys/credentials/x.password", "fix it"),
    isKeyFileError("KEY_FILE_EMPTY", "keys/credentials/x.password", "fix it"),
  );
});

Deno.test("readCredential: reads credentials/<user>.password as keygen writes it", () =>
  withHome((dir) => {
    const paths = homePaths(dir);
    writeSecretFile(paths.credential("door-sensor-1"), "Zm9vYmFy\n");
    assert.deepEqual(readCredential(paths, "door-sensor-1"), {
      username: "door-sensor-1",
      password: "Zm9vYmFy",
    });
  }));

Deno.test("readCredential: a missing file is KEY_FILE_MISSING with the OS reason and the keygen fix", () =>
  withHome((dir) => {
    const paths = homePaths(dir);
    const path = paths.credential("nobody");
    assert.throws(
      () => readCredential(paths, "nobody"),
      isKeyFileError("KEY_FILE_MISSING", path, `run secmqtt keygen --out ${dir}`),
    );
    assert.throws(() => readCredential(paths, "nobody"), /No such file or directory/);
  }));

Deno.test("readCredential: a directory in its place is KEY_FILE_UNREADABLE; the caller's fix is used", () =>
  withHome((dir) => {
    const paths = homePaths(dir);
    Deno.mkdirSync(paths.credential("odd"));
    assert.throws(
      () => readCredential(paths, "odd", "remove it"),
      isKeyFileError("KEY_FILE_UNREADABLE", paths.credential("odd"), "remove it"),
    );
  }));

Deno.test("readCredential: an empty file is KEY_FILE_EMPTY with the keygen fix", () =>
  withHome((dir) => {
    const paths = homePaths(dir);
    writeSecretFile(paths.credential("empty"), "");
    assert.throws(
      () => readCredential(paths, "empty"),
      isKeyFileError("KEY_FILE_EMPTY", paths.credential("empty"), `run secmqtt keygen --out ${dir}`),
    );
  }));

Deno.test("findCredential: no account is undefined, a broken one still throws", () =>
  withHome((dir) => {
    const paths = homePaths(dir);
    assert.equal(findCredential(paths, "nobody"), undefined);
    writeSecretFile(paths.credential("door-actuator"), "pw\n");
    assert.deepEqual(findCredential(paths, "door-actuator"), { username: "door-actuator", password: "pw" });
    writeSecretFile(paths.credential("empty"), "\n");
    assert.throws(() => findCredential(paths, "empty"), (e: unknown) =>
      e instanceof KeyFileError && e.code === "KEY_FILE_EMPTY");
  }));
