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
/** Bytes signed: about what an envelope's signed bytes are. */
const SIGNED_BYTES = 400;

/**
 * Median time of one verification with `sensorId`'s key from the home (its suite), in ms.
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
