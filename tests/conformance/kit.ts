/**
 * The conformance kit's file format (tests/conformance/README.md) as types, plus the reading of it that
 * the generator, the runners and the tests share.
 * @module
 */

import { REASON_CODES, type ReasonCode } from "../../crypto/envelope.ts";
import { RECEIVER_REASON_CODES, type ReceiverReasonCode } from "../../roles/secure_actuator.ts";

/** The `format` string of every scenario file. */
export const KIT_FORMAT = "secmqtt-conformance/1";
/** Where the kit lives. */
export const KIT_DIR = new URL("./", import.meta.url);
/** Scenario files, one per scenario. */
export const SCENARIO_DIR = new URL("./scenarios/", import.meta.url);

/** What a receiver decides for one delivered message (docs/PROTOCOL.md §6, "Verdicts"). */
export type Verdict = "accept" | "duplicate" | ReceiverReasonCode;
/** What the envelope layer alone (`open()`, checks 1–8) decides. */
export type OpenVerdict = "accept" | ReasonCode;

/** Every verdict a receiver can give, in the order of PROTOCOL.md's table. */
export const VERDICTS: readonly Verdict[] = ["accept", "duplicate", ...RECEIVER_REASON_CODES];

/** One message handed to the receiver. */
export interface DeliverStep {
  readonly action: "deliver";
  /** Why the step is there and what it shows. */
  readonly note: string;
  /** The receiver's clock for this step, ms since the Unix epoch. */
  readonly now_ms: number;
  /** The topic the message arrived on. */
  readonly topic: string;
  /** The exact message bytes, standard padded base64 (RFC 4648 §4). */
  readonly envelope_b64: string;
  /** The whole receiver's verdict (checks 0–10). */
  readonly expect: Verdict;
  /** The envelope layer's verdict (checks 1–8); absent for a step the envelope layer never sees. */
  readonly expect_open?: OpenVerdict;
  /** The receiver's input queue is full when this message arrives (check 0). */
  readonly receiver_overloaded?: true;
  /** Recording this message's counter fails (check 10). */
  readonly state_write_fails?: true;
  /** The sender has used up its rate when this message arrives (check 9b). */
  readonly sender_rate_exceeded?: true;
}

/** The receiver stops and starts again; durable replay state survives, everything else is new. */
export interface RestartStep {
  readonly action: "restart";
  /** Why the step is there. */
  readonly note: string;
  /** A new trust list (trust.json content) read at the start; absent: the same as before. */
  readonly trust?: TrustJson;
}

/** One step of a scenario. */
export type Step = DeliverStep | RestartStep;

/** `trust.json` as docs/PROTOCOL.md §10 specifies it. */
export interface TrustJson {
  readonly version: 1;
  readonly senders: Record<string, { suite: string; public_key: string; status: "active" | "revoked" }>;
}

/** One scenario file. */
export interface Scenario {
  readonly format: typeof KIT_FORMAT;
  /** File name without `.json`. */
  readonly name: string;
  /** The suite whose envelopes the scenario is about (some steps use the other suite's sender too). */
  readonly suite: string;
  /** What the scenario shows. */
  readonly title: string;
  /** Sections of docs/PROTOCOL.md whose MUSTs the steps exercise. */
  readonly covers: readonly string[];
  /** The receiver as it starts. */
  readonly receiver: {
    /** PKCS#8 PEM file of the recipient's RSA key, relative to the kit directory. */
    readonly recipient_private_key: string;
    /** W of §8.1, ms. */
    readonly timestamp_window_ms: number;
    /** The trust list it reads at start. */
    readonly trust: TrustJson;
    /** Highest accepted counter per sender, already durable before the first step. */
    readonly replay_state: Record<string, number>;
  };
  /** The steps, in order. */
  readonly steps: readonly Step[];
}

/**
 * The envelope layer's verdict implied by a receiver verdict: checks 9, 9b and 10 come after `open()` accepted,
 * `duplicate` is `open()`'s `REPLAY`, and check 0 happens before `open()` is called.
 * @example
 * ```ts
 * openVerdictFor("BAD_READING", false); // "accept"
 * ```
 */
export function openVerdictFor(expect: Verdict, overloaded: boolean): OpenVerdict | undefined {
  if (overloaded) return undefined;
  if (expect === "duplicate") return "REPLAY";
  // TOPIC_MISMATCH (check 0b) is the receiver's binding of device topics to senders; the envelope itself is
  // valid for the topic it arrived on, so open() alone accepts it.
  if (["BAD_READING", "STATE_WRITE_FAILED", "RATE_LIMITED", "TOPIC_MISMATCH"].includes(expect)) {
    return "accept";
  }
  if (expect === "accept" || (REASON_CODES as readonly string[]).includes(expect)) {
    return expect as OpenVerdict;
  }
  throw new Error(`no envelope-layer verdict for ${expect}`);
}

/**
 * Reads every committed scenario, sorted by name.
 * @example
 * ```ts
 * const scenarios = await readScenarios();
 * ```
 */
export async function readScenarios(): Promise<Scenario[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(SCENARIO_DIR)) {
    if (entry.isFile && entry.name.endsWith(".json")) names.push(entry.name);
  }
  names.sort();
  return await Promise.all(
    names.map(async (name) => JSON.parse(await Deno.readTextFile(new URL(name, SCENARIO_DIR))) as Scenario),
  );
}
