/**
 * bench/ and tests/ never import each other: what both need (fixture keys, broker launchers, the synthetic
 * log, the fuzz and end-to-end engines) lives in testkit/, which imports neither. A module-relative URL to
 * a `.ts` file (a script spawned as a child) counts as an import; data files such as tests/fixtures/ do not.
 */

import assert from "node:assert/strict";
import { relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));

/** For each folder, the top-level folders its code must not reach. */
const FORBIDDEN: Readonly<Record<string, readonly string[]>> = {
  bench: ["tests"],
  tests: ["bench"],
  testkit: ["bench", "tests"],
};

function* sourceFiles(dir: string): Generator<string> {
  for (const entry of Deno.readDirSync(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory && entry.name !== "fixtures") yield* sourceFiles(path);
    else if (entry.isFile && entry.name.endsWith(".ts")) yield path;
  }
}

/**
 * The relative specifiers of a module: static and dynamic imports, re-exports, and module-relative URLs
 * of `.ts` files.
 */
function relativeSpecifiers(text: string): string[] {
  const patterns = [
    /\bfrom\s*["'](\.[^"']*)["']/g,
    /\bimport\s*\(?\s*["'](\.[^"']*)["']/g,
    /new URL\(\s*["'](\.[^"']*\.ts)["']\s*,\s*import\.meta\.url\s*\)/g,
  ];
  return patterns.flatMap((pattern) => [...text.matchAll(pattern)].map((m) => m[1]));
}

/** The top-level folder of a repository path, or "" for a file at the root. */
function topFolder(path: string): string {
  const parts = relative(ROOT, path).split("/");
  return parts.length > 1 ? parts[0] : "";
}

function crossings(): { seen: number; crossing: string[] } {
  let seen = 0;
  const crossing: string[] = [];
  for (const [folder, forbidden] of Object.entries(FORBIDDEN)) {
    for (const file of sourceFiles(`${ROOT}/${folder}`)) {
      for (const specifier of relativeSpecifiers(Deno.readTextFileSync(file))) {
        seen++;
        const target = resolve(file, "..", specifier);
        if (forbidden.includes(topFolder(target))) crossing.push(`${relative(ROOT, file)} -> ${specifier}`);
      }
    }
  }
  return { seen, crossing };
}

Deno.test("the specifier scan finds static, dynamic and re-export imports and spawned scripts", () => {
  const text = [
    'import { a } from "../x/a.ts";',
    "import {\n  b,\n} from '../y/b.ts';",
    'export { c } from "./c.ts";',
    'const d = await import("../x/d.ts");',
    'import "./e.ts";',
    'const f = new URL("../x/f.ts", import.meta.url);',
    'const g = new URL("../y/fixtures/", import.meta.url);',
    'import { h } from "npm:h";',
  ].join("\n");
  assert.deepEqual(relativeSpecifiers(text).sort(), [
    "../x/a.ts",
    "../x/d.ts",
    "../x/f.ts",
    "../y/b.ts",
    "./c.ts",
    "./e.ts",
  ]);
});

Deno.test("bench/ and tests/ do not import each other, and testkit/ imports neither", () => {
  const { seen, crossing } = crossings();
  // bench/, tests/ and testkit/ import the project's modules by the hundred; a scan that found few is broken.
  assert.ok(seen > 100, `found only ${seen} relative specifiers`);
  assert.deepEqual(crossing, []);
});
