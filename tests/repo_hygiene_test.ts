/**
 * A clone with nothing beside it must pass its own tests: no test, bench or source file may read a path
 * outside the repository (the vectors the tests use are vendored under tests/fixtures/).
 */

import assert from "node:assert/strict";
import { relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));
const SKIPPED_DIRS = new Set(["node_modules", ".tools", ".git", "out", "dist"]);

function* sourceFiles(dir: string): Generator<string> {
  for (const entry of Deno.readDirSync(dir)) {
    if (entry.isDirectory && !SKIPPED_DIRS.has(entry.name)) yield* sourceFiles(`${dir}/${entry.name}`);
    else if (entry.isFile && entry.name.endsWith(".ts")) yield `${dir}/${entry.name}`;
  }
}

/** Every `new URL("<relative>", import.meta.url)` literal in a file, as written. */
function relativeUrls(text: string): string[] {
  return [...text.matchAll(/new URL\(\s*"(\.[^"]*)",\s*import\.meta\.url\s*\)/g)].map((m) => m[1]);
}

Deno.test("no file URL relative to a module points outside the repository", () => {
  const escaping: string[] = [];
  let seen = 0;
  for (const file of sourceFiles(ROOT)) {
    for (const rel of relativeUrls(Deno.readTextFileSync(file))) {
      seen++;
      const target = resolve(file, "..", rel);
      if (relative(ROOT, target).startsWith("..")) escaping.push(`${relative(ROOT, file)}: ${rel}`);
    }
  }
  assert.ok(seen > 5, `found the module-relative URLs to check (${seen})`);
  assert.deepEqual(escaping, []);
});

Deno.test("no source file names the shared folder beside the clone", () => {
  const offenders: string[] = [];
  for (const file of sourceFiles(ROOT)) {
    if (/\.\.\/(\.\.\/)*shared\//.test(Deno.readTextFileSync(file))) offenders.push(relative(ROOT, file));
  }
  // This file names the pattern in its regex only.
  assert.deepEqual(offenders.filter((f) => f !== "tests/repo_hygiene_test.ts"), []);
});

Deno.test("the vendored Wycheproof vectors are present with their licence", () => {
  const dir = `${ROOT}/tests/fixtures/wycheproof`;
  const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
  for (const name of ["LICENSE", "README.md", "aes_gcm_test.json", "ed25519_test.json"]) {
    assert.ok(names.includes(name), `${name} in tests/fixtures/wycheproof`);
  }
  assert.match(Deno.readTextFileSync(`${dir}/LICENSE`), /Apache License/);
});
