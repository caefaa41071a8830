/**
 * The Phase II attacker: a broker client with its own account (`mallory`) that eavesdrops on `#`,
 * captures the sensor's envelopes, and then tries every attack class of docs/LOG.md against the secure
 * home — replays, forgeries, bit flips, time shifts, key swaps, downgrades, malformed input, and
 * broker-level attempts (anonymous login, a stolen username, a topic outside its ACL), and probes by an
 * account holder and from the wire (client-id takeover, a 200 MiB CONNECT before login, password
 * guessing, retained poison, credential sniffing through an on-path relay).
 *
 * Every malicious message is logged as `attack_sent` with its wire digest and an `expect` field: the
 * reason code `open()` should answer, worked out from what the attacker knows (the captured envelope, the
 * clock, the protocol's check order). `expect` is a test oracle only; `metrics` never trusts it and
 * judges success from the actuator's own log. The attacker never reads private keys or other accounts'
 * credentials: it knows the actuator's RSA public key, the home's DSA domain and its own password.
 *
 * This file is the role's entry point; the attacks live in `roles/attacks/`, one table entry
 * (`catalogue.ts`) and one recipe per class.
 * @module
 */

export {
  ATTACK_CATALOGUE,
  type AttackClassEntry,
  SECURE_ATTACK_CLASSES,
  type SecureAttackClass,
  THREAT_MODEL_TEXT,
  type ThreatModel,
} from "./attacks/catalogue.ts";
export { DEFAULT_TAKEOVER_CLIENT_ID, RETAIN_PROBE_MS, TAKEOVER_LISTEN_MS } from "./attacks/account.ts";
export { CAPTURE_POLL_MS } from "./attacks/capture.ts";
export { type ConnectReading, readConnect } from "./attacks/connect_packet.ts";
export { FRESH_COUNTER_OFFSET, REPLAY_SETTLE_MS } from "./attacks/context.ts";
export { GARBAGE_PAYLOAD_BYTES, NESTING_DEPTH, OVERSIZE_PAYLOAD_BYTES } from "./attacks/format.ts";
export type {
  AttackConnection,
  RelayObservation,
  RelayView,
  SecureAttackerDeps,
  SecureAttackExpectation,
  SecureAttackOptions,
} from "./attacks/options.ts";
export { CLOSE_TIMEOUT_MS, DEFAULT_MAX_IN_FLIGHT } from "./attacks/publish.ts";
export { DEFAULT_SECURE_ATTACK, runSecureAttacks } from "./attacks/run.ts";
export { type Relay, type RelayOptions, startRelay } from "./attacks/relay.ts";
export { TIME_SHIFT_MS } from "./attacks/time.ts";
export {
  openBrokerStream,
  PREAUTH_BUDGET_BYTES,
  PREAUTH_DECLARED_BYTES,
  PREAUTH_WINDOW_MS,
  SNIFF_WAIT_MS,
} from "./attacks/wire.ts";
