/**
 * The fuzz loop: draws cases, sends each through `open()` and/or the actuator, and checks the oracle
 * (nothing accepted, thrown or hung; no altered unsigned input past the signature; the actuator's verdict
 * follows from `open()`'s).
 * @module
 */

import { toBase64 } from "../../crypto/codec.ts";
import { open, type OpenResult } from "../../crypto/envelope.ts";
import type { FuzzCase } from "./case.ts";
import { addCorpusCandidate } from "./corpus.ts";
import { type Guarded, withDeadline } from "./deadline.ts";
import { buildFuzzHome, FUZZ_HANG_MS, FUZZ_QUEUE_LIMIT } from "./home.ts";
import { generateCase } from "./kinds.ts";
import { primedOpenDeps, snapshot, startActuatorRig } from "./rig.ts";
import { FuzzRng } from "./rng.ts";
import { type FuzzFailure, type FuzzOptions, type FuzzReport, newTally } from "./tally.ts";

/** How long a slow actuator may take to drain before a case is called a hang without a second timing. */
const ACTUATOR_SETTLE_MS = 30_000;

/** Codes at which the signature had already verified. */
const POST_SIGNATURE_CODES = new Set(["REPLAY", "BAD_KEY", "BAD_CIPHERTEXT", "BAD_READING", "DUPLICATE"]);

