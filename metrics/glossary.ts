/**
 * The one table of words the report explains: what each attack class does and what each reason code means
 * (which check refused the message). summary.md and report.html both take their descriptions from here,
 * so the two never disagree. Class names follow docs/LOG.md, codes follow docs/LOG.md and docs/PROTOCOL.md.
 * @module
 */

import { ATTACK_CATALOGUE } from "../roles/attacks/catalogue.ts";
import { CODE_DUPLICATE, CODE_NOT_READABLE, CODE_NOT_SEEN } from "./types.ts";

/** Phase I's classes (roles/attacker.ts), which the Phase II catalogue does not describe. */
const PHASE_I_CLASS_DESCRIPTIONS: Readonly<Record<string, string>> = {
  "eavesdrop": "subscribes to the door topic and tries to read each door event it captures",
  "inject": "publishes a forged door command of its own on the door topic",
  "replay": "re-publishes a captured message byte for byte, later",
  "tamper": "changes a captured message (e.g. flips the door state) and re-publishes it",
};

/**
 * What the attacker does in each attack class: Phase I's, then every Phase II class as the attack catalogue
 * (roles/attacks/catalogue.ts, the one table of classes) describes it.
 */
export const ATTACK_CLASS_DESCRIPTIONS: Readonly<Record<string, string>> = {
  ...PHASE_I_CLASS_DESCRIPTIONS,
  ...Object.fromEntries(Object.entries(ATTACK_CATALOGUE).map(([name, entry]) => [name, entry.description])),
};

/** The check that refused an attempt, by reason code (docs/LOG.md reason codes, plus the ones metrics adds). */
export const REASON_CODE_DESCRIPTIONS: Readonly<Record<string, string>> = {
  TOPIC_MISMATCH:
    "actuator: an envelope on a device's topic in another sender's name, refused before any crypto",
  RATE_LIMITED:
    "actuator: an authentic sender over its rate limit (a compromised device cannot monopolise it)",
  OVERSIZE: "actuator: payload over the size limit, refused before parsing",
  MALFORMED: "actuator: not a well-formed message (encoding, JSON shape, field types or sizes)",
  UNSUPPORTED: "actuator: unknown protocol version or suite, or not the sender's own suite",
  UNKNOWN_SENDER: "actuator: sender is not in the trust list",
  REVOKED: "actuator: sender's key was revoked",
  STALE: "actuator: timestamp older than the freshness window",
  FUTURE: "actuator: timestamp ahead of the freshness window",
  BAD_SIGNATURE: "actuator: signature does not verify under the sender's trusted key",
  REPLAY: "actuator: counter not above the highest already accepted from this sender",
  BAD_KEY: "actuator: wrapped session key does not unwrap with the actuator's private key",
  BAD_CIPHERTEXT: "actuator: AES-GCM authentication of the ciphertext failed",
  OVERLOADED:
    "actuator: refused unjudged: its bounded queue was full, or the publisher spent its failure budget",
  STATE_WRITE_FAILED: "actuator: could not record the replay counter, so it acted on nothing",
  BAD_READING:
    "actuator: an authentic envelope whose door reading is not one from that sender (PROTOCOL.md §9)",
  NOT_AUTHORIZED: "broker: refused the connection (no or wrong credentials)",
  CONNECT_REFUSED: "broker: refused the connection (e.g. a client id that belongs to another account)",
  CLOSED_BEFORE_LOGIN: "broker: closed an unauthenticated connection before it could cost memory",
  DISCONNECTED: "broker: disconnected the client for what it sent (e.g. a retained message)",
  NO_SESSION: "broker: gave the attacker a session of her own, never the victim's messages",
  CONNECT_FAILED: "broker: the connection failed before it was authorised",
  PUBLISH_FAILED: "broker: refused the publish itself",
  [CODE_DUPLICATE]:
    "actuator: byte-identical to a message it had just acted on, taken as a QoS 1 redelivery and dropped",
  [CODE_NOT_SEEN]: "broker: never delivered it to the actuator (ACL denied, or lost on the way)",
  [CODE_NOT_READABLE]: "encryption: the captured message's door event could not be read",
};

/**
 * The stage of defence a reason code belongs to: the charts colour by stage (at most eight, so a
 * colour-blind-safe palette suffices) and print the code itself as text.
 */
export const DEFENCE_STAGES = [
  "broker (authentication, ACL)",
  "shape checks",
  "identity (trust list)",
  "freshness (time window)",
  "signature",
  "replay state",
  "decryption / confidentiality",
  "other",
] as const;

/** One entry of {@link DEFENCE_STAGES}. */
export type DefenceStage = typeof DEFENCE_STAGES[number];

const STAGE_OF_CODE: Readonly<Record<string, DefenceStage>> = {
  NOT_AUTHORIZED: "broker (authentication, ACL)",
  CONNECT_REFUSED: "broker (authentication, ACL)",
  CLOSED_BEFORE_LOGIN: "broker (authentication, ACL)",
  DISCONNECTED: "broker (authentication, ACL)",
  NO_SESSION: "broker (authentication, ACL)",
  CONNECT_FAILED: "broker (authentication, ACL)",
  PUBLISH_FAILED: "broker (authentication, ACL)",
  [CODE_NOT_SEEN]: "broker (authentication, ACL)",
  OVERSIZE: "shape checks",
  TOPIC_MISMATCH: "shape checks",
  RATE_LIMITED: "other",
  MALFORMED: "shape checks",
  UNSUPPORTED: "shape checks",
  UNKNOWN_SENDER: "identity (trust list)",
  REVOKED: "identity (trust list)",
  STALE: "freshness (time window)",
  FUTURE: "freshness (time window)",
  BAD_SIGNATURE: "signature",
  REPLAY: "replay state",
  [CODE_DUPLICATE]: "replay state",
  BAD_KEY: "decryption / confidentiality",
  BAD_CIPHERTEXT: "decryption / confidentiality",
  BAD_READING: "decryption / confidentiality",
  [CODE_NOT_READABLE]: "decryption / confidentiality",
};

/**
 * The defence stage that a reason code names; codes the glossary does not know are "other".
 * @example
 * ```ts
 * defenceStage("STALE"); // "freshness (time window)"
 * ```
 */
export function defenceStage(code: string): DefenceStage {
  return STAGE_OF_CODE[code] ?? "other";
}

/**
 * What an attack class does; a fixed sentence for a class the glossary does not know (a newer log).
 * @example
 * ```ts
 * describeAttackClass("inject"); // "publishes a forged door command of its own on the door topic"
 * ```
 */
export function describeAttackClass(name: string): string {
  return ATTACK_CLASS_DESCRIPTIONS[name] ?? "(not described: a class this version of secmqtt does not know)";
}

/**
 * What a reason code means; a fixed sentence for a code the glossary does not know.
 * @example
 * ```ts
 * describeReasonCode("REPLAY"); // "actuator: counter not above the highest already accepted from this sender"
 * ```
 */
export function describeReasonCode(code: string): string {
  return REASON_CODE_DESCRIPTIONS[code] ?? "(not described: a code this version of secmqtt does not know)";
}
