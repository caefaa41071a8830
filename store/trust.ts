/**
 * The trust list (`trust.json`): which senders the actuator accepts, with their suite and public key.
 * docs/PROTOCOL.md §10 is its specification.
 *
 * ```json
 * { "version": 1,
 *   "senders": { "sensor-1": { "suite": "rsa-oaep-2048+aes-256-gcm+dsa-2048",
 *                              "public_key": "-----BEGIN PUBLIC KEY-----\n…", "status": "active" } } }
 * ```
 * Parsing is strict: unknown fields, a wrong version, a malformed id, suite, PEM or status are errors,
 * never ignored. Keys come back as PEM strings; importing them is the crypto layer's job.
 * @module
 */

import { fromPem, utf8Encode } from "../crypto/codec.ts";
import { writeFileAtomic } from "./keyfiles.ts";
import { CodedError, type ErrorKind } from "../core/errors.ts";
import { validateTrustKeys } from "./trust_validate.ts";

/** The only trust list format version this code reads and writes. */
export const TRUST_LIST_VERSION = 1;
/**
 * Sender ids as docs/PROTOCOL.md §3 defines them. Ids such as `__proto__` or `constructor` are valid, so
 * sender maps are only ever built with own data properties (`Object.fromEntries`, computed keys) and
 * read with `Object.hasOwn`, never with plain assignment or `in`.
 */
const SENDER_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
/**
 * Suite names: a short token. Any token is accepted here so that a trust list can name a suite newer than
 * its reader; a receiver treats a sender of a suite it does not implement as unknown (PROTOCOL.md §10).
 */
const SUITE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/;
/** Base64 characters per PEM line (RFC 7468 §2). */
const PEM_LINE_CHARS = 64;
const PEM_BEGIN = "-----BEGIN PUBLIC KEY-----";
const PEM_END = "-----END PUBLIC KEY-----";
/** Trust list files are public material: world readable, owner writable. */
const TRUST_FILE_MODE = 0o644;

/** Whether a sender is trusted. */
export type SenderStatus = "active" | "revoked";

/** One sender of the trust list, as stored in `trust.json`. */
export interface TrustEntry {
  /** Cryptographic suite the sender uses. */
  suite: string;
  /** SubjectPublicKeyInfo in PEM. */
  public_key: string;
  /** `revoked` senders stay listed so their messages are rejected by name, not as unknown. */
  status: SenderStatus;
}

/** The whole trust list. */
export interface TrustList {
  /** Format version, always {@link TRUST_LIST_VERSION}. */
  version: 1;
  /** Senders by id. */
  senders: Record<string, TrustEntry>;
}

/** What {@link lookup} returns for a listed sender. */
export interface TrustedSender {
  /** SubjectPublicKeyInfo in PEM, for the crypto layer to import. */
  publicKeyPem: string;
  /** Cryptographic suite the sender uses. */
  suite: string;
  /** The caller must reject messages of a `revoked` sender. */
  status: SenderStatus;
}

/** Stable codes of {@link TrustError}. */
export type TrustErrorCode =
  | "TRUST_MISSING"
  | "TRUST_UNREADABLE"
  | "TRUST_INVALID"
  | "TRUST_WRITE_FAILED"
  | "TRUST_UNKNOWN_SENDER"
  | "TRUST_SENDER_EXISTS";

/** Error of the trust list; the message names the file or sender and fits on one CLI line. */
export class TrustError extends CodedError<TrustErrorCode> {
  /** Exit-status kind: a failed write is a disk fault; the rest is about the file or sender named. */
  get kind(): ErrorKind {
    return this.code === "TRUST_WRITE_FAILED" ? "state" : "input";
  }
}

/**
 * A trust list with no senders.
 * @example
 * ```ts
 * const list = emptyTrustList(); // { version: 1, senders: {} }
 * ```
 */
export function emptyTrustList(): TrustList {
  return { version: TRUST_LIST_VERSION, senders: {} };
}

/**
 * Parses and strictly validates the text of a trust list; `source` names it in error messages.
 * @example
 * ```ts
 * const list = parseTrustList('{"version":1,"senders":{}}');
 * ```
 */
