/**
 * Key files on disk: secret keys written atomically with mode 0600, public keys with 0644, reads that
 * fail with one clear typed error, and a permission check for private keys.
 *
 * Atomic replacement follows the POSIX recipe: write a temporary file in the same directory, fsync it,
 * rename(2) (or link(2) when the target must not be clobbered) over the target, then fsync the
 * directory so the new directory entry itself survives a power cut.
 * @module
 */

import { toHex, utf8Decode, utf8Encode } from "../crypto/codec.ts";
import { CodedError, type ErrorKind } from "../core/errors.ts";

/** Mode of files holding secrets: owner read/write only. */
export const SECRET_FILE_MODE = 0o600;
/** Mode of files holding public material: world readable, owner writable. */
export const PUBLIC_FILE_MODE = 0o644;
/** Permission bits that must be clear on a private key file: any group or other access. */
const GROUP_OTHER_BITS = 0o077;

/** Stable codes of {@link KeyFileError}. */
export type KeyFileErrorCode =
  | "KEY_FILE_MISSING"
  | "KEY_FILE_UNREADABLE"
  | "KEY_FILE_EXISTS"
  | "KEY_FILE_WRITE_FAILED"
  | "KEY_FILE_EMPTY"
  | "KEY_FILE_INVALID";

/** Error reading or writing a key file; the message names the path and fits on one CLI line. */
export class KeyFileError extends CodedError<KeyFileErrorCode> {
  /** Exit-status kind: a failed write is a disk fault; the rest is about the path the user named. */
  get kind(): ErrorKind {
    return this.code === "KEY_FILE_WRITE_FAILED" ? "state" : "input";
  }
  /** The file concerned. */
  readonly path: string;
  /**
   * @param code stable error code
   * @param path the file concerned
   * @param message what was expected and what came, naming the path
   * @param options the underlying error, if any
   */
  constructor(code: KeyFileErrorCode, path: string, message: string, options?: ErrorOptions) {
    super(code, message, options);
    this.path = path;
  }
}

/** Options of {@link writeFileAtomic}. */
export interface AtomicWriteOptions {
  /** Permission bits of the new file, applied before any byte is written. */
  mode: number;
  /** Replace an existing file; when false an existing file makes the call throw `Deno.errors.AlreadyExists`. */
  overwrite: boolean;
}

/**
 * Durably and atomically writes `data` to `path`: readers see either the old file or the complete
 * new one, never a torn write, and once this returns the new content survives a crash or power cut.
 * Errors are the underlying `Deno.errors.*`; callers map them to their own typed errors.
 * @example
 * ```ts
 * writeFileAtomic("state/counter", new TextEncoder().encode("128\n"), { mode: 0o600, overwrite: true });
 * ```
 */
export function writeFileAtomic(path: string, data: Uint8Array, options: AtomicWriteOptions): void {
  const dir = parentDirectory(path);
  const tmp = `${path}.tmp-${randomSuffix()}`;
  const file = Deno.openSync(tmp, { write: true, createNew: true, mode: options.mode });
  try {
    try {
      // The umask may have removed bits from `mode` but never adds any; chmod makes the mode exact.
      if (Deno.build.os !== "windows") Deno.chmodSync(tmp, options.mode);
      let written = 0;
      while (written < data.length) written += file.writeSync(data.subarray(written));
      file.syncSync();
    } finally {
      file.close();
    }
    if (options.overwrite) {
      Deno.renameSync(tmp, path);
    } else {
      // link(2) fails with EEXIST instead of replacing, so "no overwrite" has no check-then-act race.
      Deno.linkSync(tmp, path);
      Deno.removeSync(tmp);
    }
  } catch (error) {
    try {
      Deno.removeSync(tmp);
    } catch {
      // Already renamed or never created: nothing to clean up.
    }
    throw error;
  }
  syncDirectory(dir);
}

/**
 * Writes a secret (private key, password) to `path` with mode 0600, atomically; refuses to replace an
 * existing file unless `force` is set.
 * @example
 * ```ts
 * writeSecretFile("keys/sensor-1.key", pemText);
 * writeSecretFile("keys/sensor-1.key", newPemText, { force: true });
 * ```
 */
export function writeSecretFile(
  path: string,
  data: Uint8Array | string,
  options: { force?: boolean } = {},
): void {
  writeKeyFile(path, data, SECRET_FILE_MODE, options.force ?? false);
}

/**
 * Writes public material (public key, certificate) to `path` with mode 0644, atomically; refuses to
 * replace an existing file unless `force` is set.
 * @example
 * ```ts
 * writePublicFile("keys/sensor-1.pub", publicPem);
 * ```
 */
export function writePublicFile(
  path: string,
  data: Uint8Array | string,
  options: { force?: boolean } = {},
): void {
  writeKeyFile(path, data, PUBLIC_FILE_MODE, options.force ?? false);
}

/** How a read names the file and what the user should do when it fails. */
export interface ReadKeyFileOptions {
  /** What the file is, for the message (default "key file"). */
  label?: string;
  /** The fix, appended to the message after "; " (e.g. "run secmqtt keygen --out keys"). */
  fix?: string;
}

/**
 * Reads a key file's bytes. A missing file throws {@link KeyFileError} `KEY_FILE_MISSING`; any other
 * failure (permissions, a directory, I/O) throws `KEY_FILE_UNREADABLE`. The message names the file,
 * gives the OS reason and, when `options.fix` is given, the fix.
 * @example
 * ```ts
 * const der = readKeyFile("keys/sensor-1.der");
 * const pem = readKeyFile("keys/sensor-1.key.pem", { fix: "run secmqtt keygen --out keys" });
 * ```
 */
