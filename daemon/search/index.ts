// daemon/search/: search of a trained supernet — the accuracy predictor and its fast scorer, the efficiency model and latency model, multi-objective evolution, the Pareto front, measurement, export, results and the report.
export { kendallTau, rmse } from './stats';
export { paretoFront, dominates, spreadAlongFront, type CostAccuracy } from './pareto';
export { createScorer, createJsScorer, createWasmScorer, toSparseRows, type MlpWeights, type Scorer, type SparseRows } from './scorer';
export {
  archPredictor,
  genomePredictor,
  initialMlpWeights,
  randomMlpWeights,
  tfjsPredict,
  trainPredictor,
  type PredictorOptions,
  type PredictorSample,
  type PredictorStats,
  type TrainedPredictor,
} from './predictor';
export { CostModel, CountedCosts, EfficiencyModel, type SubnetCosts } from './efficiency';
export { countedSubject, unitStackSubject, modelFeatures, validateLatencyModel, latencyErrors, type LatencyModel, type LatencySubject, type LatencyValidation } from './latency';
export { buildFittedLatency, fitLatency, LatencyStoppedError, type FittedLatency, type LatencyFit } from './fitted-latency';
export { openTimingRuntime, timeModels, type LatencyRuntimeName, type LatencyRuntimeOptions, type TimingRuntime } from './latency-runtime';
export { ArchGenome, type Genome } from './genome';
export {
  evolve,
  selectParents,
  nonDominatedRanks,
  crowdingDistance,
  SearchStoppedError,
  UnsatisfiableConstraintsError,
  type AccuracyPredictor,
  type Candidate,
  type CostFunction,
  type EvolutionOptions,
  type EvolutionResult,
  type EvolutionSpace,
} from './evolution';
export { sampleSubnetsToMeasure } from './measure';
export { fileSaveHandler, saveModel, MODEL_FILE, WEIGHTS_FILE } from './export';
export { readResults, writeResults, ResultsError, type FrontEntry, type MeasuredPoint, type ResultsFile } from './results';
export { renderReport, archSvg, CurveCollector, type TrainingCurves } from './report';