export function parseTrustList(text: string, source = "trust list"): TrustList {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new TrustError("TRUST_INVALID", `${source} is not valid JSON`, { cause: error });
  }
  const fail = (what: string): never => {
    throw new TrustError("TRUST_INVALID", `${source}: ${what}`);
  };
  if (!isPlainObject(data)) return fail("expected a JSON object");
  checkKeys(data, ["version", "senders"], "top level", fail);
  if (data.version !== TRUST_LIST_VERSION) {
    return fail(`expected "version": ${TRUST_LIST_VERSION}, got ${JSON.stringify(data.version)}`);
  }
  if (!isPlainObject(data.senders)) return fail(`expected "senders" to be an object`);
  const senders = Object.entries(data.senders).map(([id, raw]): [string, TrustEntry] => {
    const where = `sender ${JSON.stringify(id)}`;
    if (!SENDER_ID_PATTERN.test(id)) fail(`${where}: expected 1..64 letters, digits, ".", "_", "-"`);
    if (!isPlainObject(raw)) return fail(`${where}: expected an object`);
    checkKeys(raw, ["suite", "public_key", "status"], where, fail);
    return [id, checkEntry(raw.suite, raw.public_key, raw.status, where, fail)];
  });
  return { version: TRUST_LIST_VERSION, senders: Object.fromEntries(senders) };
}

/**
 * Serialises a trust list as stable, pretty-printed JSON (senders sorted by id, trailing newline).
 * @example
 * ```ts
 * formatTrustList(emptyTrustList()); // '{\n  "version": 1,\n  "senders": {}\n}\n'
 * ```
 */
export function formatTrustList(list: TrustList): string {
  // Validate on the way out too, so a bad in-memory list never reaches disk.
  const checked = parseTrustList(JSON.stringify(list), "trust list to save");
  const senders = Object.fromEntries(
    Object.keys(checked.senders).sort().map((id) => {
      const { suite, public_key, status } = checked.senders[id];
      return [id, { suite, public_key, status }];
    }),
  );
  return JSON.stringify({ version: checked.version, senders }, null, 2) + "\n";
}

/**
 * Reads and validates `trust.json`. Throws {@link TrustError}: `TRUST_MISSING`, `TRUST_UNREADABLE`
 * or `TRUST_INVALID`.
 * @example
 * ```ts
 * const list = loadTrustList("config/trust.json");
 * ```
 */
export function loadTrustList(path: string): TrustList {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new TrustError("TRUST_MISSING", `trust list not found: ${path}`, { cause: error });
    }
    throw new TrustError("TRUST_UNREADABLE", `cannot read trust list ${path}: ${describe(error)}`, {
      cause: error,
    });
  }
  return validateTrustKeys(parseTrustList(text, path), path);
}

/**
 * Writes `trust.json` atomically and durably (replacing any previous version).
 * @example
 * ```ts
 * saveTrustList("config/trust.json", revoke(loadTrustList("config/trust.json"), "sensor-2"));
 * ```
 */
export function saveTrustList(path: string, list: TrustList): void {
  const text = formatTrustList(list);
  try {
    writeFileAtomic(path, utf8Encode(text), { mode: TRUST_FILE_MODE, overwrite: true });
  } catch (error) {
    throw new TrustError("TRUST_WRITE_FAILED", `cannot write trust list ${path}: ${describe(error)}`, {
      cause: error,
    });
  }
}

/**
 * Returns a copy of `list` with a new active sender. Throws `TRUST_SENDER_EXISTS` if the id is listed
 * (revoked ids stay revoked: re-enrolling needs a new id) and `TRUST_INVALID` for a malformed entry.
 * @example
 * ```ts
 * const list = addSender(emptyTrustList(), "sensor-1", { suite: "dsa2048-sha256", publicKeyPem: pem });
 * ```
 */
