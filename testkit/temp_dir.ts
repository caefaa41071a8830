/**
 * Scratch folders and coded-error assertions for tests that touch the disk: one copy instead of one per
 * test file.
 * @module
 */

import { equal, ok, throws } from "node:assert/strict";
import type { SecmqttError } from "../core/errors.ts";

/**
 * Runs `fn` in a fresh temporary folder named with `prefix`, and removes the folder afterwards, whether
 * `fn` returned or threw.
 * @example
 * ```ts
 * await withTempDir("secmqtt-counter-", async (dir) => {
 *   await Deno.writeTextFile(`${dir}/c`, "1\n");
 * });
 * ```
 */
export async function withTempDir(
  prefix: string,
  fn: (dir: string) => void | Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * Asserts that `fn` throws an instance of `errorClass` whose `code` is `code`.
 * @example
 * ```ts
 * assertThrowsCode(() => new CounterStore(""), CounterError, "COUNTER_BAD_OPTION");
 * ```
 */
export function assertThrowsCode(
  fn: () => unknown,
  errorClass: abstract new (...args: never[]) => SecmqttError,
  code: string,
): void {
  throws(fn, (error: unknown) => {
    ok(error instanceof errorClass, `expected a ${errorClass.name}, got ${error}`);
    equal(error.code, code);
    return true;
  });
}
