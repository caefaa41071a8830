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
import { type ErrorKind, SecmqttError } from "../core/errors.ts";

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
  | "KEY_FILE_WRITE_FAILED";

/** Error reading or writing a key file; the message names the path and fits on one CLI line. */
export class KeyFileError extends SecmqttError {
  /** Exit-status kind: a failed write is a disk fault; the rest is about the path the user named. */
  get kind(): ErrorKind {
    return this.code === "KEY_FILE_WRITE_FAILED" ? "state" : "input";
  }
  /** Stable error code. */
  readonly code: KeyFileErrorCode;
  /** The file concerned. */
  readonly path: string;
  /**
   * @param code stable error code
   * @param path the file concerned
   * @param message what was expected and what came, naming the path
   * @param options the underlying error, if any
   */
  constructor(code: KeyFileErrorCode, path: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "KeyFileError";
    this.code = code;
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

/**
 * Reads a key file's bytes. A missing file throws {@link KeyFileError} `KEY_FILE_MISSING`; any other
 * failure (permissions, a directory, I/O) throws `KEY_FILE_UNREADABLE`.
 * @example
 * ```ts
 * const der = readKeyFile("keys/sensor-1.der");
 * ```
 */
export function readKeyFile(path: string): Uint8Array {
  try {
    return Deno.readFileSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new KeyFileError("KEY_FILE_MISSING", path, `key file not found: ${path}`, { cause: error });
    }
    throw new KeyFileError("KEY_FILE_UNREADABLE", path, `cannot read key file ${path}: ${describe(error)}`, {
      cause: error,
    });
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
export function readKeyFileText(path: string): string {
  const bytes = readKeyFile(path);
  try {
    return utf8Decode(bytes);
  } catch (error) {
    throw new KeyFileError("KEY_FILE_UNREADABLE", path, `key file ${path} is not valid UTF-8 text`, {
      cause: error,
    });
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

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
