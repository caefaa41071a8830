/**
 * Declarative flags: one table per subcommand gives each flag's name, short alias, type, range,
 * default and help line; from it come strict parsing, typed values, validation messages in one voice
 * and the `Options:` lines of the help.
 * @module
 */

import { SecmqttError } from "../core/errors.ts";

/** A bad flag, value or missing argument: main.ts prints it as one line and exits 2. */
export class UsageError extends SecmqttError {
  /** Stable code. */
  readonly code = "USAGE";
  /** Exit-status kind: the command line is wrong. */
  readonly kind = "usage";
  /** @param message one line saying what was expected and what came */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** What every flag declares besides its type. */
interface FlagCommon {
  /** One-letter alias, without the dash (`"u"` for `-u`). */
  readonly short?: string;
  /** The help line (wrapped to the help's width). */
  readonly help: string;
  /** The value's name in the help (`--out DIR`); defaults by type. */
  readonly placeholder?: string;
  /** Shown as `(default: …)` when the default is not a plain value (e.g. it depends on another flag). */
  readonly defaultText?: string;
  /** Another flag that cannot be given together with this one. */
  readonly conflicts?: string;
  /** Flags that must be given whenever this one is. */
  readonly requires?: readonly string[];
}

/** A free string. */
export interface StringFlag extends FlagCommon {
  readonly type: "string";
  readonly default?: string;
  /** The subcommand cannot run without it. */
  readonly required?: boolean;
}

/** A whole number within `[min, max]`, or one of `words` (such as `off`). */
export interface IntFlag extends FlagCommon {
  readonly type: "int";
  readonly min?: number;
  readonly max?: number;
  readonly default?: number;
  readonly words?: readonly string[];
}

/** A decimal number above `above` (exclusive) and within `[min, max]`. */
export interface NumberFlag extends FlagCommon {
  readonly type: "number";
  readonly above?: number;
  readonly min?: number;
  readonly max?: number;
  readonly default?: number;
}

/** Present or absent; takes no value. */
export interface BooleanFlag extends FlagCommon {
  readonly type: "boolean";
}

/** One of a closed list of words. */
export interface ChoiceFlag extends FlagCommon {
  readonly type: "choice";
  readonly choices: readonly string[];
  readonly default?: string;
}

/** A string that may be repeated; the values in the order given. */
export interface ListFlag extends FlagCommon {
  readonly type: "list";
  /** At least one is needed. */
  readonly required?: boolean;
}

/** One entry of a flag table. */
export type FlagDef = StringFlag | IntFlag | NumberFlag | BooleanFlag | ChoiceFlag | ListFlag;

/** A subcommand's flags by long name (without the dashes). */
export type FlagTable = Readonly<Record<string, FlagDef>>;

type WithDefault<D, T> = D extends { default: unknown } ? T : T | undefined;

/** The parsed type of one flag: defaults and `required` remove `undefined`. */
export type FlagValue<D extends FlagDef> = D extends BooleanFlag ? boolean
  : D extends ListFlag ? string[]
  : D extends ChoiceFlag ? WithDefault<D, D["choices"][number]>
  : D extends IntFlag ? WithDefault<D, number | (D extends { words: readonly (infer W)[] } ? W : never)>
  : D extends NumberFlag ? WithDefault<D, number>
  : D extends { required: true } ? string
  : WithDefault<D, string>;

/** Parsed values of a whole table. */
export type FlagValues<T extends FlagTable> = { -readonly [K in keyof T]: FlagValue<T[K]> };

/**
 * Flag builders: each keeps the literal types of its options so {@link FlagValues} can tell whether
 * a flag has a default and which words a choice allows.
 * @example
 * ```ts
 * const table = { count: flag.int({ min: 1, help: "stop after N messages" }) };
 * ```
 */
export const flag = {
  /** A free string. */
  string: <const O extends Omit<StringFlag, "type">>(o: O): O & { type: "string" } => ({
    ...o,
    type: "string",
  }),
  /** A whole number. */
  int: <const O extends Omit<IntFlag, "type">>(o: O): O & { type: "int" } => ({ ...o, type: "int" }),
  /** A decimal number. */
  number: <const O extends Omit<NumberFlag, "type">>(o: O): O & { type: "number" } => ({
    ...o,
    type: "number",
  }),
  /** A switch. */
  boolean: <const O extends Omit<BooleanFlag, "type">>(o: O): O & { type: "boolean" } => ({
    ...o,
    type: "boolean",
  }),
  /** One of a closed list. */
  choice: <const O extends Omit<ChoiceFlag, "type">>(o: O): O & { type: "choice" } => ({
    ...o,
    type: "choice",
  }),
  /** A repeatable string. */
  list: <const O extends Omit<ListFlag, "type">>(o: O): O & { type: "list" } => ({ ...o, type: "list" }),
};

/** "a, b or c" */
function either(words: readonly string[]): string {
  return words.length <= 1 ? words.join("") : `${words.slice(0, -1).join(", ")} or ${words.at(-1)}`;
}

function checkRange(name: string, raw: string, n: number, def: IntFlag | NumberFlag): number {
  if (def.type === "number" && def.above !== undefined && !(n > def.above)) {
    throw new UsageError(`--${name} must be greater than ${def.above}, got ${raw}`);
  }
  if (def.min !== undefined && n < def.min) {
    throw new UsageError(`--${name} must be at least ${def.min}, got ${raw}`);
  }
  if (def.max !== undefined && n > def.max) {
    throw new UsageError(`--${name} must be at most ${def.max}, got ${raw}`);
  }
  return n;
}

function convert(name: string, def: FlagDef, raw: string): string | number {
  switch (def.type) {
    case "int": {
      if (def.words?.includes(raw)) return raw;
      if (!/^-?\d+$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
        const expected = def.words ? `a whole number or ${either(def.words)}` : "a whole number";
        throw new UsageError(`--${name} must be ${expected}, got '${raw}'`);
      }
      return checkRange(name, raw, Number(raw), def);
    }
    case "number": {
      if (!/^-?\d+(\.\d+)?$/.test(raw)) throw new UsageError(`--${name} must be a number, got '${raw}'`);
      return checkRange(name, raw, Number(raw), def);
    }
    case "choice":
      if (!def.choices.includes(raw)) {
        throw new UsageError(`--${name} must be ${either(def.choices)}, got ${raw}`);
      }
      return raw;
    default:
      return raw;
  }
}

/** A value flag takes the next argument unless that is clearly a flag: `--x`, or `-x` with a letter. */
function looksLikeFlag(arg: string): boolean {
  return arg.startsWith("--") || /^-[A-Za-z]/.test(arg);
}

/**
 * Parses argv strictly against `table`: unknown flags, missing or malformed values, values out of range,
 * conflicting or missing companion flags are each a one-line {@link UsageError} naming the flag; no
 * positional arguments. Negative numbers are values (`--count -3` reaches the range check).
 * `--help` is not handled here: main.ts answers it before parsing.
 * @example
 * ```ts
 * const table = { count: flag.int({ min: 1, help: "messages" }) };
 * parseFlags(["--count", "3"], table, "sensor").count; // 3
 * ```
 */
export function parseFlags<T extends FlagTable>(
  argv: readonly string[],
  table: T,
  command: string,
): FlagValues<T> {
  const seeHelp = `(see secmqtt ${command} --help)`;
  const byShort = new Map<string, string>();
  for (const [name, def] of Object.entries(table)) if (def.short) byShort.set(def.short, name);
  const given = new Map<string, string | boolean | string[]>();

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    let name: string | undefined;
    let inline: string | undefined;
    if (arg.startsWith("--") && arg.length > 2) {
      const eq = arg.indexOf("=");
      name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      inline = eq < 0 ? undefined : arg.slice(eq + 1);
    } else if (/^-[A-Za-z]/.test(arg)) {
      name = byShort.get(arg[1]);
      if (name === undefined) throw new UsageError(`unknown flag -${arg[1]} ${seeHelp}`);
      inline = arg.length > 2 ? arg.slice(2).replace(/^=/, "") : undefined;
    } else {
      throw new UsageError(`unexpected argument '${arg}' ${seeHelp}`);
    }
    const def = Object.hasOwn(table, name) ? table[name] : undefined;
    if (def === undefined) throw new UsageError(`unknown flag --${name} ${seeHelp}`);
    if (def.type === "boolean") {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value, got '${inline}'`);
      given.set(name, true);
      continue;
    }
    let raw = inline;
    if (raw === undefined) {
      const next = argv[i + 1];
      if (next === undefined || looksLikeFlag(next)) {
        throw new UsageError(`--${name} needs a value ${seeHelp}`);
      }
      raw = next;
      i++;
    }
    if (def.type === "list") {
      const list = given.get(name);
      given.set(name, Array.isArray(list) ? [...list, raw] : [raw]);
    } else {
      given.set(name, raw); // the last one wins, as with mosquitto_pub and node:util parseArgs
    }
  }

  const values: Record<string, unknown> = {};
  for (const [name, def] of Object.entries(table)) {
    const raw = given.get(name);
    if (raw !== undefined) {
      for (const needed of def.requires ?? []) {
        if (!given.has(needed)) throw new UsageError(`--${name} needs --${needed}`);
      }
      if (def.conflicts !== undefined && given.has(def.conflicts)) {
        throw new UsageError(`give --${name} or --${def.conflicts}, not both`);
      }
    }
    if (def.type === "boolean") values[name] = raw === true;
    else if (def.type === "list") values[name] = Array.isArray(raw) ? raw : [];
    else values[name] = typeof raw === "string" ? convert(name, def, raw) : def.default;
    const missing = def.type === "list" ? !Array.isArray(raw) : raw === undefined;
    if ((def.type === "string" || def.type === "list") && def.required && missing) {
      throw new UsageError(`--${name} ${placeholderOf(def)} is required ${seeHelp}`);
    }
  }
  // The table's types describe what the loop above built; this is the one place that asserts it.
  return values as FlagValues<T>;
}

function placeholderOf(def: FlagDef): string {
  if (def.placeholder !== undefined) return def.placeholder;
  switch (def.type) {
    case "boolean":
      return "";
    case "int":
      return def.words ? `N|${def.words.join("|")}` : "N";
    case "number":
      return "X";
    case "choice":
      return def.choices.join("|");
    default:
      return "VALUE";
  }
}

/** Width the help is wrapped to. */
export const HELP_WIDTH = 110;

/**
 * Wraps `text` to `width` columns, continuation lines indented by `indent` spaces.
 * @example
 * ```ts
 * wrap("a long line", 80, 4);
 * ```
 */
export function wrap(text: string, width: number, indent: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter((w) => w !== "")) {
    if (line !== "" && indent + line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === "" ? word : `${line} ${word}`;
    }
  }
  lines.push(line);
  return lines.map((l, i) => (i === 0 ? l : " ".repeat(indent) + l));
}

/**
 * The `Options:` lines for a table, aligned, defaults shown, with `-h, --help` last.
 * @example
 * ```ts
 * formatOptions({ count: flag.int({ min: 1, help: "messages" }) });
 * // ["      --count N     messages", "  -h, --help        show this help and exit"]
 * ```
 */
export function formatOptions(table: FlagTable): string[] {
  const rows: [string, string][] = Object.entries(table).map(([name, def]) => {
    const left = `${def.short ? `-${def.short}, ` : "    "}--${name}${
      def.type === "boolean" ? "" : ` ${placeholderOf(def)}`
    }`;
    const shown = def.defaultText ??
      ("default" in def && def.default !== undefined ? String(def.default) : undefined);
    return [left, shown === undefined ? def.help : `${def.help} (default: ${shown})`];
  });
  rows.push(["-h, --help", "show this help and exit"]);
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  return rows.flatMap(([left, help]) => {
    const [first, ...rest] = wrap(help, HELP_WIDTH, 2 + width);
    return [`  ${left.padEnd(width)}${first}`, ...rest];
  });
}
