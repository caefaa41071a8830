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
  const paths = homePaths(keysDir);
  const { suite, signingKey } = await loadSensorIdentity(paths, sensorId, actuatorId);
  const listed = lookup(loadTrustList(paths.trust), sensorId);
  if (listed === undefined) throw new Error(`${sensorId} is not in ${paths.trust}`);
  const verifyingKey = await importVerifyingKeyPem(SUITE_SIGNATURE_SCHEME[suite], listed.publicKeyPem);
  const message = crypto.getRandomValues(new Uint8Array(SIGNED_BYTES));
  const signature = await signMessage(signingKey, message);
  for (let i = 0; i < VERIFY_WARMUP_ROUNDS; i++) await verifySignature(verifyingKey, message, signature);
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const start = performance.now();
    const ok = await verifySignature(verifyingKey, message, signature);
    times.push(performance.now() - start);
    if (!ok) throw new Error("the baseline signature does not verify");
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}
