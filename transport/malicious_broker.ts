/**
 * A malicious MQTT broker for tests and demos: an embedded aedes broker that accepts every client and
 * every publish (QoS 1 publishers get their PUBACK as usual), and then misbehaves on the way out. For
 * each message it delivers to a subscriber it draws, from a seeded RNG, at most one misbehaviour:
 *
 * - `tamper-payload`: flips one bit of one byte of the payload;
 * - `tamper-topic`: delivers the payload on another topic;
 * - `drop`: never delivers it;
 * - `duplicate`: delivers it, then delivers a second copy;
 * - `delay`: delivers it `delayMs` later (after newer messages, when traffic is faster than that);
 * - `reorder`: holds it back and delivers it right after the next message to the same subscriber.
 *
 * Every misbehaviour is logged (`tampered`, `dropped`, `duplicated`, `delayed`, `reordered`) with the
 * digest of the original payload and of what was forwarded, so a test can tie each actuator verdict to
 * what the broker did. The broker never logs messages it forwarded honestly.
 * @module
 */

import net from "node:net";
import { Aedes } from "aedes";
import { payloadDigest } from "../core/digest.ts";
import type { Log } from "../log/jsonl.ts";

/** The misbehaviours, in the order their probabilities are stacked on one draw. */
export const MISBEHAVIOURS = [
  "tamper-payload",
  "tamper-topic",
  "drop",
  "duplicate",
  "delay",
  "reorder",
] as const;

/** One misbehaviour. */
export type Misbehaviour = typeof MISBEHAVIOURS[number];

/** Probability of each misbehaviour per delivered message; their sum must be at most 1. */
export type MisbehaviourRates = Partial<Record<Misbehaviour, number>>;

/** Options for {@link startMaliciousBroker}. */
export interface MaliciousBrokerOptions {
  /** Interface to bind; default 127.0.0.1. */
  host?: string;
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Where the misbehaviour events go. */
  log: Log;
  /** Seed of the RNG that picks misbehaviours, bytes and delays: same seed, same choices. */
  seed: number;
  /** Probability of each misbehaviour per delivered message. */
  rates: MisbehaviourRates;
  /** Only deliveries on topics starting with this prefix misbehave (default: every topic). */
  topicPrefix?: string;
  /** How long `delay` holds a message, ms (default 150). */
  delayMs?: number;
  /** How long `reorder` waits for a next message before delivering the held one anyway, ms (default 1000). */
  reorderTimeoutMs?: number;
  /** The topic a `tamper-topic` delivery is moved to (default: the topic with `/moved` appended). */
  rewriteTopic?: (topic: string) => string;
}

/** Counts of what the broker did. */
export type MaliciousStats = Record<Misbehaviour | "honest", number>;

/** A running malicious broker. */
export interface RunningMaliciousBroker {
  /** Bound port. */
  port: number;
  /** `mqtt://host:port`. */
  url: string;
  /** Live counts per misbehaviour (and `honest`). */
  readonly stats: MaliciousStats;
  /** Delivers everything still held back (delays, reorders), then stops. */
  close(): Promise<void>;
}

/** How long after a delivery an injected copy or a released message follows it, ms. */
const INJECT_BEHIND_MS = 10;

/** Largest delay or reorder timeout accepted, so a misconfigured test cannot hold messages for long. */
export const MAX_HOLD_MS = 60_000;

// deno-lint-ignore no-explicit-any
type AedesClient = any;
type Timer = ReturnType<typeof setTimeout>;
interface ForwardPacket {
  topic: string;
  payload: Uint8Array;
  qos: 0 | 1 | 2;
  retain?: boolean;
}

/**
 * mulberry32: a small, well-mixed 32-bit PRNG. Not for secrets; only so that a seed reproduces a run.
 * @example
 * ```ts
 * const rng = seededRandom(7); rng(); // a number in [0, 1)
 * ```
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Starts the malicious broker and resolves once it listens.
 * @example
 * ```ts
 * const evil = await startMaliciousBroker({ log, seed: 1, rates: { "tamper-payload": 0.1, drop: 0.1 } });
 * // point clients at evil.url …
 * await evil.close();
 * ```
 */
