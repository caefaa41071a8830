/**
 * Mosquitto ACL files (`acl_file` in mosquitto.conf): parse, serialise, and decide access the way
 * Mosquitto 2.0's default ACL check does, so the embedded broker and our tests agree with the real one.
 *
 * ```text
 * # comment (only when `#` is the first character of the line)
 * topic read $SYS/#             ← before any `user` line: applies to clients WITHOUT a username
 * pattern write sensors/%u/#    ← anywhere: applies to every client, %u = username, %c = client id
 * user actuator-1               ← the `topic` lines below apply to this username only
 * topic readwrite home/#
 * topic deny home/secret/#
 * ```
 *
 * Decision order (Mosquitto 2.0 `mosquitto_acl_check_default`): the client's own `topic` rules first,
 * deny rules before grants; then, if any `pattern` lines exist, a client whose username or client id
 * contains `+` or `#` is refused, and pattern rules are tried, deny before grant; nothing matched is
 * denied. A grant among the client's `topic` rules therefore wins over a `pattern … deny`, as in Mosquitto.
 *
 * Subscriptions: Mosquitto 2.0.x does not check SUBSCRIBE against the ACL file at all and filters each
 * message on delivery with a `read` check. We check the filter at subscribe time, more strictly: a
 * deny rule that could match any topic the filter matches refuses the subscription, and a rule
 * granting `read` must match every topic the filter matches. Delivery should still be checked with `read`.
 *
 * Topic matching follows MQTT 3.1.1 §4.7 / MQTT 5.0 §4.7: `+` one level, `#` the rest including the
 * parent level, and wildcards at the first level do not match topics starting with `$` (§4.7.2).
 * @module
 */

import { utf8Encode } from "../crypto/codec.ts";
import { SecmqttError } from "../core/errors.ts";

/** Access a rule grants; `deny` refuses read and write (Mosquitto 2.0). */
export type AclAccess = "read" | "write" | "readwrite" | "deny";

/** One `topic` or `pattern` line. */
export interface AclRule {
  /** What the rule grants or denies. */
  access: AclAccess;
  /** Topic filter, with `%u`/`%c` placeholders in pattern rules. */
  topic: string;
}

/** A parsed ACL file. */
export interface AclFile {
  /** `topic` lines before the first `user` line; Mosquitto applies them to clients with no username. */
  anonymous: AclRule[];
  /** `topic` lines per `user` section; repeated sections for one username are merged, as Mosquitto does. */
  users: { username: string; rules: AclRule[] }[];
  /** `pattern` lines, which apply to every client wherever they appear in the file. */
  patterns: AclRule[];
}

/** What a client asks to do. */
export interface AclRequest {
  /** MQTT username; `undefined` for a client that sent none (not the same as `""`). */
  username?: string;
  /** MQTT client identifier. */
  clientId: string;
  /** Topic name for `read`/`write`; topic filter for `subscribe`. */
  topic: string;
  /** `read`: receive a message on `topic`; `write`: publish to it; `subscribe`: subscribe with filter `topic`. */
  access: "read" | "write" | "subscribe";
}

/** Why access was refused. */
export type AclDenyCode = "ACL_DENY_RULE" | "ACL_NO_MATCH" | "ACL_DANGEROUS_ID" | "ACL_INVALID_TOPIC";

/** Outcome of {@link checkAccess}. */
export type AclDecision =
  | { ok: true; matched: { kind: "topic" | "pattern"; access: AclAccess; topic: string } }
  | { ok: false; code: AclDenyCode; detail: string };

/** Error thrown for an ACL file that does not parse or a model that cannot be written. */
export class AclError extends SecmqttError {
  /** Exit-status kind: a malformed ACL file is bad input. */
  readonly kind = "input";
  /** Stable error code. */
  readonly code = "ACL_MALFORMED";
  /** @param message what was expected and what came, with the line number */
  constructor(message: string) {
    super(message);
    this.name = "AclError";
  }
}

