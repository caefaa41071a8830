/**
 * Progress of the two-pass metrics fold: where the fold is ({@link FoldProgress}), and the lines a person
 * sees ({@link ProgressLines}): one every {@link PROGRESS_INTERVAL_MS} while the fold runs, when wanted
 * (stderr is a terminal), and always a final line. Time is passed in, so the logic is tested with a fake
 * clock.
 * @module
 */

/** Least time between two progress lines. */
export const PROGRESS_INTERVAL_MS = 2_000;

/** Where the fold is: which pass, and bytes read of that pass's total. */
export interface FoldProgress {
  /** 1 = the survey of attack keys, 2 = the fold itself (metrics/aggregate.ts). */
  pass: 1 | 2;
  bytesRead: number;
  bytesTotal: number;
}

/** Called by the fold as it reads; must be cheap (it runs per chunk read). */
export type ProgressListener = (progress: FoldProgress) => void;

/**
 * Bytes as a short human figure: "512 B", "3.4 kB", "120 MB" (powers of 1000, like `ls --si`).
 * @example
 * ```ts
 * formatBytes(120_400_000); // "120 MB"
 * ```
 */
export function formatBytes(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  const digits = unit === 0 || value >= 10 ? 0 : 1;
  return `${value.toFixed(digits)} ${units[unit]}`;
}

/**
 * Turns fold progress into lines: {@link ProgressLines.update} writes "metrics: pass 1, 120 MB of 200 MB
 * read" at most every `intervalMs` (and only when `live`), {@link ProgressLines.finish} always writes one
 * final line.
 * @example
 * ```ts
 * const lines = new ProgressLines({ now: () => Date.now(), write: console.error, live: Deno.stderr.isTerminal() });
 * await aggregateLogs(paths, (p) => lines.update(p));
 * lines.finish("554 records");
 * ```
 */
export class ProgressLines {
  readonly #now: () => number;
  readonly #write: (line: string) => void;
  readonly #live: boolean;
  readonly #intervalMs: number;
  readonly #startedAt: number;
  #lastAt: number;
  #last: FoldProgress | undefined;

  constructor(
    options: { now: () => number; write: (line: string) => void; live: boolean; intervalMs?: number },
  ) {
    this.#now = options.now;
    this.#write = options.write;
    this.#live = options.live;
    this.#intervalMs = options.intervalMs ?? PROGRESS_INTERVAL_MS;
    this.#startedAt = this.#lastAt = options.now();
  }

  /** Notes where the fold is; writes a line when live and the interval has passed since the last one. */
  update(progress: FoldProgress): void {
    this.#last = progress;
    if (!this.#live) return;
    const now = this.#now();
    if (now - this.#lastAt < this.#intervalMs) return;
    this.#lastAt = now;
    this.#write(
      `metrics: pass ${progress.pass} of 2, ${formatBytes(progress.bytesRead)} of ${
        formatBytes(progress.bytesTotal)
      } read`,
    );
  }

  /** Writes the final line, live or not: bytes read, elapsed time and `outcome` (e.g. "554 records"). */
  finish(outcome: string): void {
    const seconds = (this.#now() - this.#startedAt) / 1000;
    const total = this.#last ? formatBytes(this.#last.bytesTotal) : "0 B";
    this.#write(`metrics: read ${total} twice in ${seconds.toFixed(1)} s, ${outcome}`);
  }
}
