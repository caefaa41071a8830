import assert from "node:assert/strict";
import { REASON_CODES } from "../../crypto/envelope.ts";
import { ATTACK_CATALOGUE } from "../../roles/attacks/catalogue.ts";
import { RECEIVER_REASON_CODES } from "../../roles/secure_actuator.ts";
import {
  ATTACK_CLASS_DESCRIPTIONS,
  DEFENCE_STAGES,
  defenceStage,
  describeAttackClass,
  describeReasonCode,
  REASON_CODE_DESCRIPTIONS,
} from "../../metrics/glossary.ts";
import { CODE_DUPLICATE, CODE_NOT_READABLE, CODE_NOT_SEEN } from "../../metrics/types.ts";
import { INSECURE_ATTACK_CLASSES } from "../../roles/attacker.ts";
import { SECURE_ATTACK_CLASSES } from "../../roles/secure_attacker.ts";

Deno.test("every attack class the attackers run has a description", () => {
  for (const c of [...INSECURE_ATTACK_CLASSES, ...SECURE_ATTACK_CLASSES, "eavesdrop"]) {
    assert.ok(c in ATTACK_CLASS_DESCRIPTIONS, c);
  }
});

Deno.test("every reason code of the protocol and of metrics has a description and a defence stage", () => {
  for (const code of [...REASON_CODES, CODE_NOT_SEEN, CODE_DUPLICATE, CODE_NOT_READABLE, "NOT_AUTHORIZED"]) {
    assert.ok(code in REASON_CODE_DESCRIPTIONS, code);
    assert.notEqual(defenceStage(code), "other", code);
  }
});

Deno.test("unknown classes and codes get a fixed sentence and the stage 'other', never an error", () => {
  assert.match(describeAttackClass("teleport"), /not described/);
  assert.match(describeReasonCode("NEW_CODE"), /not described/);
  assert.equal(defenceStage("NEW_CODE"), "other");
  assert.equal(DEFENCE_STAGES.length <= 8, true, "eight colours of the palette suffice");
});

Deno.test("every Phase II class and every code the receiver can answer is described", () => {
  for (const name of Object.keys(ATTACK_CATALOGUE)) {
    assert.doesNotMatch(describeAttackClass(name), /not described/, name);
  }
  for (const code of RECEIVER_REASON_CODES) {
    assert.doesNotMatch(describeReasonCode(code), /not described/, code);
  }
});
