// A tiny whole-job config shared by the pipeline tests: a narrow supernet on 16×16 synthetic images, two short
// phases, a small search. Seconds to run on wasm.
import type { MantaConfig } from '../../schemas';

export const TINY: MantaConfig = {
  name: 'tiny',
  task: 'classification',
  seed: 3,
  backend: 'wasm',
  data: { kind: 'synthetic', classes: 4, imageSize: 16, trainSize: 320, validationSize: 96, testSize: 96 },
  supernet: {
    stem: { width: 8 },
    firstBlock: { width: 8 },
    units: [{ width: 8 }, { width: 16 }, { width: 16, stride: 1 }, { width: 24, squeezeExcite: true, activation: 'hswish' }, { width: 24, stride: 1 }],
    finalExpandWidth: 32,
    featureMixWidth: 32,
    kernelChoices: [3, 5],
    expandChoices: [2, 4],
    depthChoices: [1, 2],
    resolutionChoices: [12, 16],
  },
  training: {
    batchSize: 32,
    subnetsPerStep: 2,
    bnCalibrationSize: 64,
    checkpointEverySteps: 4,
    phases: [
      { phase: 'largest', epochs: 1, learningRate: 0.05 },
      { phase: 'kernel', epochs: 1, learningRate: 0.02 },
    ],
  },
  // One worker: the pipeline tests check stages, not distribution (test/distributed/ runs jobs of several).
  distributed: { workersPerHost: 1 },
  search: {
    measuredSubnets: 12,
    frontSize: 3,
    predictor: { layers: 2, hiddenUnits: 16, epochs: 20, tauFloor: -1 },
    evolution: { population: 16, generations: 10 },
  },
};
