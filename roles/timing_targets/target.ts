/**
 * What a timing target is: something `secmqtt timing` can measure for two classes of inputs. A target
 * prepares its inputs once (setup, never measured) and hands back a probe that runs the operation on
 * input i of class 0 or 1; roles/timing.ts does the timing, interleaving and statistics for all of them.
 * @module
 */

/** Fills a new array with random bytes. */
export type RandomBytes = (length: number) => Uint8Array;

/** A prepared target: the operation, ready to be run on either class. */
export interface TimingProbe {
  /** Names of class 0 and class 1; Welch's t is mean(class 0) − mean(class 1). */
  classes: readonly [string, string];
  /** Distinct inputs per class, cycled so both classes touch memory alike. */
  inputsPerClass: number;
  /**
   * Runs the operation once on input `input` of class `inClass` and returns a number derived from the
   * result (summed into a sink so the JIT cannot drop the call). For an `async` probe, a promise of it.
   */
  call(inClass: 0 | 1, input: number): number | Promise<number>;
  /**
   * Draws fresh inputs (a new secret and new guesses) before each batch, where that is cheap: an accident of
   * one set of inputs — where the allocator put them, one odd secret — then cannot repeat in every batch
   * and pass for a leak. Targets whose inputs take seconds to find keep theirs.
   */
  renew?: () => void;
  /** True when `call` returns a promise (WebCrypto); it is then awaited inside the timed span. */
  async: boolean;
  /** Calls per measurement; undefined means calibrate so a measurement lasts about 20 µs. */
  callsPerMeasurement?: number;
  /** Unrecorded measurements before recording, so both classes run optimised code. */
  warmupMeasurements: number;
  /**
   * Measurements above this percentile of the pooled data are dropped before the t-test. Long calls
   * (a signature, an RSA decryption) are preempted often on a busy machine and preemption only adds time,
   * so their targets keep the faster half; microsecond compares keep the fastest 90 %.
   */
  cropPercentile: number;
}

/** One entry of the target table. */
export interface TimingTarget {
  /** The `--target` name. */
  name: string;
  /** The `function` field of `timing_result` (today's names for the compares). */
  function: string;
  /** One line for the help text. */
  summary: string;
  /** The verdict a correct build gives: the exit status checks it; undefined = report only. */
  expectLeak: boolean | undefined;
  /** Measurements per class per batch when `--samples` is not given. */
  defaultSamples: number;
  /** Builds the inputs (keys, messages, ciphertexts). */
  prepare(randomBytes: RandomBytes): Promise<TimingProbe>;
}