function sumCodes(byCode: Record<string, number>): number {
  return Object.values(byCode).reduce((n, v) => n + v, 0);
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * Runs `options.cases` fuzz cases against the chosen target(s) and tallies the outcomes.
 * @example
 * ```ts
 * const report = await runFuzz({ cases: 3_000, seed: 7, target: "both" });
 * fuzzFailed(report); // false
 * ```
 */
export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const hangMs = options.hangMs ?? FUZZ_HANG_MS;
  const openImpl = options.openImpl ?? open;
  const rng = new FuzzRng(options.seed);
  const home = await buildFuzzHome(rng);
  const seedKeys = new Set(home.seeds.map((s) => `${s.topic}\0${toBase64(s.bytes)}`));
  const isSeedVerbatim = (c: FuzzCase) => seedKeys.has(`${c.topic}\0${toBase64(c.payload)}`);
  const runOpen = options.target !== "actuator";
  const runActuator = options.target !== "open";
  const openDeps = runOpen ? await primedOpenDeps(home) : undefined;
  let rig = runActuator ? await startActuatorRig(home) : undefined;
  const report: FuzzReport = {
    options,
    casesRun: 0,
    elapsedMs: 0,
    open: runOpen ? newTally() : undefined,
    actuator: runActuator
      ? { ...newTally(), stats: snapshot(rig!.actuator.stats), restarts: 0, bursts: 0 }
      : undefined,
    byMutation: {},
    failures: [],
    corpus: new Map(),
    unhandled: 0,
  };
  const onUnhandled = (event: PromiseRejectionEvent) => {
    event.preventDefault();
    report.unhandled++;
    report.failures.push({
      target: "actuator",
      kind: "exception",
      message: `unhandled: ${describeError(event.reason)}`,
    });
  };
  globalThis.addEventListener("unhandledrejection", onUnhandled);

  const fail = (failure: FuzzFailure) => {
    if (report.failures.length < 1_000) report.failures.push(failure);
  };
  const keepCorpus = (c: FuzzCase, code: string, failing?: string) => {
    if (options.collectCorpus) addCorpusCandidate(report.corpus, c, options.seed, code, failing);
  };

  const openOne = async (c: FuzzCase): Promise<string | undefined> => {
    const tally = report.open!;
    tally.cases++;
    let outcome: Guarded<OpenResult>;
    try {
      const attempt = () => withDeadline(() => openImpl(c.payload, c.topic, openDeps!), hangMs);
      outcome = await attempt();
      if (!outcome.done) {
        tally.retimed++;
        tally.slowestMs = Math.max(tally.slowestMs, outcome.ms);
        outcome = await attempt();
      }
    } catch (error) {
      tally.exceptions++;
      fail({ target: "open", kind: "exception", case: c, message: describeError(error) });
      keepCorpus(c, "MALFORMED", `open() threw ${describeError(error)}`);
      return;
    }
    if (!outcome.done) {
      tally.hangs++;
      fail({
        target: "open",
        kind: "hang",
        case: c,
        message: `no answer within ${hangMs} ms (${outcome.ms} ms)`,
      });
      keepCorpus(c, "MALFORMED", `open() took ${Math.round(outcome.ms)} ms`);
      return;
    }
    tally.slowestMs = Math.max(tally.slowestMs, outcome.ms);
    const result = outcome.value;
    const code = result.ok ? "OK" : result.code;
    tally.byCode[code] = (tally.byCode[code] ?? 0) + 1;
    if (c.expect !== undefined && code !== c.expect) {
      tally.unexpectedCodes++;
      fail({
        target: "open",
        kind: "unexpected-code",
        case: c,
        message: `expected ${c.expect}, got ${code}: ${result.ok ? "" : result.detail}`,
      });
      keepCorpus(c, c.expect, `open() gave ${code}`);
    }
    if (result.ok) {
      if (c.authentic) {
        tally.authenticOk++;
        return code;
      }
      tally.accepted++;
      fail({ target: "open", kind: "accepted", case: c, message: `accepted ${c.mutation}: ${c.detail}` });
      keepCorpus(c, c.expect ?? (c.signed ? "BAD_CIPHERTEXT" : "BAD_SIGNATURE"), "open() accepted it");
      return code;
    }
    tally.rejected++;
    if (!c.signed && POST_SIGNATURE_CODES.has(code) && !isSeedVerbatim(c)) {
      tally.signatureBypasses++;
      fail({
        target: "open",
        kind: "signature-bypass",
        case: c,
        message: `${code} for ${c.mutation}: ${c.detail}`,
      });
      keepCorpus(c, "BAD_SIGNATURE", `an altered envelope passed the signature check (${code})`);
      return code;
    }
    keepCorpus(c, code);
    return code;
  };

  /** Delivers the batch, checks the stats; for a single case, returns its code (`ACTED` if acted on). */
  const actuatorBatch = async (batch: FuzzCase[]): Promise<string | undefined> => {
    const tally = report.actuator!;
    const { actuator } = rig!;
    const before = snapshot(actuator.stats);
    const actedBefore = rig!.acted.count;
    const errorsBefore = rig!.openerErrors.length;
    tally.cases += batch.length;
    if (batch.length > 1) tally.bursts++;
    let outcome: Guarded<void>;
    let deliveries = 1;
    try {
      for (const c of batch) rig!.deliver(c.topic, c.payload);
      outcome = await withDeadline(() => actuator.idle(), hangMs * batch.length);
      if (!outcome.done) {
        // Before calling it a hang: let it finish if it can, then time the same input once more.
        tally.slowestMs = Math.max(tally.slowestMs, outcome.ms / batch.length);
        const settled = await withDeadline(() => actuator.idle(), ACTUATOR_SETTLE_MS);
        if (settled.done) {
          tally.retimed += batch.length;
          deliveries = 2;
          for (const c of batch) rig!.deliver(c.topic, c.payload);
          outcome = await withDeadline(() => actuator.idle(), hangMs * batch.length);
        }
      }
    } catch (error) {
      tally.exceptions += batch.length;
      fail({ target: "actuator", kind: "exception", case: batch[0], message: describeError(error) });
      rig = await startActuatorRig(home);
      tally.restarts++;
      return undefined;
    }
    if (!outcome.done) {
      tally.hangs += batch.length;
      fail({
        target: "actuator",
        kind: "hang",
        case: batch[0],
        message: `not idle within ${hangMs} ms per case`,
      });
      rig = await startActuatorRig(home);
      tally.restarts++;
      return undefined;
    }
    tally.slowestMs = Math.max(tally.slowestMs, outcome.ms / batch.length);
    const after = actuator.stats;
    const newErrors = rig!.openerErrors.slice(errorsBefore);
    if (newErrors.length > 0) {
      tally.exceptions += newErrors.length;
      for (const error of newErrors) {
        fail({
          target: "actuator",
          kind: "exception",
          case: batch[0],
          message: `opener threw ${describeError(error)}`,
        });
      }
    }
    const acted = after.acted - before.acted;
    if (acted > 0 || rig!.acted.count !== actedBefore) {
      tally.accepted += acted;
      fail({ target: "actuator", kind: "accepted", case: batch[0], message: `acted ${acted} time(s)` });
    }
    const received = after.received - before.received;
    const handled = acted + (after.rejected - before.rejected) + (after.duplicates - before.duplicates);
    const expected = batch.length * deliveries;
    if (received !== expected || handled !== expected || sumCodes(after.byCode) !== after.rejected) {
      fail({
        target: "actuator",
        kind: "stats",
        case: batch[0],
        message: `received ${received}, handled ${handled}, for ${expected} deliveries; ` +
          `byCode sums to ${sumCodes(after.byCode)}, rejected ${after.rejected}`,
      });
    }
    tally.rejected += after.rejected - before.rejected;
    const duplicates = after.duplicates - before.duplicates;
    if (duplicates > 0) {
      tally.byCode.DUPLICATE = (tally.byCode.DUPLICATE ?? 0) + duplicates;
      tally.rejected += duplicates;
    }
    for (const [code, count] of Object.entries(after.byCode)) {
      const delta = count - (before.byCode[code] ?? 0);
      if (delta > 0) tally.byCode[code] = (tally.byCode[code] ?? 0) + delta;
    }
    if (batch.length !== 1 || deliveries !== 1) return undefined;
    const c = batch[0];
    const code = acted > 0
      ? "ACTED"
      : duplicates > 0
      ? "DUPLICATE"
      : Object.keys(after.byCode).find((k) => after.byCode[k] !== (before.byCode[k] ?? 0));
    if (!c.signed && code !== undefined && POST_SIGNATURE_CODES.has(code) && !isSeedVerbatim(c)) {
      tally.signatureBypasses++;
      fail({ target: "actuator", kind: "signature-bypass", case: c, message: `${code} for ${c.mutation}` });
    }
    return code;
  };

  /**
   * What the actuator must answer to a single case `open()` answered with `openCode`: an envelope `open()`
   * accepts carries a hostile reading here, refused by check 9 (PROTOCOL.md §6) as BAD_READING.
   */
  const actuatorCodeFor = (openCode: string): string =>
    openCode === "OK" ? "BAD_READING" : openCode === "REPLAY" ? "DUPLICATE" : openCode;
  /**
   * True when the actuator's replay state already holds `c`'s counter: the actuator records a counter while
   * it decrypts (PROTOCOL.md §6), so an earlier signed case refused at check 7, 8 or 9 consumed it, and
   * this case, fresh to `open()` (whose state never moves), is REPLAY at the actuator.
   */
  const consumedAtActuator = (c: FuzzCase): boolean => {
    let claimed: unknown;
    try {
      claimed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(c.payload));
    } catch {
      return false;
    }
    const { sender, counter } = (claimed ?? {}) as { sender?: unknown; counter?: unknown };
    if (typeof sender !== "string" || typeof counter !== "number" || !Number.isSafeInteger(counter)) {
      return false;
    }
    const highest = rig?.highest(sender);
    return highest !== undefined && BigInt(counter) <= highest;
  };

  const started = performance.now();
  const progressEvery = options.progressEvery ?? 10_000;
  try {
    let index = 0;
    while (index < options.cases) {
      // Now and then a burst, past the bounded queue and its waiting list (the fake transport ignores
      // backpressure), so OVERLOADED is reached.
      const size = runActuator && rng.chance(0.01)
        ? Math.min(rng.range(2, 2 * FUZZ_QUEUE_LIMIT + 5), options.cases - index)
        : 1;
      const batch: FuzzCase[] = [];
      for (let k = 0; k < size; k++) batch.push(await generateCase(rng, home, options.target, index++));
      for (const c of batch) report.byMutation[c.mutation] = (report.byMutation[c.mutation] ?? 0) + 1;
      const openCodes: (string | undefined)[] = [];
      if (runOpen) { for (const c of batch) openCodes.push(await openOne(c)); }
      const consumed = runActuator && batch.length === 1 && consumedAtActuator(batch[0]);
      const actuatorCode = runActuator ? await actuatorBatch(batch) : undefined;
      // Differential check: the actuator's verdict follows from open()'s on the same input.
      if (runOpen && actuatorCode !== undefined && openCodes[0] !== undefined) {
        const passedCheck6 = ["OK", "BAD_KEY", "BAD_CIPHERTEXT"].includes(openCodes[0]);
        const expected = consumed && passedCheck6 ? "REPLAY" : actuatorCodeFor(openCodes[0]);
        if (actuatorCode !== expected) {
          report.actuator!.unexpectedCodes++;
          fail({
            target: "actuator",
            kind: "unexpected-code",
            case: batch[0],
            message: `open() said ${openCodes[0]}, so expected ${expected}, got ${actuatorCode}`,
          });
        }
      }
      const before = report.casesRun;
      report.casesRun += batch.length;
      if (
        options.onProgress && Math.floor(report.casesRun / progressEvery) > Math.floor(before / progressEvery)
      ) {
        options.onProgress(report.casesRun, performance.now() - started);
      }
    }
  } finally {
    globalThis.removeEventListener("unhandledrejection", onUnhandled);
  }
  report.elapsedMs = performance.now() - started;
  if (report.actuator && rig) report.actuator.stats = snapshot(rig.actuator.stats);
  return report;
}
