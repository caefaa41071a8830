/**
 * Small questions about the file system that several layers ask.
 * @module
 */

/**
 * True when something exists at `path` (a file, a folder, or what a link points to).
 * @example
 * ```ts
 * if (!pathExists("/usr/sbin/mosquitto")) console.error("install mosquitto");
 * ```
 */
export function pathExists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}
