/**
 * The tool's version: printed by `--version` and written into metrics.json's `settings`, so a report says
 * which secmqtt made it.
 * @module
 */

/** The secmqtt version. */
export const VERSION = "0.1.0";
