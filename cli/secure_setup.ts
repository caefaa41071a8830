/**
 * Phase II wiring for the CLI roles (keys, trust list, replay store → sealer and opener).
 * @module
 */

import type { Clock } from "../core/clock.ts";
import type { Log } from "../log/jsonl.ts";
import type { MessageOpener } from "../roles/actuator.ts";
import type { ReadingSealer } from "../roles/sensor.ts";
import { type FlagSpec, type ParsedFlags, UsageError } from "./common.ts";

/** Flags that name a secure identity. */
export const SECURE_IDENTITY_FLAGS: FlagSpec = {
  keys: { type: "string" },
  id: { type: "string" },
};

/** Help lines for {@link SECURE_IDENTITY_FLAGS}. */
export const SECURE_IDENTITY_HELP =
  `  --keys DIR             --secure: the home made by 'secmqtt keygen' (default keys/)`;

/** Sensor-side Phase II setup. */
export function secureSensorSetup(
  _values: ParsedFlags["values"],
  _sensorId: string,
  _rekeyEvery: number,
  _topic: string,
): Promise<{ seal: ReadingSealer; nextCounter: () => Promise<number>; close(): void }> {
  throw new UsageError("--secure is not available yet");
}

/** Actuator-side Phase II setup. */
export function secureActuatorSetup(
  _values: ParsedFlags["values"],
  _actuatorId: string,
  _options: { windowMs: number; log: Log; clock: Clock },
): Promise<{ open: MessageOpener; close(): void }> {
  throw new UsageError("--secure is not available yet");
}
