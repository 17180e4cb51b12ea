// `npm run bench -- latency [--runtime wasm|onnxruntime|both] [--config f] [--resolution r] [--subnets n]
// [--fit-subnets n] [--threads n] [--batch n] [--noise false]`: the latency model against directly timed random subnets
// of a config's classification supernet (default the Fashion-MNIST example at resolution 28) — fitted as a run fits
// it (same subnets, timing rule, features and fit; nothing cached) and checked against 50 other random subnets timed
// directly in the same interleaved session. Reported per runtime: median, p90 and mean absolute relative error; then
// the checked subnets timed again in a session of their own: how far two direct timings of the same subnets disagree
// (the floor any model's error sits on) and the model's error against that second timing (--noise false skips it).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { initEngine, type BackendChoice } from '../../engine';
import type { Arch } from '../../ofa/arch';
import { ClassificationSupernet } from '../../tasks/classification';
import { DEFAULT_FIT_SUBNETS, fitArchs, fitLatency, fittedModel } from '../../search/fitted-latency';
import { latencyErrors, timeArchs, unitStackSubject } from '../../search/latency';
import { openTimingRuntime, type LatencyRuntimeName, type TimingRuntime } from '../../search/latency-runtime';
import { Rng } from '../../engine/rng';
import { validateConfig, type ResolvedConfig } from '../../../schemas';
import { BenchUnavailable, median, type BenchOptions, type BenchRow, type BenchSuite } from './index';

/** Seed of the checked subnets: not the fit's, so they are other subnets. */
const CHECK_SEED = 0xc4ec;

function inputChannels(config: ResolvedConfig): number {
  const d = config.data;
  if (d.kind === 'synthetic') return d.channels;
  if (d.kind === 'idx') return 1;
  return 3;
}

function classesOf(config: ResolvedConfig): number {
  const d = config.data as { classes?: number };
  return d.classes ?? 10;
}

function runtimesOf(name: string | undefined): LatencyRuntimeName[] {
  switch (name ?? 'both') {
    case 'both':
      return ['engine', 'onnxruntime'];
    case 'engine':
    case 'wasm':
      return ['engine'];
    case 'onnxruntime':
    case 'ort':
      return ['onnxruntime'];
    default:
      throw new BenchUnavailable(`--runtime ${name}: use wasm (the engine), onnxruntime or both`);
  }
}