export function readKeyFile(path: string, options: ReadKeyFileOptions = {}): Uint8Array {
  try {
    return Deno.readFileSync(path);
  } catch (error) {
    const code = error instanceof Deno.errors.NotFound ? "KEY_FILE_MISSING" : "KEY_FILE_UNREADABLE";
    const message = `cannot read ${options.label ?? "key file"} ${path}: ${describe(error)}`;
    throw new KeyFileError(code, path, withFix(message, options.fix), { cause: error });
  }
}

/**
 * Reads a key file as strict UTF-8 text (PEM). Errors as {@link readKeyFile}; invalid UTF-8 is
 * `KEY_FILE_UNREADABLE`.
 * @example
 * ```ts
 * const pem = readKeyFileText("keys/sensor-1.key");
 * ```
 */
export function readKeyFileText(path: string, options: ReadKeyFileOptions = {}): string {
  const bytes = readKeyFile(path, options);
  try {
    return utf8Decode(bytes);
  } catch (error) {
    const message = `${options.label ?? "key file"} ${path} is not valid UTF-8 text`;
    throw new KeyFileError("KEY_FILE_UNREADABLE", path, withFix(message, options.fix), { cause: error });
  }
}

/**
 * Reads a key file and parses it (imports a PEM key, say). A parse failure becomes {@link KeyFileError}
 * `KEY_FILE_INVALID` naming the file, so a corrupt key reaches the user as one line, not a stack trace.
 * Read errors as {@link readKeyFile}.
 * @example
 * ```ts
 * const key = await importKeyFile("keys/door-actuator.pub.pem", importRsaPublicKeyPem, { label: "RSA public key" });
 * ```
 */
export async function importKeyFile<T>(
  path: string,
  parse: (text: string) => T | Promise<T>,
  options: ReadKeyFileOptions = {},
): Promise<T> {
  const text = readKeyFileText(path, options);
  try {
    return await parse(text);
  } catch (error) {
    const message = `${options.label ?? "key file"} ${path} is not usable: ${describe(error)}`;
    throw new KeyFileError("KEY_FILE_INVALID", path, withFix(message, options.fix), { cause: error });
  }
}

/** Outcome of {@link checkPrivateKeyMode}. */
export type KeyModeCheck =
  | { ok: true; mode: number | null }
  | { ok: false; code: "KEY_FILE_PERMISSIVE"; mode: number; detail: string };

/**
 * Checks that a private key file is not readable or writable by group or others (as ssh does for
 * identity files). Returns a value for the caller to warn or refuse with; platforms without POSIX
 * modes report `{ ok: true, mode: null }`. A missing or unreadable file throws {@link KeyFileError}.
 * @example
 * ```ts
 * const check = checkPrivateKeyMode("keys/sensor-1.key");
 * if (!check.ok) log.event("warning", { code: check.code, detail: check.detail });
 * ```
 */
export function checkPrivateKeyMode(path: string): KeyModeCheck {
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new KeyFileError("KEY_FILE_MISSING", path, `key file not found: ${path}`, { cause: error });
    }
    throw new KeyFileError("KEY_FILE_UNREADABLE", path, `cannot stat key file ${path}: ${describe(error)}`, {
      cause: error,
    });
  }
  if (info.mode === null) return { ok: true, mode: null };
  const mode = info.mode & 0o777;
  if ((mode & GROUP_OTHER_BITS) !== 0) {
    return {
      ok: false,
      code: "KEY_FILE_PERMISSIVE",
      mode,
      detail: `private key file ${path} has mode ${
        mode.toString(8).padStart(4, "0")
      }; expected 0600 (chmod 600 ${path})`,
    };
  }
  return { ok: true, mode };
}

function writeKeyFile(path: string, data: Uint8Array | string, mode: number, force: boolean): void {
  const bytes = typeof data === "string" ? utf8Encode(data) : data;
  try {
    writeFileAtomic(path, bytes, { mode, overwrite: force });
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) {
      throw new KeyFileError(
        "KEY_FILE_EXISTS",
        path,
        `refusing to overwrite existing file ${path} (use --force)`,
        {
          cause: error,
        },
      );
    }
    throw new KeyFileError(
      "KEY_FILE_WRITE_FAILED",
      path,
      `cannot write key file ${path}: ${describe(error)}`,
      {
        cause: error,
      },
    );
  }
}

/** The directory containing `path` ("." for a bare file name). */
function parentDirectory(path: string): string {
  const cut = Math.max(path.lastIndexOf("/"), Deno.build.os === "windows" ? path.lastIndexOf("\\") : -1);
  if (cut < 0) return ".";
  if (cut === 0) return "/";
  return path.slice(0, cut);
}

/** fsync(2) on a directory persists its entries (POSIX); Windows cannot open directories for this. */
function syncDirectory(dir: string): void {
  if (Deno.build.os === "windows") return;
  const handle = Deno.openSync(dir, { read: true });
  try {
    handle.syncSync();
  } finally {
    handle.close();
  }
}

function randomSuffix(): string {
  return toHex(crypto.getRandomValues(new Uint8Array(8)));
}

/**
 * The first line of an error's message, without the `: readfile '<path>'` Deno appends to an OS error
 * (the caller's message names the path already): "No such file or directory (os error 2)".
 */
function describe(error: unknown): string {
  const message = (error instanceof Error ? error.message : String(error)).split("\n")[0];
  return message.replace(/(\(os error \d+\)): \w+ '.*'$/, "$1");
}

function withFix(message: string, fix: string | undefined): string {
  return fix === undefined ? message : `${message}; ${fix}`;
}
