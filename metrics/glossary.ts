/**
 * The one table of words the report explains: what each attack class does and what each reason code means
 * (which check refused the message). summary.md and report.html both take their descriptions from here,
 * so the two never disagree. Class names follow docs/LOG.md, codes follow docs/LOG.md and docs/PROTOCOL.md.
 * @module
 */

import { CODE_DUPLICATE, CODE_NOT_READABLE, CODE_NOT_SEEN } from "./types.ts";

/** What the attacker does in each attack class (docs/LOG.md "attacker"). */
export const ATTACK_CLASS_DESCRIPTIONS: Readonly<Record<string, string>> = {
  "eavesdrop": "subscribes to the door topic and tries to read each door event it captures",
  "inject": "publishes a forged door command of its own on the door topic",
  "replay": "re-publishes a captured message byte for byte, later",
  "tamper": "changes a captured message (e.g. flips the door state) and re-publishes it",
  "cross-topic-replay": "re-publishes a captured envelope on another door's topic",
  "inject-unsigned": "publishes a door command with no, an empty, or a wrong-length signature",
  "spoof-own-key":
    "signs a door command with a key of its own, under the victim sensor's name or its own identity",
  "forged-signature": "keeps a captured envelope but replaces its signature (random or another message's)",
  "bitflip": "flips bits in one field of a captured envelope (ciphertext, tag, nonce, key, header)",
  "stale-timestamp": "re-stamps a message with a time older than the freshness window",
  "future-timestamp": "re-stamps a message with a time ahead of the freshness window",
  "bad-session-key": "swaps the wrapped session key for a random one or one taken from another message",
  "downgrade": "claims another protocol version or a weaker / different suite",
  "malformed": "sends bytes that are not a well-formed envelope (truncated, wrong types, oversize)",
  "anonymous-connect": "connects to the broker with no username and tries to publish",
  "wrong-password": "connects to the broker as the sensor with a wrong password",
  "acl-violation": "connects with its own valid account and publishes to a topic its ACL forbids",
};

/** The check that refused an attempt, by reason code (docs/LOG.md reason codes, plus the ones metrics adds). */
export const REASON_CODE_DESCRIPTIONS: Readonly<Record<string, string>> = {
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
  OVERLOADED: "actuator: refused because its bounded queue was full",
  STATE_WRITE_FAILED: "actuator: could not record the replay counter, so it acted on nothing",
  NOT_AUTHORIZED: "broker: refused the connection (no or wrong credentials)",
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
  CONNECT_FAILED: "broker (authentication, ACL)",
  PUBLISH_FAILED: "broker (authentication, ACL)",
  [CODE_NOT_SEEN]: "broker (authentication, ACL)",
  OVERSIZE: "shape checks",
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
 * describeAttackClass("replay"); // "re-publishes a captured message byte for byte, later"
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
