/**
 * The Phase II attack catalogue: one entry per attack class, in the order the classes run. Adding a class
 * means adding its recipe (a `plan` and a `build`, in a module of this folder) and one entry here; the
 * class list, the CLI's `--attacks` choices and the driver all follow from this table.
 * @module
 */

import { clientIdTakeover, passwordGuessing, retainedPoison } from "./account.ts";
import { aclViolation, anonymousConnect, wrongPassword } from "./broker.ts";
import { forgedSignature, injectUnsigned, spoofOwnKey } from "./forgery.ts";
import { downgrade, malformed } from "./format.ts";
import type { AttackRecipe } from "./recipe.ts";
import { crossTopicReplay, replay } from "./replay.ts";
import { badSessionKey, bitflip } from "./tamper.ts";
import { futureTimestamp, staleTimestamp } from "./time.ts";
import { credentialSniff, preauthOversize } from "./wire.ts";

/**
 * Which attacker a class assumes (docs/THREAT_MODEL.md):
 * - `device-account`: the broker enforces keygen's files, and the attacker holds one account, which may
 *   write only its own topic `home/secure/<account>/door` (or none at all, for the login attacks);
 * - `broad-rights`: an open or compromised broker (or a mis-written ACL) lets the attacker write every
 *   device's topic, so envelopes in a victim's name reach the actuator on the victim's topic and the
 *   envelope's own checks have to stop them. keygen's `--attacker` account gets these rights for the demo.
 * @example
 * ```ts
 * const model: ThreatModel = "broad-rights";
 * ```
 */
export type ThreatModel = "device-account" | "broad-rights";

/**
 * Each {@link ThreatModel} in a few words, as the demo prints it.
 * @example
 * ```ts
 * THREAT_MODEL_TEXT["broad-rights"]; // "an open or compromised broker: …"
 * ```
 */
export const THREAT_MODEL_TEXT: Readonly<Record<ThreatModel, string>> = {
  "device-account": "the broker enforces the ACL; the attacker holds one device account",
  "broad-rights": "an open or compromised broker: the attacker may write every device's topic",
};

/**
 * One attack class: how it is planned and built, what it tries, and what stops it (docs/THREAT_MODEL.md).
 * @example
 * ```ts
 * const entry: AttackClassEntry = {
 *   ...zeroCounter,
 *   model: "broad-rights",
 *   description: "sets a captured envelope's counter to zero",
 *   defence: "signature over every field (BAD_SIGNATURE)",
 * };
 * ```
 */
export type AttackClassEntry = AttackRecipe & {
  /** The threat model the class runs under ({@link ThreatModel}). */
  model: ThreatModel;
  /** What the attacker tries, in one line. */
  description: string;
  /** The defence that stops it, and the reason code or broker answer it leads to. */
  defence: string;
};

/**
 * Every Phase II attack class, by its stable name (used in logs and metrics), in the order they run:
 * envelope-level classes, then broker-level ones, then probes (an account holder's and the wire's).
 * @example
 * ```ts
 * const { description, defence } = ATTACK_CATALOGUE["bitflip"];
 * ```
 */
