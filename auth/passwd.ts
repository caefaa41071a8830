/**
 * Mosquitto password files (`password_file` in mosquitto.conf), read and written in the exact format
 * `mosquitto_passwd` 2.0 produces, one `username:hash` line per user:
 *
 * - `$7$<iterations>$<base64 salt>$<base64 hash>`: PBKDF2-HMAC-SHA512 (RFC 8018 §5.2) of the UTF-8
 *   password with a 12-byte salt, 64-byte output; `mosquitto_passwd` 2.0 uses 101 iterations.
 * - `$6$<base64 salt>$<base64 hash>`: SHA-512(password ‖ salt), 12-byte salt, the Mosquitto ≤ 1.6
 *   default. Read and verified for old files, never written.
 *
 * Base64 is standard and padded (RFC 4648 §4). Mosquitto refuses a salt that is not 12 bytes or a hash
 * that is not 64, so we do too.
 * @module
 */

import { createHash, pbkdf2Sync, timingSafeEqual } from "node:crypto";
import { fromBase64, toBase64, utf8Encode } from "../crypto/codec.ts";
import { CodedError } from "../core/errors.ts";

/** Iterations `mosquitto_passwd` 2.0 writes by default (its `PW_DEFAULT_ITERATIONS`). */
export const DEFAULT_PBKDF2_ITERATIONS = 101;
/** Largest iteration count we read, so a hostile file cannot make a login take minutes. */
export const MAX_PBKDF2_ITERATIONS = 10_000_000;
/** Salt length Mosquitto requires, in bytes. */
export const SALT_BYTES = 12;
/** Hash length Mosquitto requires (a full SHA-512 output), in bytes. */
export const HASH_BYTES = 64;

/** Stable codes of {@link PasswdError}. */
export type PasswdErrorCode = "PASSWD_MALFORMED" | "PASSWD_BAD_INPUT";

/** Error parsing a password file or building a line; the message gives the line number. */
export class PasswdError extends CodedError<PasswdErrorCode> {
  /** Exit-status kind: a malformed password file is bad input. */
  readonly kind = "input";
}

/** The decoded hash field of a password file line. */
export type PasswordHash =
  | { scheme: "pbkdf2-sha512"; iterations: number; salt: Uint8Array; hash: Uint8Array }
  | { scheme: "sha512"; salt: Uint8Array; hash: Uint8Array };

/** One user of a password file. */
export type PasswordEntry = { username: string } & PasswordHash;

/** A parsed password file. Usernames are unique. */
export interface PasswordFile {
  /** Entries in file order. */
  entries: PasswordEntry[];
}

/** Outcome of {@link verifyPassword}. Both failures must look the same to the client. */
export type PasswordCheck =
  | { ok: true; username: string }
  | { ok: false; code: "UNKNOWN_USER" | "WRONG_PASSWORD" };

/** Options of {@link hashPassword}. */
export interface HashPasswordOptions {
  /** PBKDF2 iteration count; default {@link DEFAULT_PBKDF2_ITERATIONS}, as `mosquitto_passwd`. */
  iterations?: number;
  /** 12-byte salt; default fresh random bytes. Pass one only to reproduce a known line. */
  salt?: Uint8Array;
}

/**
 * Hashes a password into the `$7$…` field `mosquitto_passwd` writes after `username:`.
 * @example
 * ```ts
 * hashPassword("s3cret"); // "$7$101$<16 base64 chars>$<88 base64 chars>"
 * ```
 */
export function hashPassword(password: string, options: HashPasswordOptions = {}): string {
  const iterations = options.iterations ?? DEFAULT_PBKDF2_ITERATIONS;
  const salt = options.salt ?? crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  checkPassword(password);
  if (!Number.isSafeInteger(iterations) || iterations < 1 || iterations > MAX_PBKDF2_ITERATIONS) {
    throw new PasswdError(
      "PASSWD_BAD_INPUT",
      `expected 1..${MAX_PBKDF2_ITERATIONS} iterations, got ${iterations}`,
    );
  }
  if (salt.length !== SALT_BYTES) {
    throw new PasswdError("PASSWD_BAD_INPUT", `expected a ${SALT_BYTES}-byte salt, got ${salt.length} bytes`);
  }
  const hash = pbkdf2(password, salt, iterations);
  return `$7$${iterations}$${toBase64(salt)}$${toBase64(hash)}`;
}

/**
 * One password file line, `username:hash`, without the newline.
 * @example
 * ```ts
 * formatPasswordLine("sensor-1", hashPassword("s3cret")); // "sensor-1:$7$101$…"
 * ```
 */
export function formatPasswordLine(username: string, hash: string): string {
  checkUsername(username);
  parseHash(hash, `hash for ${JSON.stringify(username)}`);
  return `${username}:${hash}`;
}

/**
 * A whole password file for the given users, hashing each password with fresh salt.
 * @example
 * ```ts
 * const text = createPasswordFile([{ username: "sensor-1", password: "a" }, { username: "actuator", password: "b" }]);
 * ```
 */
export function createPasswordFile(
  users: readonly { username: string; password: string }[],
  options: { iterations?: number } = {},
): string {
  const seen = new Set<string>();
  const lines = users.map(({ username, password }) => {
    if (seen.has(username)) {
      throw new PasswdError("PASSWD_BAD_INPUT", `duplicate username ${JSON.stringify(username)}`);
    }
    seen.add(username);
    return formatPasswordLine(username, hashPassword(password, { iterations: options.iterations }));
  });
  return lines.map((line) => line + "\n").join("");
}