export function addSender(
  list: TrustList,
  id: string,
  sender: { suite: string; publicKeyPem: string },
): TrustList {
  const fail = (what: string): never => {
    throw new TrustError("TRUST_INVALID", `sender ${JSON.stringify(id)}: ${what}`);
  };
  if (!SENDER_ID_PATTERN.test(id)) fail(`expected 1..64 letters, digits, ".", "_", "-"`);
  if (Object.hasOwn(list.senders, id)) {
    throw new TrustError("TRUST_SENDER_EXISTS", `sender ${JSON.stringify(id)} is already in the trust list`);
  }
  const entry = checkEntry(sender.suite, sender.publicKeyPem, "active", `sender ${JSON.stringify(id)}`, fail);
  return { version: TRUST_LIST_VERSION, senders: { ...list.senders, [id]: entry } };
}

/**
 * Returns a copy of `list` with sender `id` marked revoked. Throws `TRUST_UNKNOWN_SENDER` if absent.
 * @example
 * ```ts
 * const updated = revoke(list, "sensor-2");
 * lookup(updated, "sensor-2")?.status; // "revoked"
 * ```
 */
export function revoke(list: TrustList, id: string): TrustList {
  if (!Object.hasOwn(list.senders, id)) {
    throw new TrustError("TRUST_UNKNOWN_SENDER", `sender ${JSON.stringify(id)} is not in the trust list`);
  }
  return {
    version: TRUST_LIST_VERSION,
    senders: { ...list.senders, [id]: { ...list.senders[id], status: "revoked" } },
  };
}

/**
 * Finds a sender. Returns `undefined` for an unknown id (never a prototype property such as
 * `constructor`). A revoked sender is returned with `status: "revoked"`; rejecting it is the caller's job.
 * @example
 * ```ts
 * const sender = lookup(list, "sensor-1");
 * if (!sender || sender.status !== "active") return { ok: false, code: "UNKNOWN_SENDER" };
 * ```
 */
export function lookup(list: TrustList, sender: string): TrustedSender | undefined {
  if (!Object.hasOwn(list.senders, sender)) return undefined;
  const entry = list.senders[sender];
  return { publicKeyPem: entry.public_key, suite: entry.suite, status: entry.status };
}

function checkEntry(
  suite: unknown,
  publicKey: unknown,
  status: unknown,
  where: string,
  fail: (what: string) => never,
): TrustEntry {
  if (typeof suite !== "string" || !SUITE_PATTERN.test(suite)) {
    return fail(`${where}: expected "suite" to be a short token, got ${JSON.stringify(suite)}`);
  }
  if (typeof publicKey !== "string" || !isPublicKeyPem(publicKey)) {
    return fail(`${where}: expected "public_key" to be exactly one "PUBLIC KEY" PEM block`);
  }
  if (status !== "active" && status !== "revoked") {
    return fail(`${where}: expected "status" to be "active" or "revoked", got ${JSON.stringify(status)}`);
  }
  return { suite, public_key: publicKey, status };
}

/**
 * Strict SubjectPublicKeyInfo PEM (RFC 7468 §13): one block and nothing around it, full 64-character
 * lines except the last, padded base64 that decodes.
 */
function isPublicKeyPem(pem: string): boolean {
  const lines = pem.endsWith("\n") ? pem.slice(0, -1).split("\n") : pem.split("\n");
  if (lines.length < 3 || lines[0] !== PEM_BEGIN || lines[lines.length - 1] !== PEM_END) return false;
  const body = lines.slice(1, -1);
  const shapeOk = body.every((line, i) =>
    i < body.length - 1 ? line.length === PEM_LINE_CHARS : line.length > 0 && line.length <= PEM_LINE_CHARS
  );
  if (!shapeOk) return false;
  try {
    return fromPem("PUBLIC KEY", pem).length > 0;
  } catch {
    return false;
  }
}

function checkKeys(
  object: Record<string, unknown>,
  expected: readonly string[],
  where: string,
  fail: (what: string) => never,
): void {
  for (const key of Object.keys(object)) {
    if (!expected.includes(key)) fail(`${where}: unexpected field ${JSON.stringify(key)}`);
  }
  for (const key of expected) {
    if (!Object.hasOwn(object, key)) fail(`${where}: missing field ${JSON.stringify(key)}`);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
