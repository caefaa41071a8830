/**
 * The embedded broker's policy from Mosquitto password and ACL files, with Mosquitto 2's semantics:
 * no anonymous clients, passwords checked against the file, publishes checked for `write` and
 * deliveries for `read`; subscriptions themselves are granted (Mosquitto filters what they deliver).
 * On top of Mosquitto's file semantics, a client id must belong to the account that logs in with it
 * (auth/client_id.ts), so no account can take over another's session.
 * @module
 */

import type { BrokerPolicy } from "../transport/broker.ts";
import { isAllowed, parseAcl } from "./acl.ts";
import { checkClientId } from "./client_id.ts";
import { parsePasswordFile, verifyPassword } from "./passwd.ts";
import { CodedError } from "../core/errors.ts";

/** A broker configuration file is missing or malformed; the CLI prints it as one line and exits 2. */
export class BrokerConfigError extends CodedError<"CONFIG_UNREADABLE" | "CONFIG_INVALID"> {
  /** Exit-status kind: a broker configuration file the user supplied. */
  readonly kind = "input";
}

const decoder = new TextDecoder();

function readConfig(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    throw new BrokerConfigError("CONFIG_UNREADABLE", `cannot read ${path}`);
  }
}

/**
 * Builds a {@link BrokerPolicy} from the text of a password file and an ACL file.
 * @example
 * ```ts
 * const policy = brokerPolicy(passwdText, aclText);
 * policy.authenticate("door-sensor-1", passwordBytes, "door-sensor-1"); // { ok: true }
 * policy.authenticate("mallory", malloryPassword, "door-actuator"); // { ok: false, code: "CLIENT_ID_NOT_OWNED", owner: "door-actuator" }
 * ```
 */
export function brokerPolicy(passwordText: string, aclText: string): BrokerPolicy {
  const passwords = parsePasswordFile(passwordText);
  const accounts = new Set(passwords.entries.map((e) => e.username));
  const acl = parseAcl(aclText);
  return {
    authenticate(username, password, clientId) {
      if (username === undefined || password === undefined) return { ok: false, code: "ANONYMOUS" };
      const check = verifyPassword(passwords, username, decoder.decode(password));
      if (!check.ok) return { ok: false, code: "NOT_AUTHORIZED" };
      // Only after the password: a stranger learns nothing about which client ids are whose.
      const id = checkClientId(username, clientId, accounts);
      return id.ok ? { ok: true } : { ok: false, code: "CLIENT_ID_NOT_OWNED", owner: id.owner };
    },
    authorize({ username, clientId, topic, access }) {
      if (access === "subscribe") return true;
      return isAllowed(acl, { username, clientId, topic, access });
    },
  };
}

/**
 * Loads both files into a {@link BrokerPolicy}; a missing or malformed file is a {@link BrokerConfigError}.
 * @example
 * ```ts
 * const policy = loadBrokerPolicy("keys/passwd", "keys/acl");
 * ```
 */
export function loadBrokerPolicy(passwordFile: string, aclFile: string): BrokerPolicy {
  const passwordText = readConfig(passwordFile);
  const aclText = readConfig(aclFile);
  try {
    return brokerPolicy(passwordText, aclText);
  } catch (error) {
    throw new BrokerConfigError(
      "CONFIG_INVALID",
      `${passwordFile} / ${aclFile}: ${(error as Error).message}`,
    );
  }
}