export const ATTACK_CATALOGUE = {
  "replay": {
    ...replay,
    model: "broad-rights",
    description: "republishes a captured envelope unchanged, also after the actuator restarts",
    defence: "persistent per-sender counter, committed before acting (REPLAY)",
  },
  "cross-topic-replay": {
    ...crossTopicReplay,
    model: "device-account",
    description: "republishes a captured envelope on its own device topic, which the actuator listens on",
    defence: "the topic names the sender (TOPIC_MISMATCH); signature and AAD cover the topic too",
  },
  "inject-unsigned": {
    ...injectUnsigned,
    model: "broad-rights",
    description: "sends a fresh envelope in the sender's name with no, an empty or an all-zero signature",
    defence: "signature checked before anything is decrypted (MALFORMED, BAD_SIGNATURE)",
  },
  "spoof-own-key": {
    ...spoofOwnKey,
    model: "broad-rights",
    description:
      "signs a fresh envelope with a key of its own, as the sender, as itself, or in the other suite",
    defence: "trust list pins each sender's key and suite (BAD_SIGNATURE, UNKNOWN_SENDER, UNSUPPORTED); " +
      "another sender on the victim's topic is refused first (TOPIC_MISMATCH)",
  },
  "forged-signature": {
    ...forgedSignature,
    model: "broad-rights",
    description: "bumps a captured counter under a random signature or the original one",
    defence: "signature over every field (BAD_SIGNATURE)",
  },
  "bitflip": {
    ...bitflip,
    model: "broad-rights",
    description: "flips one bit in one field of a captured envelope",
    defence: "signature over every field, the suite and the wrapped key (BAD_SIGNATURE, UNKNOWN_SENDER); " +
      "a flipped sender is refused by the topic binding first (TOPIC_MISMATCH)",
  },
  "stale-timestamp": {
    ...staleTimestamp,
    model: "broad-rights",
    description: "moves a captured envelope's timestamp ten minutes (or all the way) into the past",
    defence: "timestamp window, checked before the signature (STALE)",
  },
  "future-timestamp": {
    ...futureTimestamp,
    model: "broad-rights",
    description: "moves a captured envelope's timestamp ten minutes (or all the way) into the future",
    defence: "timestamp window, checked before the signature (FUTURE)",
  },
  "bad-session-key": {
    ...badSessionKey,
    model: "broad-rights",
    description: "swaps in another capture's wrapped session key, or re-encrypts under a key of its own",
    defence: "signature covers the wrapped key (BAD_SIGNATURE)",
  },
  "downgrade": {
    ...downgrade,
    model: "broad-rights",
    description: "relabels the version or suite, or sends a Phase I plaintext reading instead",
    defence: "version and suite pinned per sender (UNSUPPORTED, MALFORMED)",
  },
  "malformed": {
    ...malformed,
    model: "broad-rights",
    description: "sends garbage, truncated, oversized, deeply nested or non-canonical JSON",
    defence: "strict parsing: byte cap, canonical JSON, closed field set (MALFORMED)",
  },
  "anonymous-connect": {
    ...anonymousConnect,
    model: "device-account",
    description: "connects to the broker with no credentials",
    defence: "broker password file, no anonymous clients (NOT_AUTHORIZED at CONNECT)",
  },
  "wrong-password": {
    ...wrongPassword,
    model: "device-account",
    description: "connects as a victim's username with a guessed password",
    defence: "broker password file (NOT_AUTHORIZED at CONNECT)",
  },
  "acl-violation": {
    ...aclViolation,
    model: "device-account",
    description: "publishes with its own account to a topic outside its ACL",
    defence: "broker ACL: the publish is never delivered (BROKER_DENIED)",
  },
  "client-id-takeover": {
    ...clientIdTakeover,
    model: "device-account",
    description: "logs in with its own password under the actuator's client id and a persistent session",
    defence: "client id bound to its account (CLIENT_ID_NOT_OWNED; Mosquitto: use_username_as_clientid)",
  },
  "preauth-oversize": {
    ...preauthOversize,
    model: "device-account",
    description: "opens an unauthenticated connection whose CONNECT announces 200 MiB and streams into it",
    defence: "packet-size cap checked from the fixed header before login (PACKET_TOO_LARGE)",
  },
  "password-guessing": {
    ...passwordGuessing,
    model: "device-account",
    description: "guesses a device's broker password as fast as the broker answers",
    defence:
      "password file plus a growing delay per failed login that spares the real device (NOT_AUTHORIZED)",
  },
  "retained-poison": {
    ...retainedPoison,
    model: "device-account",
    description: "leaves a captured envelope as a retained message on a secure topic for later subscribers",
    defence: "no retained messages in secure mode (RETAIN_REFUSED; Mosquitto: retain_available false)",
  },
  "credential-sniff": {
    ...credentialSniff,
    model: "device-account",
    description: "relays a device's connection on the wire and reads the CONNECT's username and password",
    defence: "TLS on every hop: the relay sees only ciphertext (NOT_READABLE)",
  },
} satisfies Record<string, AttackClassEntry>;

/** One Phase II attack class. */
export type SecureAttackClass = keyof typeof ATTACK_CATALOGUE;

/**
 * Phase II attack classes, in the order they run: the keys of {@link ATTACK_CATALOGUE}.
 * @example
 * ```ts
 * const classes = SECURE_ATTACK_CLASSES.filter((c) => c !== "acl-violation");
 * ```
 */
export const SECURE_ATTACK_CLASSES: readonly SecureAttackClass[] = Object.freeze(
  Object.keys(ATTACK_CATALOGUE) as SecureAttackClass[],
);
