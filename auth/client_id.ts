/**
 * Which account owns an MQTT client id. A client id names a session at the broker (its subscriptions and
 * queued messages), and a second CONNECT with the same id takes that session over, so in secure mode an
 * account may only use client ids in its own namespace:
 *
 * - the username itself (`door-actuator`), or
 * - the username, a `-`, and any suffix (`door-sensor-1-spare`), for extra instances of one account.
 *
 * Usernames may themselves contain `-`, so `door-sensor-1` could be read as account `door-sensor` plus
 * suffix `1`. The owner is therefore the account with the longest matching name: an exact username wins,
 * else the longest username `u` with the id starting `u-`. No account can reach into the namespace of an
 * account whose name extends its own.
 * @module
 */

/** Outcome of {@link checkClientId}. `owner` is the account whose id it is, if any. */
export type ClientIdCheck = { ok: true } | { ok: false; owner: string | undefined };

/**
 * The account that owns `clientId` among `accounts`, or undefined when it is in nobody's namespace.
 * @example
 * ```ts
 * clientIdOwner("door-sensor-1-b", new Set(["door-sensor", "door-sensor-1"])); // "door-sensor-1"
 * ```
 */
export function clientIdOwner(clientId: string, accounts: ReadonlySet<string>): string | undefined {
  if (accounts.has(clientId)) return clientId;
  // From the last "-" backwards: the first prefix that is an account is the longest one.
  for (let dash = clientId.lastIndexOf("-"); dash > 0; dash = clientId.lastIndexOf("-", dash - 1)) {
    const prefix = clientId.slice(0, dash);
    if (accounts.has(prefix)) return prefix;
  }
  return undefined;
}

/**
 * Decides whether `username` may connect with `clientId`: only when it owns the id.
 * @example
 * ```ts
 * checkClientId("mallory", "door-actuator", new Set(["mallory", "door-actuator"]));
 * // { ok: false, owner: "door-actuator" }
 * ```
 */
export function checkClientId(
  username: string,
  clientId: string,
  accounts: ReadonlySet<string>,
): ClientIdCheck {
  const owner = clientIdOwner(clientId, accounts);
  return owner === username ? { ok: true } : { ok: false, owner };
}
