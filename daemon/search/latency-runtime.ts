// Where a subnet's latency is timed — the training engine's tfjs backend running the extracted stock-layers model, or
// ONNX Runtime on this CPU running its ONNX export — and how: every subnet held ready, timed in interleaved rounds
// (a slow spell of a shared machine then falls on all of them alike, not on whichever was timed during it), warmed up
// on first use (tfjs's JavaScript reaches its steady speed only after some tens of runs of a new model; an ONNX
// Runtime session is made afresh each round), and summed up as the lower decile of its best round (other processes
// only ever add time; a decile, not the minimum, so that one lucky run does not decide; see summarizeRuns).
import { cpus } from 'node:os';
import { tf } from '../engine';
import { Rng } from '../engine/rng';
import type { BackendInfo } from '../protocol/events';
import { exportOnnx, loadOnnxRuntime } from './onnx';

/** The runtimes latency can be timed on: the engine's backend, or ONNX Runtime (onnxruntime-node). */
export type LatencyRuntimeName = 'engine' | 'onnxruntime';

export interface LatencyRuntimeOptions {
  runtime: LatencyRuntimeName;
  /** Images per timed forward (default 1). */
  batchSize?: number;
  /** ONNX Runtime's intra-op threads (default 1); the engine computes with its own (wasm: 1). */
  threads?: number;
}

/** One subnet ready to run: the model on the runtime and its input, allocated once. */
export interface SubnetRunner {
  run(): void | Promise<void>;
  dispose(): void;
}

/** A runtime that times subnets, with what it is (the cache and the results name it). */
export interface TimingRuntime {
  /** `backend`: the engine's backend name or 'onnxruntime'; `device` says the CPU, threads and batch. */
  readonly info: BackendInfo;
  readonly batchSize: number;
  readonly threads: number;
  /** The subnet's stock-layers model made runnable (an ONNX session for ONNX Runtime); the model stays the caller's. */
  prepare(model: tf.LayersModel): Promise<SubnetRunner>;
  /**
   * A new runner for every round: one ONNX Runtime session of a subnet can run a third slower than another of the
   * same model for its whole life (where its buffers landed), so each round gets its own and the decile keeps the
   * good ones. tfjs's warm-up is too long to repeat (its runners are kept).
   */
  readonly freshRunnerPerRound: boolean;
  /** How this runtime is timed unless told otherwise (warm-up lengths). */
  readonly timingDefaults: TimingOptions;
}

/** Every input of the model at the batch size (a stereo subnet takes two views), NHWC, seeded values. */
function inputShapes(model: tf.LayersModel, batch: number): number[][] {
  return model.inputs.map((input) => {
    const shape = input.shape.slice(1);
    if (shape.some((d) => d === null)) throw new Error(`latency timing: input ${input.name} has an unknown size [${input.shape.join(', ')}]`);
    return [batch, ...(shape as number[])];
  });
}

function engineRuntime(engine: BackendInfo, batchSize: number): TimingRuntime {
  return {
    info: { ...engine, device: `${engine.device}, batch ${batchSize}` },
    batchSize,
    threads: 1,
    freshRunnerPerRound: false,
    // tfjs's JavaScript reaches its steady speed on a new model after some tens of runs.
    timingDefaults: { warmupRuns: 40, warmupMs: 100 },
    async prepare(model) {
      const xs = inputShapes(model, batchSize).map((shape, i) => tf.randomUniform(shape, -1, 1, 'float32', 1 + i));
      const feed = xs.length === 1 ? xs[0] : xs;
      return {
        run() {
          // The output read back: what a caller of the model waits for.
          const y = model.predict(feed);
          for (const t of Array.isArray(y) ? y : [y]) {
            t.dataSync();
            t.dispose();
          }
        },
        dispose: () => tf.dispose(xs),
      };
    },
  };
}

function cpuName(): string {
  return cpus()[0]?.model.trim() ?? 'unknown CPU';
}

