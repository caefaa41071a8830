/**
 * What the Phase II attacker is told (options) and given (deps).
 * @module
 */

import type { Clock } from "../../core/clock.ts";
import type { RandomBytes, ReasonCode } from "../../crypto/envelope.ts";
import type { DsaDomain } from "../../crypto/signature.ts";
import type { Log } from "../../log/jsonl.ts";
import type { MqttTransport } from "../../transport/client.ts";
import type { SecureAttackClass } from "./catalogue.ts";

/**
 * What the attacker expects to happen to one malicious message: the reason code the actuator's `open()`
 * should give, or `BROKER_DENIED` when the broker should never deliver it.
 */
export type SecureAttackExpectation = ReasonCode | "BROKER_DENIED";

/** Attacker behaviour. */
export interface SecureAttackOptions {
  /** Classes to run, in this order (default all of `SECURE_ATTACK_CLASSES`). */
  classes: readonly SecureAttackClass[];
  /** Attempts per class, broker-level classes included. */
  attempts: number;
  /**
   * Attempts per broker-level and probe class (default `attempts`): each opens connections of its own and
   * waits on the broker (a login backoff of up to 1 s per refusal, a listening window), so a long run may
   * want fewer of them.
   */
  probeAttempts?: number;
  /** Topic the victim listens on (default `SECURE_TOPIC`). */
  topic: string;
  /** Give up waiting for `captureCount` envelopes after this long. */
  captureTimeoutMs: number;
  /** Envelopes on `topic` to capture before attacking (default 3). */
  captureCount: number;
  /** Ms between attempts (0 = none). */
  gapMs: number;
  /** Publish QoS. */
  qos: 0 | 1;
  /** Broker the attacker is on; logged only (connections come from deps). */
  brokerUrl: string;
  /** A victim's broker username, tried with a random password by `wrong-password`. */
  victimUsername: string;
  /** A topic outside the attacker's ACL, for `acl-violation` (default `home/secure/window`). */
  aclViolationTopic: string;
  /** Another topic the actuator listens on, for `cross-topic-replay` (default the attacker's own device topic). */
  crossTopic: string;
  /** The actuator's timestamp window, to compute honest expectations (default `TIMESTAMP_WINDOW_MS`). */
  timestampWindowMs?: number;
  /** Sender id assumed when nothing was captured (default `door-sensor-1`). */
  fallbackSender?: string;
  /** The client id whose session `client-id-takeover` tries to take (default `door-actuator`). */
  takeoverClientId?: string;
  /** Malicious publishes awaiting the broker's acknowledgement at once (default `DEFAULT_MAX_IN_FLIGHT`). */
  maxInFlight?: number;
}

/** A broker connection the attacker opens for one broker-level attempt or probe. */
export type AttackConnection = Pick<
  MqttTransport,
  "publish" | "subscribe" | "onMessage" | "onState" | "close"
>;

/** What an on-path relay read from one relayed connection (the password stays in memory, never logged). */
export interface RelayObservation {
  readable: boolean;
  username?: string;
  password?: Uint8Array;
}

/** What an on-path relay (roles/attacks/relay.ts) has read so far, as `credential-sniff` asks it. */
export interface RelayView {
  /** One entry per connection relayed: whether its CONNECT was readable, and what it carried. */
  observations(): readonly RelayObservation[];
}

/** What the Phase II attacker needs from the outside world. */
export interface SecureAttackerDeps {
  /** Wall clock and waits. */
  clock: Clock;
  /** The attacker's log. */
  log: Log;
  /** The attacker's main connection, logged in as its own account. */
  transport: Pick<MqttTransport, "publish" | "subscribe" | "onMessage">;
  /** Opens a fresh broker connection (for broker-level attempts); rejects with a `TransportError`. */
  connect: (
    opts: { username?: string; password?: string; clientId: string; clean?: boolean },
  ) => Promise<AttackConnection>;
  /** Opens a raw byte stream to the broker, TLS when it is `mqtts://` (for `preauth-oversize`). */
  openStream?: () => Promise<Deno.Conn>;
  /** An on-path relay a device was pointed at (for `credential-sniff`); without one the class is skipped. */
  relay?: RelayView;
  /** The attacker's own broker account (for `acl-violation`, one fresh connection per attempt). */
  ownCredentials: { username: string; password: string };
  /** The actuator's RSA-OAEP public key (public in the keys directory). */
  actuatorPublicKey: CryptoKey;
  /** The home's DSA domain (public); lets the attacker make DSA keys of its own. */
  dsaDomain?: DsaDomain;
  /** Restarts the victim; when given, `replay/after-restart` calls it once and then replays. */
  restartVictim?: () => Promise<void>;
  /** Random source (default WebCrypto). */
  randomBytes?: RandomBytes;
  /** Aborting stops after the attempt in progress. */
  signal?: AbortSignal;
}
