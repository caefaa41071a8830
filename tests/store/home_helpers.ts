/**
 * Test helpers for loaders of a secure home: a keygen'd home in a temp dir that is removed afterwards,
 * and the check that an error is a one-line {@link KeyFileError} naming the file and ending with the fix.
 * @module
 */

import assert from "node:assert/strict";
import type { Suite } from "../../crypto/envelope.ts";
import { KeyFileError } from "../../store/keyfiles.ts";
import { makeTestHome } from "../integration/secure_home.ts";

/**
 * Runs `fn` with a fresh home (one sensor by default, the actuator, `mallory`), then removes it.
 * @example
 * ```ts
 * Deno.test("…", () => withTestHome(async (dir) => { … }));
 * ```
 */
export async function withTestHome(
  fn: (dir: string) => Promise<void>,
  options: { suite?: Suite; sensors?: string[] } = {},
): Promise<void> {
  const dir = await makeTestHome(options.suite, options.sensors);
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * A predicate for `assert.throws`/`assert.rejects`: a {@link KeyFileError} with `code` and `path`, whose
 * message is one line naming the path and ending with `; <fix>`.
 * @example
 * ```ts
 * assert.throws(() => readCredential(paths, "eve"), isKeyFileError("KEY_FILE_MISSING", path, "run secmqtt keygen --out keys"));
 * ```
 */
export function isKeyFileError(code: string, path: string, fix: string): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof KeyFileError, `expected a KeyFileError, got ${error}`);
    assert.equal(error.code, code);
    assert.equal(error.path, path);
    assert.ok(error.message.includes(path), `names the file: ${error.message}`);
    assert.ok(error.message.endsWith(`; ${fix}`), `ends with the fix: ${error.message}`);
    assert.ok(!error.message.includes("\n"), "one line");
    return true;
  };
}