function onnxRuntime(batchSize: number, threads: number): TimingRuntime {
  const ort = loadOnnxRuntime(); // a one-line user error saying how to install it when missing
  const exported = new WeakMap<tf.LayersModel, Uint8Array>();
  const version = (ort.env as { versions?: { node?: string; common?: string } }).versions;
  return {
    info: { backend: 'onnxruntime', version: version?.node ?? version?.common ?? 'unknown', device: `CPU: ${cpuName()} (${threads} thread${threads === 1 ? '' : 's'}), batch ${batchSize}` },
    batchSize,
    threads,
    freshRunnerPerRound: true,
    // No JIT: the first runs allocate the session's buffers, then it runs at its speed.
    timingDefaults: { warmupRuns: 10, warmupMs: 5 },
    async prepare(model) {
      // Exported once per model: each round makes a new session of the same bytes.
      let bytes = exported.get(model);
      if (!bytes) {
        bytes = exportOnnx(model);
        exported.set(model, bytes);
      }
      const session = await ort.InferenceSession.create(bytes, {
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
      });
      // The exported graph's inputs are the tfjs model's, in order, as NCHW.
      const rng = new Rng(1);
      const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {};
      inputShapes(model, batchSize).forEach(([n, h, w, c], i) => {
        const data = Float32Array.from({ length: n * h * w * c }, () => rng.next() * 2 - 1);
        feeds[session.inputNames[i]] = new ort.Tensor('float32', data, [n, c, h, w]);
      });
      return {
        async run() {
          await session.run(feeds);
        },
        dispose: () => void session.release().catch(() => undefined),
      };
    },
  };
}

/** The runtime latency is timed on; `engine` is what initEngine started. ONNX Runtime missing: a one-line UserError. */
export function openTimingRuntime(opts: LatencyRuntimeOptions, engine: BackendInfo): TimingRuntime {
  const batchSize = opts.batchSize ?? 1;
  return opts.runtime === 'onnxruntime' ? onnxRuntime(batchSize, opts.threads ?? 1) : engineRuntime(engine, batchSize);
}

export interface TimingOptions {
  /** Rounds over all subnets (default 6). */
  rounds?: number;
  /** Timed runs of each subnet per round (default 10; after `roundMs`, no more than 3) … */
  runsPerRound?: number;
  /** Time after which a round's timed runs stop once 3 are done (default 100 ms): slow subnets need fewer runs … */
  roundMs?: number;
  /** … and fast ones more: a round's runs go on until this long (default 20 ms; ONNX Runtime's take a tenth of one). */
  roundMinMs?: number;
  /** Untimed runs before a subnet's first round: at least this many (default 40) … */
  warmupRuns?: number;
  /** … and at least this long (default 100 ms) … */
  warmupMs?: number;
  /** … but no longer than this once 2 are done (default 400 ms). */
  warmupMaxMs?: number;
  /** Untimed runs before each later round (default 3; just 1 for a subnet slower than 10 ms). */
  rewarmRuns?: number;
  /** Seeds the order within each round. */
  seed?: number;
  onProgress?: (done: number, total: number) => void;
  /** Checked between subnets; what was timed so far is lost (the caller throws). */
  signal?: AbortSignal;
}

/** What timing found for one subnet. */
export interface SubnetTiming {
  /** The lower decile of the best round's timed runs, ms per forward. */
  ms: number;
  /** The median of all timed runs, for reports. */
  medianMs: number;
  runs: number;
}

export class TimingStoppedError extends Error {
  override name = 'TimingStoppedError';
}

