/**
 * Bounded counting helpers the fold shares: capped name → count maps, and handing out counts by reason
 * code in first-seen order. Pure apart from the map they are given.
 * @module
 */

/** At most this many distinct values are kept for open-ended keys (events, runs, stage groups, classes). */
export const DISTINCT_KEYS_MAX = 200;

/**
 * Adds `by` to `map[key]`; a key not yet in a map that already holds `maxKeys` keys is dropped, so a log
 * full of made-up names cannot grow the map without bound.
 * @example
 * ```ts
 * const codes = new Map<string, number>();
 * bump(codes, "REPLAY", 1, DISTINCT_KEYS_MAX); // codes: REPLAY → 1
 * ```
 */
export function bump(map: Map<string, number>, key: string, by: number, maxKeys: number): void {
  const current = map.get(key);
  if (current === undefined && map.size >= maxKeys) return;
  map.set(key, (current ?? 0) + by);
}

/**
 * Adds `by` to `record[key]` (no cap: the keys come from a map that was capped already).
 * @example
 * ```ts
 * const byCode: Record<string, number> = {};
 * bumpRecord(byCode, "STALE", 2); // { STALE: 2 }
 * ```
 */
export function bumpRecord(record: Record<string, number>, key: string, by: number): void {
  record[key] = (record[key] ?? 0) + by;
}

/**
 * Hands the first `count` of `codes` (in their order) to `use`, code by code; returns what is left.
 * @example
 * ```ts
 * takeCodes([["REPLAY", 2], ["STALE", 1]], 2, (code, n) => console.log(code, n)); // logs REPLAY 2
 * // returns [["STALE", 1]]
 * ```
 */
export function takeCodes(
  codes: [string, number][],
  count: number,
  use: (code: string, n: number) => void,
): [string, number][] {
  const rest: [string, number][] = [];
  let left = count;
  for (const [code, n] of codes) {
    const taken = Math.min(left, n);
    if (taken > 0) use(code, taken);
    left -= taken;
    if (n > taken) rest.push([code, n - taken]);
  }
  return rest;
}

/**
 * The sum of the counts of `codes`.
 * @example
 * ```ts
 * countOf([["REPLAY", 2], ["STALE", 1]]); // 3
 * ```
 */
export function countOf(codes: [string, number][]): number {
  return codes.reduce((sum, [, n]) => sum + n, 0);
}
