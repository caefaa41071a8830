/**
 * Wiring shared by the role subcommands: connecting the MQTT client with one-line errors, and running a role
 * until SIGINT/SIGTERM.
 * @module
 */

import { systemClock } from "../core/clock.ts";
import { CodedError } from "../core/errors.ts";
import type { Log } from "../log/jsonl.ts";
import type { MqttTransport } from "../transport/client.ts";
import {
  ConnectionWatch,
  type ConnectPolicy,
  connectWithPolicy,
  DEFAULT_CONNECT_POLICY,
} from "../transport/connect_policy.ts";
import type { CliIO } from "./command.ts";
import type { ConnectionOptions } from "./common.ts";

/** A failure the CLI reports as one line and exit code 1 (a runtime problem, not a usage error). */
export class RuntimeFailure extends CodedError<string> {
  /** Exit-status kind: the run failed. */
  readonly kind = "state";
}

/** What {@link connectRole} reports to, besides connecting: the user's terminal and the role's log. */
export interface ConnectReporting {
  /** Where waiting and outage lines go (stderr in the CLI), and the signal that ends the wait. */
  io?: Pick<CliIO, "err" | "signal">;
  /** The role's log: `disconnected` and `reconnected` events land here. */
  log?: Log;
  /** The first-connect policy; {@link DEFAULT_CONNECT_POLICY} unless given. */
  policy?: ConnectPolicy;
}

/**
 * Connects with the resolved connection options under the one connection policy
 * (transport/connect_policy.ts): a broker that is not up yet is waited for with backoff for a bounded
 * time, and every later outage is printed and logged once as `disconnected`, then `reconnected`.
 * A refused or failed connection rejects with a TransportError (kind `state`: exit 1).
 * @example
 * ```ts
 * const transport = await connectRole(conn, "sensor", {}, { io, log });
 * ```
 */
export async function connectRole(
  conn: ConnectionOptions,
  role: string,
  extra: { clean?: boolean; reconnectPeriodMs?: number } = {},
  reporting: ConnectReporting = {},
): Promise<MqttTransport> {
  const { io, log } = reporting;
  const transport = await connectWithPolicy(
    {
      url: conn.url,
      username: conn.username,
      password: conn.password,
      // A secure broker accepts only client ids in the account's own namespace (auth/client_id.ts).
      clientId: conn.clientId ?? `${conn.username ?? role}-${crypto.randomUUID().slice(0, 6)}`,
      ca: conn.ca,
      ...extra,
    },
    reporting.policy ?? { ...DEFAULT_CONNECT_POLICY, firstConnectWindowMs: conn.connectWaitMs },
    {
      clock: systemClock,
      signal: io?.signal,
      onRetry: ({ waitMs, error }) =>
        io?.err(`${role}: ${error.message}; retrying in ${(waitMs / 1000).toFixed(2)} s`),
    },
  );
  const watch = new ConnectionWatch(systemClock);
  let closing = false;
  transport.onState((state) => {
    if (closing) return;
    const notice = watch.update(state);
    if (!notice) return;
    log?.event(notice.event, {
      broker: conn.url,
      ...(notice.event === "reconnected" ? { outage_ms: notice.outage_ms } : {}),
    });
    io?.err(
      notice.event === "disconnected"
        ? `${role}: lost the broker at ${conn.url}; reconnecting every second`
        : `${role}: reconnected to ${conn.url} after ${(notice.outage_ms / 1000).toFixed(1)} s`,
    );
  });
  const close = transport.close.bind(transport);
  return {
    ...transport,
    clientId: transport.clientId,
    close: () => {
      closing = true;
      // With the broker gone there is nothing in flight to wait for: a graceful end would only sit out
      // its grace period before the process can exit.
      if (watch.down) {
        close().catch(() => {});
        return Promise.resolve();
      }
      return close();
    },
  };
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
