/**
 * The run's settings as the logs carry them (metrics.json `settings`, docs/METRICS.md): time span, suites,
 * epoch lengths, the attacker's classes and attempts, the sensor's count, and which broker ran. Read from
 * `role_started`, `broker_listening` and `published` records, so the report says how it was made.
 * @module
 */

import type { LogRecord } from "../log/jsonl.ts";
import { DISTINCT_KEYS_MAX } from "./counts.ts";
import { num, phaseOf, str } from "./record_fields.ts";
import type { RunSettings } from "./types.ts";

/**
 * Folds the settings of a run from its records, in bounded memory (each list is capped at
 * {@link DISTINCT_KEYS_MAX} entries).
 * @example
 * ```ts
 * const settings = new SettingsFold();
 * settings.add({ ts: 1, role: "attacker", run: "r", event: "role_started", phase: "secure", classes: ["replay"], attempts: 8 });
 * settings.finish().attackers.secure.attempts; // 8
 * ```
 */
export class SettingsFold {
  #first = Infinity;
  #last = -Infinity;
  readonly #suites = new Set<string>();
  readonly #epochs = new Set<number>();
  readonly #attackers: RunSettings["attackers"] = {};
  readonly #sensors: RunSettings["sensors"] = {};
  #listeners = 0;
  #secureListeners = 0;

  /** Folds one record; records that say nothing about settings only move the time span. */
  add(record: LogRecord): void {
    if (Number.isFinite(record.ts)) {
      this.#first = Math.min(this.#first, record.ts);
      this.#last = Math.max(this.#last, record.ts);
    }
    switch (record.event) {
      case "published":
      case "action":
        return this.#suiteAndEpoch(record);
      case "broker_listening":
        this.#listeners++;
        if (record.secure === true) this.#secureListeners++;
        return;
      case "role_started":
        return this.#roleStarted(record);
    }
  }

  /**
   * The settings seen so far.
   * @example
   * ```ts
   * new SettingsFold().finish().broker.kind; // "not logged"
   * ```
   */
  finish(): RunSettings {
    const seen = Number.isFinite(this.#first);
    return {
      first_ts: seen ? this.#first : null,
      last_ts: seen ? this.#last : null,
      suites: [...this.#suites],
      epoch_lengths: [...this.#epochs].sort((a, b) => a - b),
      attackers: this.#attackers,
      sensors: this.#sensors,
      broker: {
        kind: this.#listeners > 0 ? "embedded" : "not logged",
        listeners: this.#listeners,
        secure_listeners: this.#secureListeners,
      },
    };
  }

  #suiteAndEpoch(record: LogRecord): void {
    const suite = str(record.suite);
    if (suite !== undefined && this.#suites.size < DISTINCT_KEYS_MAX) this.#suites.add(suite);
    // Only the sensor knows its epoch length; an action's is joined from the publication.
    const epoch = record.event === "published" ? num(record.epoch_length) : undefined;
    if (epoch !== undefined && this.#epochs.size < DISTINCT_KEYS_MAX) this.#epochs.add(epoch);
  }

  #roleStarted(record: LogRecord): void {
    const phase = phaseOf(record);
    const room = (byPhase: Record<string, unknown>) =>
      phase in byPhase || Object.keys(byPhase).length < DISTINCT_KEYS_MAX;
    if (record.role === "attacker" && room(this.#attackers)) {
      const classes = Array.isArray(record.classes)
        ? record.classes.filter((c): c is string => typeof c === "string").slice(0, DISTINCT_KEYS_MAX)
        : [];
      this.#attackers[phase] = { classes, attempts: num(record.attempts) ?? null };
    } else if (record.role === "sensor" && room(this.#sensors)) {
      this.#sensors[phase] = {
        count: num(record.count) ?? null,
        interval_ms: num(record.interval_ms) ?? null,
      };
    } else if (record.role === "load") {
      const suite = str(record.suite);
      if (suite !== undefined && this.#suites.size < DISTINCT_KEYS_MAX) this.#suites.add(suite);
      const epoch = num(record.epoch_length);
      if (epoch !== undefined && this.#epochs.size < DISTINCT_KEYS_MAX) this.#epochs.add(epoch);
    }
  }
}
