import assert from "node:assert/strict";
import type { DigestEntry } from "../../metrics/attack_keys.ts";
import { resolveAttackKey } from "../../metrics/key_resolution.ts";

function entry(fields: Partial<DigestEntry>): DigestEntry {
  return { published: 0, actions: 0, duplicates: 0, pending: [], rejections: [], attacks: [], ...fields };
}

Deno.test("a replay of a message acted on once is blocked; acted on twice it succeeded", () => {
  const once = resolveAttackKey(entry({ published: 1, actions: 1, attacks: [["replay", 1]] }));
  assert.deepEqual(once.attacks, [{ attackClass: "replay", accepted: 0, codes: [["NOT_SEEN", 1]] }]);
  assert.equal(once.legit.accepted, 1);
  const twice = resolveAttackKey(entry({ published: 1, actions: 2, attacks: [["replay", 1]] }));
  assert.deepEqual(twice.attacks, [{ attackClass: "replay", accepted: 1, codes: [] }]);
  assert.equal(twice.legit.accepted, 1);
});

Deno.test("legit publications left unacted take the rejections first, the attack copies the rest", () => {
  const r = resolveAttackKey(entry({
    published: 2,
    actions: 1,
    rejections: [["STALE", 1], ["REPLAY", 2]],
    attacks: [["replay", 2]],
  }));
  assert.deepEqual(r.legit, {
    sent: 2,
    accepted: 1,
    falselyRejected: 1,
    notSeen: 0,
    duplicates: 0,
    rejectedByCode: [["STALE", 1]],
  });
  assert.deepEqual(r.attacks, [{ attackClass: "replay", accepted: 0, codes: [["REPLAY", 2]] }]);
  assert.deepEqual(r.unattributed, { actions: 0, rejected: [] });
});

Deno.test("attack copies take duplicates before NOT_SEEN; duplicates left over are legit redeliveries", () => {
  const r = resolveAttackKey(entry({ published: 1, actions: 1, duplicates: 3, attacks: [["replay", 2]] }));
  assert.deepEqual(r.attacks[0].codes, [["DUPLICATE", 2]]);
  assert.equal(r.legit.duplicates, 1);
  const short = resolveAttackKey(
    entry({ published: 1, actions: 1, duplicates: 1, attacks: [["replay", 3]] }),
  );
  assert.deepEqual(short.attacks[0].codes, [["DUPLICATE", 1], ["NOT_SEEN", 2]]);
  assert.equal(short.legit.duplicates, 0);
});

Deno.test("excess actions go to the classes in first-seen order, capped by their copies; the rest is nobody's", () => {
  const r = resolveAttackKey(entry({
    published: 0,
    actions: 4,
    rejections: [["MALFORMED", 1]],
    attacks: [["inject", 1], ["replay", 2]],
  }));
  assert.deepEqual(r.attacks.map((a) => [a.attackClass, a.accepted]), [["inject", 1], ["replay", 2]]);
  assert.deepEqual(r.unattributed, { actions: 1, rejected: [["MALFORMED", 1]] });
  assert.equal(r.legit.sent, 0);
});

Deno.test("a key no counted class sent leaves every reaction beyond the publications unattributed", () => {
  const r = resolveAttackKey(entry({ published: 1, actions: 2, duplicates: 2, rejections: [["REPLAY", 1]] }));
  assert.deepEqual(r.attacks, []);
  assert.deepEqual(r.unattributed, { actions: 1, rejected: [["REPLAY", 1]] });
  assert.equal(r.legit.duplicates, 2);
});
