/**
 * The cost of one signature verification on this machine, now: the yardstick for the actuator's
 * efficiency under load. `load` divides its accepted messages per actuator CPU-second by the verifies
 * per second this allows; 1.0 would be an actuator that spends its CPU on nothing but the signature.
 * @module
 */

import { SUITE_SIGNATURE_SCHEME } from "../crypto/envelope.ts";
import { importVerifyingKeyPem, signMessage, verifySignature } from "../crypto/signature.ts";
import { homePaths } from "../store/home.ts";
import { loadSensorIdentity } from "../store/identity.ts";
import { loadTrustList, lookup } from "../store/trust.ts";

/** Verifications timed; the median is reported, so a few preempted ones do not count. */
export const VERIFY_BASELINE_ROUNDS = 200;
/**
 * Verifications run first and not timed. The pure-TS DSA verify is BigInt code that V8 optimises only after
 * a few hundred calls: measured cold, its median was 0.77–0.80 ms here, warm 0.42–0.44 ms (5 runs of 200
 * each in one process), and the actuator under load runs it warm, so the yardstick must be warm too.
 */
export const VERIFY_WARMUP_ROUNDS = 600;
/** Bytes signed: about what an envelope's signed bytes are. */
const SIGNED_BYTES = 400;
/** Verifications per sample taken while a run goes on (a few ms of the load process's time). */
export const VERIFY_SAMPLE_ROUNDS = 10;
/** How often a sample is taken during a run, ms. */
export const VERIFY_SAMPLE_EVERY_MS = 1000;

/**
 * The verify cost of one sensor's key, timed in samples. The machine's speed drifts (a run of `load` here
 * saw the same verify take 0.42 ms and, minutes later, 0.68 ms), so `load` takes a few samples every second
 * of its run, under the conditions the actuator works in, instead of one burst after it.
 * @example
 * ```ts
 * const yardstick = await VerifyYardstick.prepare("keys", "sensor-0001", "door-actuator");
 * yardstick.sample(10); // during the run, now and then
 * yardstick.median(); // ms
 * ```
 */
export class VerifyYardstick {
  readonly #times: number[] = [];
  readonly #verifyOnce: () => Promise<boolean>;

  private constructor(verifyOnce: () => Promise<boolean>) {
    this.#verifyOnce = verifyOnce;
  }

  /**
   * Loads `sensorId`'s keys from the home, signs one message and runs {@link VERIFY_WARMUP_ROUNDS}
   * untimed verifications.
   * @example
   * ```ts
   * const yardstick = await VerifyYardstick.prepare("keys", "sensor-0001", "door-actuator");
   * ```
   */
  static async prepare(keysDir: string, sensorId: string, actuatorId: string): Promise<VerifyYardstick> {
    const paths = homePaths(keysDir);
    const { suite, signingKey } = await loadSensorIdentity(paths, sensorId, actuatorId);
    const listed = lookup(loadTrustList(paths.trust), sensorId);
    if (listed === undefined) throw new Error(`${sensorId} is not in ${paths.trust}`);
    const verifyingKey = await importVerifyingKeyPem(SUITE_SIGNATURE_SCHEME[suite], listed.publicKeyPem);
    const message = crypto.getRandomValues(new Uint8Array(SIGNED_BYTES));
    const signature = await signMessage(signingKey, message);
    const yardstick = new VerifyYardstick(() => verifySignature(verifyingKey, message, signature));
    for (let i = 0; i < VERIFY_WARMUP_ROUNDS; i++) await yardstick.#verifyOnce();
    return yardstick;
  }

  /**
   * Times `rounds` verifications. Both schemes verify synchronously inside the call (pure-TS DSA,
   * node:crypto Ed25519), so what is timed is the call itself: no other task of this process can run
   * between the two clock readings. Throws if the signature stops verifying.
   * @example
   * ```ts
   * await yardstick.sample(10);
   * ```
   */
  async sample(rounds: number): Promise<void> {
    for (let i = 0; i < rounds; i++) {
      const start = performance.now();
      const verdict = this.#verifyOnce();
      this.#times.push(performance.now() - start);
      if (!(await verdict)) throw new Error("the baseline signature does not verify");
    }
  }

  /** Verifications timed so far. */
  get count(): number {
    return this.#times.length;
  }

  /**
   * Median of every timed verification, ms (NaN before the first sample).
   * @example
   * ```ts
   * yardstick.median(); // 0.43
   * ```
   */
  median(): number {
    const sorted = [...this.#times].sort((a, b) => a - b);
    return sorted.length === 0 ? NaN : sorted[Math.floor(sorted.length / 2)];
  }
}

/**
 * Median time of one verification with `sensorId`'s key from the home (its suite), in ms, after
 * {@link VERIFY_WARMUP_ROUNDS} untimed ones.
 * @example
 * ```ts
 * const verifyMs = await measureVerifyMs("keys", "sensor-0001", "door-actuator"); // 0.49
 * ```
 */
export async function measureVerifyMs(
  keysDir: string,
  sensorId: string,
  actuatorId: string,
  rounds = VERIFY_BASELINE_ROUNDS,
): Promise<number> {
  const yardstick = await VerifyYardstick.prepare(keysDir, sensorId, actuatorId);
  await yardstick.sample(rounds);
  return yardstick.median();
}
