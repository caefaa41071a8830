/**
 * Builds the embedded broker's policy from Mosquitto password and ACL files, with Mosquitto 2's
 * semantics: no anonymous clients, passwords checked against the file, publishes checked for `write`
 * and deliveries for `read`; subscriptions themselves are granted (Mosquitto filters what they deliver).
 * @module
 */

import { isAllowed, parseAcl } from "../auth/acl.ts";
import { parsePasswordFile, verifyPassword } from "../auth/passwd.ts";
import type { BrokerPolicy } from "../transport/broker.ts";
import { UsageError } from "./common.ts";

const decoder = new TextDecoder();

function readConfig(path: string | undefined, flag: string): string {
  if (path === undefined) throw new UsageError(`--secure needs ${flag}`);
  try {
    return Deno.readTextFileSync(path);
  } catch {
    throw new UsageError(`cannot read ${flag} ${path}`);
  }
}

/**
 * Loads the password and ACL files into a {@link BrokerPolicy}; a missing or malformed file is a
 * {@link UsageError} (one line, exit 2).
 * @example
 * ```ts
 * const policy = loadBrokerPolicy("keys/passwd", "keys/acl");
 * ```
 */
export function loadBrokerPolicy(passwordFile?: string, aclFile?: string): BrokerPolicy {
  const passwordText = readConfig(passwordFile, "--password-file");
  const aclText = readConfig(aclFile, "--acl-file");
  let passwords, acl;
  try {
    passwords = parsePasswordFile(passwordText);
  } catch (error) {
    throw new UsageError(`--password-file ${passwordFile}: ${(error as Error).message}`);
  }
  try {
    acl = parseAcl(aclText);
  } catch (error) {
    throw new UsageError(`--acl-file ${aclFile}: ${(error as Error).message}`);
  }
  return {
    authenticate(username, password) {
      if (username === undefined || password === undefined) return { ok: false, code: "ANONYMOUS" };
      const check = verifyPassword(passwords, username, decoder.decode(password));
      return check.ok ? { ok: true } : { ok: false, code: "NOT_AUTHORIZED" };
    },
    authorize({ username, clientId, topic, access }) {
      if (access === "subscribe") return true;
      return isAllowed(acl, { username, clientId, topic, access });
    },
  };
}
