/**
 * Wiring shared by the role subcommands: connecting the MQTT client with one-line errors, and running a role
 * until SIGINT/SIGTERM.
 * @module
 */

import { connectMqtt, type MqttTransport, TransportError } from "../transport/client.ts";
import type { ConnectionOptions } from "./common.ts";

/** A failure the CLI reports as one line and exit code 1 (a runtime problem, not a usage error). */
export class RuntimeFailure extends Error {
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
 * Connects with the resolved connection options; a refused or failed connection becomes a {@link RuntimeFailure}.
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
  try {
    return await connectMqtt({
      url: conn.url,
      username: conn.username,
      password: conn.password,
      // A secure broker accepts only client ids in the account's own namespace (auth/client_id.ts).
      clientId: conn.clientId ?? `${conn.username ?? role}-${crypto.randomUUID().slice(0, 6)}`,
      ...extra,
    });
  } catch (error) {
    if (error instanceof TransportError) throw new RuntimeFailure(error.code, error.message);
    throw error;
  }
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
