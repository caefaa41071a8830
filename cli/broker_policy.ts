/**
 * Builds the embedded broker's policy from Mosquitto password and ACL files.
 * @module
 */

import type { BrokerPolicy } from "../transport/broker.ts";
import { UsageError } from "./common.ts";

/** Loads the password and ACL files into a {@link BrokerPolicy}. */
export function loadBrokerPolicy(_passwordFile?: string, _aclFile?: string): Promise<BrokerPolicy> {
  throw new UsageError("--secure is not available yet");
}