/** Longest topic MQTT can carry: a UTF-8 string with a 16-bit length (MQTT 3.1.1 §1.5.3). */
const MAX_TOPIC_BYTES = 65_535;
const ACCESS_WORDS: readonly string[] = ["read", "write", "readwrite", "deny"];

/**
 * Parses an ACL file with Mosquitto 2.0's rules: fields separated by spaces, `#` comments only in the
 * first column, the topic is the rest of the line, an omitted access means `readwrite`. Stricter in
 * one place: a lone access word (`topic read`) is refused instead of read as a topic named `read`.
 * @example
 * ```ts
 * const acl = parseAcl("user actuator-1\ntopic read home/+/state\n");
 * ```
 */
export function parseAcl(text: string): AclFile {
  const acl: AclFile = { anonymous: [], users: [], patterns: [] };
  let current: AclRule[] = acl.anonymous;
  text.split("\n").forEach((raw, index) => {
    const line = raw.replace(/\s+$/, "");
    const where = `ACL line ${index + 1}`;
    if (line.startsWith("#")) return;
    const body = line.replace(/^ +/, "");
    if (body === "") return;
    const [keyword] = body.split(" ", 1);
    const rest = body.slice(keyword.length).replace(/^ +/, "");
    if (keyword === "user") {
      const username = trimBlanks(rest);
      if (username === "") throw new AclError(`${where}: missing username`);
      current = userRules(acl, username);
      return;
    }
    if (keyword !== "topic" && keyword !== "pattern") {
      throw new AclError(`${where}: expected "topic", "pattern" or "user", got ${JSON.stringify(keyword)}`);
    }
    if (rest === "") throw new AclError(`${where}: empty topic`);
    const [first] = rest.split(" ", 1);
    const hasTopic = rest.length > first.length;
    if (!hasTopic && ACCESS_WORDS.includes(first)) {
      throw new AclError(`${where}: ${JSON.stringify(first)} is an access word; expected a topic after it`);
    }
    if (hasTopic && !ACCESS_WORDS.includes(first)) {
      throw new AclError(`${where}: expected read, write, readwrite or deny, got ${JSON.stringify(first)}`);
    }
    const access = (hasTopic ? first : "readwrite") as AclAccess;
    const topic = hasTopic ? trimBlanks(rest.slice(first.length)) : first;
    const problem = filterProblem(topic);
    if (problem) throw new AclError(`${where}: invalid topic ${JSON.stringify(topic)}: ${problem}`);
    (keyword === "pattern" ? acl.patterns : current).push({ access, topic });
  });
  return acl;
}

/**
 * Serialises an ACL model: anonymous `topic` lines, then `pattern` lines, then one `user` section per
 * username; every line spells out its access. `parseAcl(formatAcl(acl))` gives the model back.
 * @example
 * ```ts
 * formatAcl({ anonymous: [], patterns: [], users: [{ username: "sensor-1", rules: [{ access: "write", topic: "home/sensor-1/#" }] }] });
 * // "user sensor-1\ntopic write home/sensor-1/#\n"
 * ```
 */
export function formatAcl(acl: AclFile): string {
  const lines: string[] = [];
  const rule = (keyword: string, r: AclRule): string => {
    if (!ACCESS_WORDS.includes(r.access)) throw new AclError(`invalid access ${JSON.stringify(r.access)}`);
    const problem = filterProblem(r.topic);
    if (problem || r.topic !== trimBlanks(r.topic)) {
      throw new AclError(
        `invalid topic ${JSON.stringify(r.topic)}: ${problem ?? "leading or trailing blanks"}`,
      );
    }
    return `${keyword} ${r.access} ${r.topic}`;
  };
  for (const r of acl.anonymous) lines.push(rule("topic", r));
  for (const r of acl.patterns) lines.push(rule("pattern", r));
  const seen = new Set<string>();
  for (const { username, rules } of acl.users) {
    if (username === "" || username !== trimBlanks(username) || /[\r\n]/.test(username)) {
      throw new AclError(`invalid username ${JSON.stringify(username)}`);
    }
    if (seen.has(username)) throw new AclError(`duplicate user section ${JSON.stringify(username)}`);
    seen.add(username);
    lines.push(`user ${username}`);
    for (const r of rules) lines.push(rule("topic", r));
  }
  return lines.map((line) => line + "\n").join("");
}

