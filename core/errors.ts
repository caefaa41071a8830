/**
 * The one base of secmqtt's coded errors. Every error the tool throws on purpose carries a stable
 * `code` (for logs and tests) and a `kind` (for the exit status), so main.ts maps errors to exit
 * codes by kind instead of by the spelling of their codes.
 * @module
 */

/**
 * What went wrong, from the user's side:
 * - `usage`: the command line is wrong (unknown flag, bad value, flags that do not go together);
 * - `input`: a file or value the user supplied is missing, unreadable or malformed (a key file, the
 *   trust list, a password or ACL file);
 * - `state`: the run itself failed (the broker refused or is unreachable, persistent state is corrupt
 *   or cannot be written, a disk fault);
 * - `internal`: secmqtt called itself wrongly (a bug, reported as one line rather than a stack).
 */
export type ErrorKind = "usage" | "input" | "state" | "internal";

/** Exit status for each {@link ErrorKind}; success is 0. */
export const EXIT_STATUS_BY_KIND: Readonly<Record<ErrorKind, number>> = {
  usage: 2,
  input: 2,
  state: 1,
  internal: 1,
};

/**
 * Base of every coded error. Subclasses declare `code` (a closed union of stable strings) and `kind`;
 * the error's `name` is its class's name, so a subclass needs no constructor of its own.
 * @example
 * ```ts
 * class DiskError extends SecmqttError {
 *   readonly code = "DISK_FULL";
 *   readonly kind = "state";
 * }
 * new DiskError("no space left").kind; // "state"
 * ```
 */
export abstract class SecmqttError extends Error {
  /** Stable code, for logs and tests. */
  abstract readonly code: string;
  /** Which exit status this error maps to (see {@link EXIT_STATUS_BY_KIND}). */
  abstract readonly kind: ErrorKind;
  /**
   * @param message what was expected and what came
   * @param options the underlying error, if any
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * Base of an error whose code is one of several, chosen where it is thrown. Subclasses name the union
 * of codes and declare `kind` (a constant, or a getter reading `code` when the kind depends on it).
 * @example
 * ```ts
 * class DiskError extends CodedError<"DISK_FULL" | "DISK_GONE"> {
 *   readonly kind = "state";
 * }
 * new DiskError("DISK_GONE", "the volume was unmounted").code; // "DISK_GONE"
 * ```
 */
export abstract class CodedError<Code extends string> extends SecmqttError {
  /** Stable code, for logs and tests. */
  readonly code: Code;
  /**
   * @param code stable error code
   * @param message what was expected and what came
   * @param options the underlying error, if any
   */
  constructor(code: Code, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
