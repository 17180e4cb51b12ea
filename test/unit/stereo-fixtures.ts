// A tiny stereo config for tests: 128×64 generated pairs, a narrow six-unit supernet, one training phase.
import { validateConfig, type ResolvedConfig } from '../../schemas';

const H = 64;
const W = 128;

export function tinyStereoConfig(overrides: Record<string, unknown> = {}): ResolvedConfig {
  const checked = validateConfig({
    name: 'stereo-tiny',
    task: 'stereo',
    seed: 3,
    data: { kind: 'stereo-synthetic', width: W, height: H, maxDisparity: 8, trainSize: 24, validationSize: 8, testSize: 8 },
    supernet: {
      stem: { width: 8, stride: 1, activation: 'relu' },
      units: [8, 8, 16, 16, 16, 16].map((width, i) => ({ width, stride: 2, activation: i % 2 ? 'hswish' : 'relu', squeezeExcite: i === 4 })),
      stereo: { correlationUnit: 3, maxDisplacement: 2, redirectWidth: 8, decoderWidths: [16, 16, 8, 8, 8, 8] },
      kernelChoices: [3, 5],
      expandChoices: [2, 3],
      depthChoices: [1, 2],
      widthChoices: [0.5, 1],
      resolutionChoices: [64],
    },
    training: { batchSize: 4, subnetsPerStep: 2, bnCalibrationSize: 8, phases: [{ phase: 'largest', epochs: 1, learningRate: 0.02 }] },
    distributed: { workersPerHost: 1 },
    search: { measuredSubnets: 8, frontSize: 2, predictor: { layers: 1, hiddenUnits: 16, epochs: 10 }, evolution: { population: 10, generations: 4 } },
    ...overrides,
  });
  if (!checked.ok) throw new Error(JSON.stringify(checked.problems));
  return checked.config;
}