/**
 * Parses a password file. Blank lines and lines starting with `#` are skipped; any other line must be
 * a valid `$7$` or `$6$` entry, and usernames must be unique (Mosquitto would silently pick one).
 * @example
 * ```ts
 * const file = parsePasswordFile(Deno.readTextFileSync("broker-config/passwd"));
 * ```
 */
export function parsePasswordFile(text: string): PasswordFile {
  const entries: PasswordEntry[] = [];
  const seen = new Set<string>();
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  lines.forEach((raw, index) => {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    const where = `password file line ${index + 1}`;
    if (line.trim() === "" || line.startsWith("#")) return;
    const colon = line.indexOf(":");
    if (colon <= 0) throw new PasswdError("PASSWD_MALFORMED", `${where}: expected "username:hash"`);
    const username = line.slice(0, colon);
    const hash = line.slice(colon + 1);
    if (!isValidUsername(username)) {
      throw new PasswdError("PASSWD_MALFORMED", `${where}: invalid username ${JSON.stringify(username)}`);
    }
    if (seen.has(username)) {
      throw new PasswdError("PASSWD_MALFORMED", `${where}: duplicate username ${JSON.stringify(username)}`);
    }
    seen.add(username);
    entries.push({ username, ...parseHash(hash, where) });
  });
  return { entries };
}

/**
 * Checks a username and password against a parsed file, comparing hashes in constant time. An
 * unknown user costs the same PBKDF2 work as a known one, so timing does not reveal which users exist.
 * @example
 * ```ts
 * const check = verifyPassword(file, "sensor-1", "s3cret");
 * if (!check.ok) return { ok: false, code: "BAD_CREDENTIALS" };
 * ```
 */
export function verifyPassword(file: PasswordFile, username: string, password: string): PasswordCheck {
  const entry = file.entries.find((e) => e.username === username);
  if (password.includes("\0")) {
    // Mosquitto hashes up to the first NUL (strlen); refuse rather than emulate the truncation.
    return { ok: false, code: entry ? "WRONG_PASSWORD" : "UNKNOWN_USER" };
  }
  if (!entry) {
    pbkdf2(password, new Uint8Array(SALT_BYTES), DEFAULT_PBKDF2_ITERATIONS);
    return { ok: false, code: "UNKNOWN_USER" };
  }
  const computed = entry.scheme === "pbkdf2-sha512"
    ? pbkdf2(password, entry.salt, entry.iterations)
    : new Uint8Array(createHash("sha512").update(utf8Encode(password)).update(entry.salt).digest());
  const match = computed.length === entry.hash.length && timingSafeEqual(computed, entry.hash);
  return match ? { ok: true, username } : { ok: false, code: "WRONG_PASSWORD" };
}

function parseHash(hash: string, where: string): PasswordHash {
  const fail = (what: string): never => {
    throw new PasswdError("PASSWD_MALFORMED", `${where}: ${what}`);
  };
  const parts = hash.split("$");
  // A hash starts with "$", so parts[0] is empty: ["", "7", iterations, salt, hash] or ["", "6", salt, hash].
  if (parts[0] !== "") return fail(`expected a hash starting with "$7$" or "$6$"`);
  if (parts[1] === "7") {
    if (parts.length !== 5) return fail(`expected "$7$<iterations>$<salt>$<hash>"`);
    if (!/^[1-9][0-9]{0,7}$/.test(parts[2]) || Number(parts[2]) > MAX_PBKDF2_ITERATIONS) {
      return fail(`expected 1..${MAX_PBKDF2_ITERATIONS} iterations, got ${JSON.stringify(parts[2])}`);
    }
    return {
      scheme: "pbkdf2-sha512",
      iterations: Number(parts[2]),
      salt: decodeField(parts[3], SALT_BYTES, "salt", fail),
      hash: decodeField(parts[4], HASH_BYTES, "hash", fail),
    };
  }
  if (parts[1] === "6") {
    if (parts.length !== 4) return fail(`expected "$6$<salt>$<hash>"`);
    return {
      scheme: "sha512",
      salt: decodeField(parts[2], SALT_BYTES, "salt", fail),
      hash: decodeField(parts[3], HASH_BYTES, "hash", fail),
    };
  }
  return fail(`unsupported hash type ${JSON.stringify(parts[1] ?? "")}; expected $7$ or $6$`);
}

function decodeField(text: string, length: number, name: string, fail: (what: string) => never): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = fromBase64(text);
  } catch {
    return fail(`${name} is not padded base64`);
  }
  if (bytes.length !== length) return fail(`expected a ${length}-byte ${name}, got ${bytes.length} bytes`);
  return bytes;
}

function pbkdf2(password: string, salt: Uint8Array, iterations: number): Uint8Array {
  return new Uint8Array(pbkdf2Sync(utf8Encode(password), salt, iterations, HASH_BYTES, "sha512"));
}

/**
 * Usernames Mosquitto reads back unchanged: non-empty, no `:` (the field separator), no line breaks or
 * NUL, no leading or trailing blanks (the broker trims them), and not starting with `#`.
 */
function isValidUsername(username: string): boolean {
  return username.length > 0 && !/[:\r\n\0]/.test(username) && username === username.trim() &&
    !username.startsWith("#");
}

function checkUsername(username: string): void {
  if (!isValidUsername(username)) {
    throw new PasswdError("PASSWD_BAD_INPUT", `invalid username ${JSON.stringify(username)}`);
  }
}

function checkPassword(password: string): void {
  if (password.includes("\0")) throw new PasswdError("PASSWD_BAD_INPUT", "password must not contain NUL");
}
