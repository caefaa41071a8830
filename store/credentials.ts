/**
 * Broker credentials of a secure home: `credentials/<user>.password`, the password keygen made for each
 * account. The one reader and the one parser of those files; every failure is a {@link KeyFileError}
 * whose one-line message names the file, the reason and the fix.
 * @module
 */

import { type HomePaths, keygenFix } from "./home.ts";
import { KeyFileError, readKeyFileText } from "./keyfiles.ts";

/** A broker account: MQTT username and password. */
export interface BrokerCredentials {
  username: string;
  password: string;
}

/** What a credential file is called in messages. */
const CREDENTIAL_LABEL = "broker password file";

/**
 * The password in a credential file's text: its first line. keygen writes the password and a newline;
 * a CRLF line end written by hand is tolerated. Nothing is trimmed beyond the line end, because a
 * password may begin or end with a space (as `--password-file` reads it). An empty first line is
 * {@link KeyFileError} `KEY_FILE_EMPTY`: an empty password would only be refused later by the broker.
 * @example
 * ```ts
 * parseCredential("s3cret\n", "keys/credentials/door-sensor-1.password"); // "s3cret"
 * ```
 */
export function parseCredential(
  text: string,
  path: string,
  fix: string = "write the password on its first line",
): string {
  const password = text.split(/\r?\n/)[0];
  if (password.length === 0) {
    throw new KeyFileError(
      "KEY_FILE_EMPTY",
      path,
      `${CREDENTIAL_LABEL} ${path} has no password on its first line; ${fix}`,
    );
  }
  return password;
}

/**
 * Reads the broker credentials of `username` from the home. A missing, unreadable or empty file throws
 * {@link KeyFileError} (`KEY_FILE_MISSING`, `KEY_FILE_UNREADABLE`, `KEY_FILE_EMPTY`) whose message names
 * the file, the OS reason and `fix` (default: run keygen for this home).
 * @example
 * ```ts
 * const { username, password } = readCredential(homePaths("keys"), "door-sensor-1");
 * ```
 */
export function readCredential(
  paths: HomePaths,
  username: string,
  fix: string = keygenFix(paths.dir),
): BrokerCredentials {
  const path = paths.credential(username);
  const text = readKeyFileText(path, { label: CREDENTIAL_LABEL, fix });
  return { username, password: parseCredential(text, path, fix) };
}

/**
 * Like {@link readCredential}, but a home with no credential file for `username` gives `undefined`: the
 * caller then connects with what it was given and lets the broker decide. A file that exists but cannot
 * be read or is empty still throws, so a broken home is reported instead of silently ignored.
 * @example
 * ```ts
 * const own = findCredential(homePaths("keys"), "door-actuator"); // undefined when keygen made no such account
 * ```
 */
export function findCredential(paths: HomePaths, username: string): BrokerCredentials | undefined {
  try {
    return readCredential(paths, username);
  } catch (error) {
    if (error instanceof KeyFileError && error.code === "KEY_FILE_MISSING") return undefined;
    throw error;
  }
}
