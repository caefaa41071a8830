/**
 * Wiring shared by the role subcommands: connecting the MQTT client with one-line errors, and running a role
 * until SIGINT/SIGTERM.
 * @module
 */

import { connectMqtt, type MqttTransport } from "../transport/client.ts";
import { SecmqttError } from "../core/errors.ts";
import type { ConnectionOptions } from "./common.ts";

/** A failure the CLI reports as one line and exit code 1 (a runtime problem, not a usage error). */
export class RuntimeFailure extends SecmqttError {
  /** Exit-status kind: the run failed. */
  readonly kind = "state";
  /** Stable code. */
  readonly code: string;
  /** @param code stable code @param message one line */
  constructor(code: string, message: string) {
    super(message);
    this.name = "RuntimeFailure";
    this.code = code;
  }
}

/**
 * Connects with the resolved connection options; a refused or failed connection rejects with a
 * TransportError (kind `state`: exit 1).
 * @example
 * ```ts
 * const transport = await connectRole(conn, "sensor");
 * ```
 */
export async function connectRole(
  conn: ConnectionOptions,
  role: string,
  extra: { clean?: boolean; reconnectPeriodMs?: number } = {},
): Promise<MqttTransport> {
  return await connectMqtt({
    url: conn.url,
    username: conn.username,
    password: conn.password,
    clientId: conn.clientId ?? `${role}-${crypto.randomUUID().slice(0, 6)}`,
    ...extra,
  });
}

/**
 * Resolves when the signal aborts (SIGINT/SIGTERM in the CLI).
 * @example
 * ```ts
 * await untilAborted(io.signal);
 * ```
 */
export function untilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
}
