/**
 * The targets primed with the seeds: `open()` dependencies whose replay state and key cache have seen them,
 * and a Phase II actuator over an in-memory transport that acted on them.
 * @module
 */

import { EpochKeyCache, open, type OpenDeps, TIMESTAMP_WINDOW_MS } from "../../crypto/envelope.ts";
import { Log, nullLogWriter } from "../../log/jsonl.ts";
import {
  type ActuatorStats,
  type MessageOpener,
  type RunningActuator,
  startActuator,
} from "../../roles/actuator.ts";
import { SECURE_TOPIC_FILTER } from "../../roles/door.ts";
import { secureOpener, trustResolver } from "../../roles/secure_actuator.ts";
import { MemoryReplayStore } from "../../store/replay.ts";
import {
  activeSeeds,
  FUZZ_ACCEPTED_HIGHEST,
  FUZZ_QUEUE_LIMIT,
  FUZZ_SENDER_REVOKED,
  fuzzClock,
  type FuzzHome,
} from "./home.ts";

/** A Phase II actuator wired to an in-memory transport, and what it did beside its stats. */
export interface ActuatorRig {
  readonly actuator: RunningActuator;
  deliver(topic: string, payload: Uint8Array): void;
  readonly acted: { count: number };
  readonly openerErrors: unknown[];
  /** The highest counter the actuator's replay state holds for `sender` (undefined: none, or not an id). */
  highest(sender: string): bigint | undefined;
}

/**
 * Starts the actuator on a fresh replay state and feeds it the active seeds once: acted on, counters
 * committed, epoch keys cached. Throws if the seeds are not all acted on.
 * @example
 * ```ts
 * const rig = await startActuatorRig(home);
 * rig.deliver(SEED_TOPIC, payload);
 * await rig.actuator.idle();
 * ```
 */
export async function startActuatorRig(home: FuzzHome): Promise<ActuatorRig> {
  const clock = fuzzClock();
  const replay = new MemoryReplayStore();
  const opener = secureOpener({
    clock,
    trust: trustResolver(home.trustList),
    replay,
    recipientPrivateKey: home.recipientPrivateKey,
    timestampWindowMs: TIMESTAMP_WINDOW_MS,
    keyCache: new EpochKeyCache(),
  });
  const openerErrors: unknown[] = [];
  // The actuator turns an opener exception into a MALFORMED rejection; count it before it is hidden.
  const guardedOpener: MessageOpener = async (topic, payload) => {
    try {
      return await opener(topic, payload);
    } catch (error) {
      openerErrors.push(error);
      throw error;
    }
  };
  let handler: ((topic: string, payload: Uint8Array) => void) | undefined;
  const transport = {
    subscribe: () => Promise.resolve(),
    onMessage: (h: (topic: string, payload: Uint8Array) => void) => {
      handler = h;
    },
  };
  const acted = { count: 0 };
  const actuator = await startActuator(
    { topic: SECURE_TOPIC_FILTER, qos: 1, phase: "secure", queueLimit: FUZZ_QUEUE_LIMIT },
    {
      clock,
      log: new Log(nullLogWriter, { role: "actuator", run: "fuzz", clock }),
      transport,
      open: guardedOpener,
      act: () => {
        acted.count++;
      },
    },
  );
  const deliver = (topic: string, payload: Uint8Array) => handler!(topic, payload);
  // The seeds go through the real path once: acted on, counters committed, epoch keys cached.
  const active = activeSeeds(home);
  for (const seed of active) {
    deliver(seed.topic, seed.bytes);
    await actuator.idle();
  }
  if (actuator.stats.acted !== active.length) {
    throw new Error(`expected the ${active.length} seeds to be acted on, got ${actuator.stats.acted}`);
  }
  replay.accept(FUZZ_SENDER_REVOKED, FUZZ_ACCEPTED_HIGHEST[FUZZ_SENDER_REVOKED]);
  checkHighest(replay);
  acted.count = 0;
  const highest = (sender: string) => {
    try {
      return replay.highest(sender);
    } catch {
      return undefined;
    }
  };
  return { actuator, deliver, acted, openerErrors, highest };
}

function checkHighest(replay: MemoryReplayStore): void {
  for (const [sender, highest] of Object.entries(FUZZ_ACCEPTED_HIGHEST)) {
    if (replay.highest(sender) !== BigInt(highest)) {
      throw new Error(`expected ${sender}'s highest counter to be ${highest}, got ${replay.highest(sender)}`);
    }
  }
}

/**
 * `open()` dependencies that have opened every active seed (key cache warm, counters recorded).
 * @example
 * ```ts
 * const deps = await primedOpenDeps(home);
 * await open(payload, topic, deps);
 * ```
 */
export async function primedOpenDeps(home: FuzzHome): Promise<OpenDeps> {
  const keyCache = new EpochKeyCache();
  const replay = new MemoryReplayStore();
  const deps: OpenDeps = {
    clock: fuzzClock(),
    trust: trustResolver(home.trustList),
    replay,
    recipientPrivateKey: home.recipientPrivateKey,
    keyCache,
  };
  for (const seed of home.seeds) {
    if (seed.sender === FUZZ_SENDER_REVOKED) continue;
    const result = await open(seed.bytes, seed.topic, deps);
    if (!result.ok) throw new Error(`seed ${seed.sender}#${seed.counter} does not open: ${result.code}`);
    replay.accept(seed.sender, seed.counter);
  }
  replay.accept(FUZZ_SENDER_REVOKED, FUZZ_ACCEPTED_HIGHEST[FUZZ_SENDER_REVOKED]);
  checkHighest(replay);
  return deps;
}

/**
 * A copy of the actuator's stats that later deliveries do not change.
 * @example
 * ```ts
 * const before = snapshot(rig.actuator.stats);
 * ```
 */
export function snapshot(stats: ActuatorStats): ActuatorStats {
  return { ...stats, byCode: { ...stats.byCode } };
}