function quantile(sorted: readonly number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * The timing rule's summary of one subnet's timed runs, per round: the lower decile of each round, and the best round
 * (exported for tests). A round is one stretch of time and, on ONNX Runtime, one session; the best of several is
 * what the subnet costs when neither the machine nor the session's memory is in the way, and it repeats from one
 * timing to the next where averages do not (two timings of the same 40 ONNX Runtime subnets: 1 % apart at the median
 * this way, 18 % by the median round).
 */
export function summarizeRuns(rounds: readonly (readonly number[])[]): SubnetTiming {
  const all = rounds.flat().sort((a, b) => a - b);
  const best = Math.min(...rounds.filter((r) => r.length > 0).map((r) => quantile([...r].sort((a, b) => a - b), 0.1)));
  return { ms: best, medianMs: quantile(all, 0.5), runs: all.length };
}

/**
 * Times `count` subnets (interleaved rounds, see the header); one entry per subnet, in order. `runner(i)` makes
 * subnet i runnable; with `freshPerRound` each round gets a new one (warmed up like the first), else one serves all.
 */
export async function timeRunners(count: number, runner: (i: number) => Promise<SubnetRunner>, opts: TimingOptions & { freshPerRound?: boolean } = {}): Promise<SubnetTiming[]> {
  const rounds = opts.rounds ?? 6;
  const runsPerRound = opts.runsPerRound ?? 10;
  const roundMs = opts.roundMs ?? 100;
  const roundMinMs = opts.roundMinMs ?? 20;
  const warmupRuns = opts.warmupRuns ?? 40;
  const warmupMs = opts.warmupMs ?? 100;
  const warmupMaxMs = opts.warmupMaxMs ?? 400;
  const rewarmRuns = opts.rewarmRuns ?? 3;
  const rng = new Rng(opts.seed ?? 0x7173);
  const times: number[][][] = Array.from({ length: count }, () => []);
  const kept: (SubnetRunner | undefined)[] = new Array(count).fill(undefined);
  const total = rounds * count;
  let done = 0;
  try {
    for (let round = 0; round < rounds; round++) {
      for (const i of rng.shuffle(Array.from({ length: count }, (_, j) => j))) {
        if (opts.signal?.aborted) throw new TimingStoppedError('latency timing stopped');
        const fresh = round === 0 || opts.freshPerRound === true;
        if (fresh) {
          kept[i]?.dispose();
          kept[i] = undefined;
          kept[i] = await runner(i);
        }
        const r = kept[i]!;
        const started = performance.now();
        if (fresh) {
          for (let n = 0; ; n++) {
            const t = performance.now() - started;
            if ((n >= warmupRuns && t >= warmupMs) || (n >= 2 && t >= warmupMaxMs)) break;
            await r.run();
          }
        } else {
          // JIT warm-up matters per call: a slow subnet is warm after one run.
          const rewarm = (times[i][0]?.[0] ?? 0) > 10 ? Math.min(1, rewarmRuns) : rewarmRuns;
          for (let n = 0; n < rewarm; n++) await r.run();
        }
        const roundStart = performance.now();
        const timed: number[] = [];
        times[i].push(timed);
        for (let n = 0; ; n++) {
          const t = performance.now() - roundStart;
          if ((n >= runsPerRound && t >= roundMinMs) || (n >= 3 && t >= roundMs)) break;
          const t0 = performance.now();
          await r.run();
          timed.push(performance.now() - t0);
        }
        if (opts.freshPerRound) {
          r.dispose();
          kept[i] = undefined;
        }
        opts.onProgress?.(++done, total);
        await new Promise((res) => setImmediate(res)); // let telemetry and stop requests through
      }
    }
  } finally {
    for (const r of kept) r?.dispose();
  }
  return times.map(summarizeRuns);
}

/** Times the models together on the runtime, with its timing defaults under `opts` (the models stay the caller's). */
export async function timeModels(runtime: TimingRuntime, models: readonly tf.LayersModel[], opts: TimingOptions = {}): Promise<SubnetTiming[]> {
  return timeRunners(models.length, (i) => runtime.prepare(models[i]), { ...runtime.timingDefaults, ...opts, freshPerRound: runtime.freshRunnerPerRound });
}