export async function startMaliciousBroker(options: MaliciousBrokerOptions): Promise<RunningMaliciousBroker> {
  const host = options.host ?? "127.0.0.1";
  const { log } = options;
  const delayMs = options.delayMs ?? 150;
  const reorderTimeoutMs = options.reorderTimeoutMs ?? 1000;
  const topicPrefix = options.topicPrefix ?? "";
  const rewriteTopic = options.rewriteTopic ?? ((topic: string) => `${topic}/moved`);
  const total = MISBEHAVIOURS.reduce((sum, m) => sum + (options.rates[m] ?? 0), 0);
  for (const m of MISBEHAVIOURS) {
    const rate = options.rates[m] ?? 0;
    if (!(rate >= 0 && rate <= 1)) throw new RangeError(`rate of ${m} must be in [0, 1], got ${rate}`);
  }
  if (total > 1 + 1e-9) throw new RangeError(`misbehaviour rates add up to ${total}, more than 1`);
  for (const [name, ms] of [["delayMs", delayMs], ["reorderTimeoutMs", reorderTimeoutMs]] as const) {
    if (!(ms >= 0 && ms <= MAX_HOLD_MS)) {
      throw new RangeError(`${name} must be in [0, ${MAX_HOLD_MS}], got ${ms}`);
    }
  }

  const random = seededRandom(options.seed);
  const stats = Object.fromEntries([...MISBEHAVIOURS, "honest"].map((k) => [k, 0])) as MaliciousStats;
  // Payload buffers this broker injects itself: they pass authorizeForward untouched, or a duplicate
  // would be tampered with again and a delayed message delayed forever.
  const injected = new WeakSet<object>();
  // One held-back message per subscriber, released after that subscriber's next delivery.
  const heldForReorder = new Map<AedesClient, { packet: ForwardPacket; timer: Timer; run: () => void }>();
  const timers = new Set<Timer>();
  const pending = new Set<() => void>();

  const aedes = await Aedes.createBroker();
  // deno-lint-ignore no-explicit-any
  const hooks = aedes as any;

  const pick = (): Misbehaviour | "honest" => {
    let r = random();
    for (const m of MISBEHAVIOURS) {
      const rate = options.rates[m] ?? 0;
      if (r < rate) return m;
      r -= rate;
    }
    return "honest";
  };

  /** Delivers `packet` to one subscriber as a fresh message from the broker, bypassing the misbehaviours. */
  const inject = (client: AedesClient, packet: ForwardPacket) => {
    if (client.closed) return;
    const payload = Buffer.from(packet.payload);
    injected.add(payload);
    client.publish(
      { cmd: "publish", topic: packet.topic, payload, qos: packet.qos, retain: false, dup: false },
      () => {},
    );
  };

  const later = (ms: number, run: () => void): Timer => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      pending.delete(run);
      run();
    }, ms);
    timers.add(timer);
    pending.add(run);
    return timer;
  };

  const releaseHeld = (client: AedesClient) => {
    const held = heldForReorder.get(client);
    if (!held) return;
    heldForReorder.delete(client);
    clearTimeout(held.timer);
    timers.delete(held.timer);
    pending.delete(held.run);
    // Behind the message now being delivered, whose write aedes schedules asynchronously.
    later(INJECT_BEHIND_MS, () => inject(client, held.packet));
  };

  hooks.authorizeForward = (client: AedesClient, packet: ForwardPacket) => {
    if (injected.has(packet.payload) || !packet.topic.startsWith(topicPrefix)) return packet;
    const digest = payloadDigest(packet.payload);
    const base = { client_id: client.id, topic: packet.topic, digest };
    const choice = pick();
    stats[choice]++;
    switch (choice) {
      case "honest":
        releaseHeld(client);
        return packet;
      case "tamper-payload": {
        const flipped = Buffer.from(packet.payload);
        if (flipped.length > 0) {
          const at = Math.floor(random() * flipped.length);
          flipped[at] ^= 1 << Math.floor(random() * 8);
        }
        log.event("tampered", {
          ...base,
          kind: "payload",
          forwarded_topic: packet.topic,
          forwarded_digest: payloadDigest(flipped),
        });
        releaseHeld(client);
        return { ...packet, payload: flipped };
      }
      case "tamper-topic": {
        const topic = rewriteTopic(packet.topic);
        log.event("tampered", { ...base, kind: "topic", forwarded_topic: topic, forwarded_digest: digest });
        releaseHeld(client);
        return { ...packet, topic };
      }
      case "drop":
        log.event("dropped", base);
        return null;
      case "duplicate": {
        log.event("duplicated", { ...base, forwarded_digest: digest, copies: 2 });
        releaseHeld(client);
        const copy = { ...packet };
        later(INJECT_BEHIND_MS, () => inject(client, copy));
        return packet;
      }
      case "delay": {
        log.event("delayed", { ...base, forwarded_digest: digest, delay_ms: delayMs });
        const copy = { ...packet };
        later(delayMs, () => inject(client, copy));
        return null;
      }
      case "reorder": {
        // A second reorder while one is held: the older one goes first, the new one waits in its place.
        const previous = heldForReorder.get(client);
        if (previous) releaseHeld(client);
        log.event("reordered", { ...base, forwarded_digest: digest });
        const copy = { ...packet };
        const run = () => {
          if (heldForReorder.get(client)?.packet === copy) heldForReorder.delete(client);
          inject(client, copy);
        };
        heldForReorder.set(client, { packet: copy, timer: later(reorderTimeoutMs, run), run });
        return null;
      }
    }
  };

  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    aedes.handle(socket);
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => resolve((server.address() as net.AddressInfo).port));
  }).catch(async (error) => {
    await new Promise<void>((r) => aedes.close(() => r()));
    throw error;
  });
  log.event("broker_listening", { host, port, secure: false, malicious: true, seed: options.seed });

  let closed: Promise<void> | undefined;
  return {
    port,
    url: `mqtt://${host}:${port}`,
    stats,
    close() {
      closed ??= (async () => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        for (const run of pending) run();
        pending.clear();
        heldForReorder.clear();
        // Let the injected messages reach the sockets before they close.
        await new Promise((r) => setTimeout(r, 50));
        const stopped = new Promise<void>((r) => server.close(() => r()));
        for (const socket of sockets) socket.destroy();
        await stopped;
        await new Promise<void>((r) => aedes.close(() => r()));
      })();
      return closed;
    },
  };
}
