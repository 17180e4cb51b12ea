// daemon/train/: progressive shrinking — the phase schedule, the K-subnets-per-step trainer with distillation from the
// frozen teacher, BN recalibration and subnet evaluation, gradient buckets for distributed reduction, and checkpoints (state, bytes, files).
export { TrainingConfigError, CheckpointError } from './errors';
export {
  learningRateAt,
  locateStep,
  planSchedule,
  resolvePhaseSamples,
  stepsPerEpoch,
  type PlannedPhase,
  type Schedule,
  type StepPosition,
} from './schedule';
export type { PhaseResult, SubnetScore, TensorRecord, TrainerState } from './state';
export { TRAINER_STATE_FORMAT } from './state';
export { Teacher } from './teacher';
export { encodeCheckpoint, decodeCheckpoint } from './checkpoint-codec';
export {
  checkpointFileName,
  listCheckpointFiles,
  readLatestCheckpoint,
  removeStaleTempFiles,
  writeCheckpointFile,
  type CheckpointFile,
} from './checkpoint-files';
export {
  planGradientBuckets,
  GradientAccumulator,
  reduceGradients,
  DEFAULT_BUCKET_FLOATS,
  type GradientBucketLayout,
  type BucketSlot,
  type GradientReducer,
} from './gradients';
export { Sgd, type ParamInfo, type SgdOptions } from './optimizer';
export { evaluateSubnet, type EvaluateOptions, type SubnetEvaluation } from './evaluate';
export { configFingerprint, Trainer, type StepReport, type TrainerJob, type TrainerOptions } from './trainer';
export { trainSupernet, type TrainProgress, type TrainSupernetOptions, type TrainSupernetResult } from './train-supernet';
