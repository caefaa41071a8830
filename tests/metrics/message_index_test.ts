import assert from "node:assert/strict";
import { MessageKeySet } from "../../metrics/attack_keys.ts";
import { bump, countOf, takeCodes } from "../../metrics/counts.ts";
import { hashKey, messageKey } from "../../metrics/message_key.ts";
import { PUBLICATION_FILTER_MIN_CELLS, PublicationFilter } from "../../metrics/publication_filter.ts";

const DIGEST = "9f86d081884c7d65";

Deno.test("a message key is the hex digest itself, XOR a hash of the topic when there is one", () => {
  assert.equal(messageKey(DIGEST, ""), 0x9f86d081884c7d65n);
  assert.notEqual(messageKey(DIGEST, "home/door"), messageKey(DIGEST, ""));
  assert.notEqual(messageKey(DIGEST, "home/door"), messageKey(DIGEST, "home/window"));
  assert.equal(messageKey("not-hex", "t"), messageKey("not-hex", "t"));
  assert.notEqual(messageKey("not-hex", ""), messageKey("not-hex2", ""));
});

Deno.test("hashKey tells apart the same characters split differently between its strings", () => {
  const a = new Uint32Array(2);
  const b = new Uint32Array(2);
  hashKey("ab", "c", "", a);
  hashKey("a", "bc", "", b);
  assert.notDeepEqual([...a], [...b]);
  hashKey("a", "bc", "", a);
  assert.deepEqual([...a], [...b]);
});

Deno.test("MessageKeySet dedups on seal and finds a key's rank, -1 for others; add after seal throws", () => {
  const keys = new MessageKeySet();
  for (const topic of ["b", "a", "b", "c", "a"]) keys.add(DIGEST, topic);
  keys.seal();
  assert.equal(keys.size, 3);
  const rows = ["a", "b", "c"].map((topic) => keys.find(DIGEST, topic)).sort();
  assert.deepEqual(rows, [0, 1, 2]);
  assert.equal(keys.find(DIGEST, "d"), -1);
  assert.throws(() => keys.add(DIGEST, "d"), /after seal/);
});

Deno.test("the publication filter hands out each publication once and remembers its epoch length", () => {
  const filter = new PublicationFilter(PUBLICATION_FILTER_MIN_CELLS);
  filter.add("secure", DIGEST, "home/door", 8);
  filter.add("secure", DIGEST, "home/door", 8);
  assert.equal(filter.epochOf("secure", DIGEST, "home/door"), 8);
  assert.equal(filter.claim("secure", DIGEST, "home/door"), true);
  assert.equal(filter.claim("secure", DIGEST, "home/door"), true);
  assert.equal(filter.claim("secure", DIGEST, "home/door"), false);
  assert.equal(filter.claim("insecure", DIGEST, "home/door"), false);
  filter.add("secure", DIGEST, "home/other", undefined);
  filter.remove("secure", DIGEST, "home/other");
  assert.equal(filter.claim("secure", DIGEST, "home/other"), false);
  assert.equal(filter.epochOf("secure", DIGEST, "home/other"), undefined);
  assert.throws(() => new PublicationFilter(1000), /power of two/);
});

Deno.test("counting helpers: bump caps new keys, takeCodes hands out in order, countOf sums", () => {
  const map = new Map([["A", 1]]);
  bump(map, "A", 2, 1);
  bump(map, "B", 1, 1);
  assert.deepEqual([...map], [["A", 3]]);
  const taken: [string, number][] = [];
  const rest = takeCodes([["X", 2], ["Y", 2]], 3, (code, n) => taken.push([code, n]));
  assert.deepEqual(taken, [["X", 2], ["Y", 1]]);
  assert.deepEqual(rest, [["Y", 1]]);
  assert.equal(countOf(rest), 1);
});