export const suite: BenchSuite = {
  name: 'latency',
  describe: 'the latency model against directly timed random subnets (engine backend and ONNX Runtime)',
  async run(opts: BenchOptions, log): Promise<BenchRow[]> {
    const file = resolve(opts.extra.config ?? 'examples/fashion-mnist.manta.json');
    let raw: { supernet?: Record<string, unknown> };
    try {
      raw = JSON.parse(readFileSync(file, 'utf8')) as typeof raw;
    } catch (e) {
      throw new BenchUnavailable(`cannot read the config ${file} (${(e as Error).message}); run from the repository root or pass --config`);
    }
    const resolution = Number(opts.extra.resolution ?? 28);
    // One resolution: the figure is about the model at the size the example is searched at.
    const checked = validateConfig({ ...raw, supernet: { ...raw.supernet, resolutionChoices: [resolution] } });
    if (!checked.ok || checked.config.task !== 'classification') throw new BenchUnavailable(`${file} is not a valid classification config`);
    const config = checked.config;
    const subnets = Number(opts.extra.subnets ?? 50);
    const fitSubnets = Number(opts.extra['fit-subnets'] ?? DEFAULT_FIT_SUBNETS);
    const noise = opts.extra.noise !== 'false';
    const engine = await initEngine({ backend: (opts.backend ?? 'wasm') as BackendChoice });
    const engineInfo = { backend: engine.backend, version: engine.version, device: engine.device };
    const channels = inputChannels(config);
    const classes = classesOf(config);
    const supernet = new ClassificationSupernet(config.supernet, { classes, inputChannels: channels, seed: config.seed });
    const build = (arch: Arch) => supernet.extractSubnet(arch);
    const subject = unitStackSubject(supernet.space, channels, classes, build, 'bench');
    const space = supernet.space;
    // Checked subnets: random, none of them one the model was fitted to.
    const fitted = new Set(fitArchs(space, fitSubnets).map((a) => space.key(a)));
    const rng = new Rng(CHECK_SEED);
    const check: Arch[] = [];
    for (let tries = 0; check.length < subnets && tries < subnets * 100; tries++) {
      const a = space.canonical(space.sample(rng));
      if (!fitted.has(space.key(a)) && !check.some((c) => space.key(c) === space.key(a))) check.push(a);
    }

    const rows: BenchRow[] = [];
    try {
      for (const name of runtimesOf(opts.extra.runtime)) {
        let runtime: TimingRuntime;
        try {
          runtime = openTimingRuntime({ runtime: name, batchSize: Number(opts.extra.batch ?? 1), threads: Number(opts.extra.threads ?? 1) }, engineInfo);
        } catch (e) {
          throw new BenchUnavailable((e as Error).message);
        }
        const label = runtime.info.backend;
        log(`${label} (${runtime.info.version}; ${runtime.info.device}): timing ${fitSubnets} subnets to fit and ${check.length} to check, of ${file} at resolution ${resolution}`);
        const progress = (what: string) => (done: number, total: number) => {
          if (done === total || done % Math.max(1, Math.floor(total / 4)) === 0) log(`  ${what} ${done}/${total}`);
        };
        // One timing session for the fit's subnets and the checked ones, interleaved: a shared machine's speed drifts
        // by tens of percent between sessions, and that drift is not the model's error (timingNoisePct shows it).
        const fitSet = fitArchs(space, fitSubnets);
        let t0 = performance.now();
        const timed = await timeArchs(runtime, build, [...fitSet, ...check], { onProgress: progress('timing') });
        const timingWallMs = performance.now() - t0;
        const fit = fitLatency(
          subject.featureNames,
          fitSet.map((arch, i) => ({ features: subject.features(arch), measuredMs: timed[i].ms })),
        );
        const model = fittedModel(subject, runtime.info, fit, [], { timedNow: fitSet.length });
        log(`  fit: ${fit.intercept.toFixed(4)} ms + ${fit.used.map((n) => `${fit.weights[n].toPrecision(3)}·${n}`).join(' + ')}; leave-one-out ${(fit.heldOutError * 100).toFixed(1)}%`);
        const samples = check.map((arch, i) => ({ estimatedMs: model.estimate(arch), measuredMs: timed[fitSet.length + i].ms }));
        const v = latencyErrors(samples);
        let noiseFields: Record<string, number> = {};
        if (noise) {
          // The checked subnets timed again in a session of their own: how far two direct timings disagree, and the
          // model's error against them (what a run's check, timed later than its fit, sees).
          t0 = performance.now();
          const again = await timeArchs(runtime, build, check, { seed: 0x5eed, onProgress: progress('second timing') });
          noiseFields = {
            timingNoisePct: latencyErrors(samples.map((s, i) => ({ estimatedMs: again[i].ms, measuredMs: s.measuredMs }))).medianAbsErrPct,
            otherSessionMedianAbsErrPct: latencyErrors(samples.map((s, i) => ({ estimatedMs: s.estimatedMs, measuredMs: again[i].ms }))).medianAbsErrPct,
            // Second timing ÷ first, median over the subnets: a machine that sped up or slowed down between them.
            secondTimingRatio: median(samples.map((s, i) => again[i].ms / s.measuredMs)),
            secondTimingWallMs: Math.round(performance.now() - t0),
          };
        }
        const measured = samples.map((s) => s.measuredMs);
        const row: BenchRow = {
          suite: 'latency',
          runtime: label,
          subnets: samples.length,
          medianAbsErrPct: v.medianAbsErrPct,
          p90AbsErrPct: v.p90AbsErrPct,
          meanAbsErrPct: v.meanRelativeError * 100,
          ...noiseFields,
          fitSubnets: fitSet.length,
          fitHeldOutErrPct: fit.heldOutError * 100,
          features: fit.used.join('+') || 'intercept',
          measuredMs: { min: Math.min(...measured), median: median(measured), max: Math.max(...measured) },
          version: runtime.info.version,
          device: runtime.info.device,
          threads: runtime.threads,
          batch: runtime.batchSize,
          resolution,
          timing: runtime.freshRunnerPerRound
            ? 'fit and checked subnets in one session: 6 interleaved rounds, each a new session warmed up (≥10 runs) then ≥10 runs and ≥20 ms timed; lower decile of the best round'
            : 'fit and checked subnets in one session: ≥40 warm-up runs and ≥100 ms, then 6 interleaved rounds of ≥10 runs and ≥20 ms (3 re-warm-up runs each); lower decile of the best round',
          timingWallMs: Math.round(timingWallMs),
        };
        log(`  ${label}: median |error| ${v.medianAbsErrPct.toFixed(1)}%, p90 ${v.p90AbsErrPct.toFixed(1)}% over ${samples.length} subnets${noise ? `; timing noise ${noiseFields.timingNoisePct.toFixed(1)}%, against the second timing ${noiseFields.otherSessionMedianAbsErrPct.toFixed(1)}%` : ''}`);
        rows.push(row);
      }
    } finally {
      supernet.dispose();
    }
    return rows;
  },
};