/**
 * Decides a request against an ACL file, returning which rule allowed it or why it was refused.
 * @example
 * ```ts
 * const decision = checkAccess(acl, { username: "sensor-1", clientId: "s1", topic: "home/s1/temp", access: "write" });
 * if (!decision.ok) log.event("acl_denied", { code: decision.code, detail: decision.detail });
 * ```
 */
export function checkAccess(acl: AclFile, request: AclRequest): AclDecision {
  const subscribe = request.access === "subscribe";
  const problem = subscribe ? filterProblem(request.topic) : topicNameProblem(request.topic);
  if (problem) {
    return { ok: false, code: "ACL_INVALID_TOPIC", detail: `${JSON.stringify(request.topic)}: ${problem}` };
  }
  const wanted = request.access === "write" ? "write" : "read";

  const own = request.username === undefined
    ? acl.anonymous
    : acl.users.filter((u) => u.username === request.username).flatMap((u) => u.rules);
  const ownDecision = decide(own, "topic", request.topic, wanted, subscribe);
  if (ownDecision) return ownDecision;

  if (acl.patterns.length > 0) {
    // Mosquitto refuses these ids when patterns are in use: substituted into a pattern, a `+` or `#`
    // would turn one client's rule into a wildcard over other clients' topics.
    if (request.username !== undefined && /[+#]/.test(request.username)) {
      return { ok: false, code: "ACL_DANGEROUS_ID", detail: `username ${JSON.stringify(request.username)}` };
    }
    if (/[+#]/.test(request.clientId)) {
      return { ok: false, code: "ACL_DANGEROUS_ID", detail: `client id ${JSON.stringify(request.clientId)}` };
    }
    const substituted = acl.patterns
      .filter((r) => request.username !== undefined || !r.topic.includes("%u"))
      .map((r) => ({ access: r.access, topic: substitute(r.topic, request.username, request.clientId) }));
    const patternDecision = decide(substituted, "pattern", request.topic, wanted, subscribe);
    if (patternDecision) return patternDecision;
  }
  return { ok: false, code: "ACL_NO_MATCH", detail: `no rule grants ${request.access} on ${request.topic}` };
}

/**
 * Whether the ACL allows the request; {@link checkAccess} says why.
 * @example
 * ```ts
 * isAllowed(acl, { username: "actuator-1", clientId: "a1", topic: "home/#", access: "subscribe" }); // boolean
 * ```
 */
export function isAllowed(acl: AclFile, request: AclRequest): boolean {
  return checkAccess(acl, request).ok;
}

/**
 * Whether topic name `topic` matches filter `filter` (MQTT 3.1.1 §4.7). Invalid input never matches.
 * @example
 * ```ts
 * topicMatches("home/+/state", "home/kitchen/state"); // true
 * topicMatches("#", "$SYS/uptime");                   // false (§4.7.2)
 * ```
 */
export function topicMatches(filter: string, topic: string): boolean {
  if (filterProblem(filter) || topicNameProblem(topic)) return false;
  const f = filter.split("/");
  const t = topic.split("/");
  const dollar = topic.startsWith("$");
  for (let i = 0; i < f.length; i++) {
    if (f[i] === "#") return !(i === 0 && dollar);
    if (i >= t.length) return false;
    if (f[i] === "+") {
      if (i === 0 && dollar) return false;
      continue;
    }
    if (f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/** Tries rules deny-first; `undefined` when none matched with an effect. */
function decide(
  rules: readonly AclRule[],
  kind: "topic" | "pattern",
  topic: string,
  wanted: "read" | "write",
  subscribe: boolean,
): AclDecision | undefined {
  const applicable = rules.filter((r) => !(topic.startsWith("$") && !r.topic.startsWith("$")));
  for (const r of applicable) {
    if (r.access !== "deny") continue;
    const hit = subscribe ? filtersIntersect(r.topic, topic) : topicMatches(r.topic, topic);
    if (hit) return { ok: false, code: "ACL_DENY_RULE", detail: `${kind} deny ${r.topic}` };
  }
  for (const r of applicable) {
    if (r.access !== wanted && r.access !== "readwrite") continue;
    const hit = subscribe ? filterCovers(r.topic, topic) : topicMatches(r.topic, topic);
    if (hit) return { ok: true, matched: { kind, access: r.access, topic: r.topic } };
  }
  return undefined;
}

/** Whether every topic matched by `filter` is matched by `rule`. */
function filterCovers(rule: string, filter: string): boolean {
  if (filterProblem(rule)) return false;
  const r = rule.split("/");
  const f = filter.split("/");
  const dollarLiteral = !isWildcard(f[0]) && f[0].startsWith("$");
  for (let i = 0; i < r.length; i++) {
    if (r[i] === "#") return !(i === 0 && dollarLiteral);
    if (i >= f.length || f[i] === "#") return false;
    if (r[i] === "+") {
      if (i === 0 && dollarLiteral) return false;
      continue;
    }
    if (f[i] !== r[i]) return false;
  }
  return r.length === f.length;
}

/** Whether some topic name is matched by both filters. */
function filtersIntersect(a: string, b: string): boolean {
  if (filterProblem(a)) return false;
  const x = a.split("/");
  const y = b.split("/");
  for (let i = 0;; i++) {
    if (i >= x.length && i >= y.length) return true;
    if (x[i] === "#" || y[i] === "#") {
      const other = x[i] === "#" ? y[i] : x[i];
      return !(i === 0 && other !== undefined && !isWildcard(other) && other.startsWith("$"));
    }
    if (i >= x.length || i >= y.length) return false;
    if (x[i] === "+" && y[i] === "+") continue;
    if (x[i] === "+" || y[i] === "+") {
      const literal = x[i] === "+" ? y[i] : x[i];
      if (i === 0 && literal.startsWith("$")) return false;
      continue;
    }
    if (x[i] !== y[i]) return false;
  }
}

/** Replaces every `%u` and `%c`, left to right, as Mosquitto does; other `%` sequences stay literal. */
function substitute(pattern: string, username: string | undefined, clientId: string): string {
  return pattern.replace(/%([uc])/g, (whole, which) => {
    if (which === "c") return clientId;
    return username ?? whole;
  });
}

function isWildcard(level: string): boolean {
  return level === "+" || level === "#";
}

/** Why `filter` is not a valid topic filter (MQTT 3.1.1 §4.7.1), or `undefined`. */
function filterProblem(filter: string): string | undefined {
  const basic = commonProblem(filter);
  if (basic) return basic;
  const levels = filter.split("/");
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i];
    if (level.includes("#") && (level !== "#" || i !== levels.length - 1)) {
      return `"#" must be a whole level and the last one`;
    }
    if (level.includes("+") && level !== "+") return `"+" must be a whole level`;
  }
  return undefined;
}

/** Why `topic` is not a valid topic name (MQTT 3.1.1 §4.7.3), or `undefined`. */
function topicNameProblem(topic: string): string | undefined {
  return commonProblem(topic) ??
    (/[+#]/.test(topic) ? "wildcards are not allowed in a topic name" : undefined);
}

function commonProblem(topic: string): string | undefined {
  if (topic.length === 0) return "empty";
  if (utf8Encode(topic).length > MAX_TOPIC_BYTES) return `longer than ${MAX_TOPIC_BYTES} bytes`;
  if (/[\0\r\n]/.test(topic)) return "contains NUL or a line break";
  return undefined;
}

function trimBlanks(text: string): string {
  return text.replace(/^[ \t]+|[ \t]+$/g, "");
}

function userRules(acl: AclFile, username: string): AclRule[] {
  let section = acl.users.find((u) => u.username === username);
  if (!section) {
    section = { username, rules: [] };
    acl.users.push(section);
  }
  return section.rules;
}
