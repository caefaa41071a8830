/**
 * Crypto cost per stage (docs/METRICS.md, "Crypto cost"): the `stages` of `published` (sensor) or `action`
 * (actuator) records, one sketch per stage and (suite, epoch length) group.
 * @module
 */

import { DISTINCT_KEYS_MAX } from "./counts.ts";
import { QuantileSketch } from "./stats.ts";
import type { CryptoCostGroup } from "./types.ts";

interface StageGroup {
  suite: string;
  epoch: number | null;
  count: number;
  stages: Map<string, QuantileSketch>;
}

/**
 * The stage timings of one side, grouped by suite and epoch length; at most {@link DISTINCT_KEYS_MAX}
 * groups and stage names each, so odd logs cannot grow it without bound.
 * @example
 * ```ts
 * const sensor = new StageCosts();
 * sensor.add("rsa-oaep-2048+aes-256-gcm+ed25519", 8, { sign_ms: 0.1, encrypt_ms: 0.02 });
 * sensor.groups()[0].stages.sign_ms.mean; // 0.1
 * ```
 */
export class StageCosts {
  readonly #groups = new Map<string, StageGroup>();

  /** Folds one record's `stages`; entries that are not finite numbers are skipped. */
  add(suite: string, epoch: number | null, stages: object): void {
    const key = `${suite}\u0000${epoch}`;
    let group = this.#groups.get(key);
    if (!group) {
      if (this.#groups.size >= DISTINCT_KEYS_MAX) return;
      this.#groups.set(key, group = { suite, epoch, count: 0, stages: new Map() });
    }
    group.count++;
    for (const [name, value] of Object.entries(stages)) {
      if (typeof value !== "number" || !Number.isFinite(value)) continue;
      let sketch = group.stages.get(name);
      if (!sketch) {
        if (group.stages.size >= DISTINCT_KEYS_MAX) continue;
        group.stages.set(name, sketch = new QuantileSketch());
      }
      sketch.add(value);
    }
  }

  /** The groups by suite, then epoch length (unknown first), with mean, p50 and p95 per stage. */
  groups(): CryptoCostGroup[] {
    return [...this.#groups.values()]
      .sort((a, b) => a.suite.localeCompare(b.suite) || (a.epoch ?? -1) - (b.epoch ?? -1))
      .map((g) => ({
        suite: g.suite,
        epoch_length: g.epoch,
        count: g.count,
        stages: Object.fromEntries(
          [...g.stages].map((
            [name, s],
          ) => [name, { mean: s.mean, p50: s.quantile(0.5), p95: s.quantile(0.95) }]),
        ),
      }));
  }
}
