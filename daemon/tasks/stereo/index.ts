// daemon/tasks/stereo/: stereo disparity estimation as a MANTA task — its supernet (siamese units, correlation,
// decoder with U-links), loss, KITTI metrics, pictures, and the block-matching baseline.
export {
  addStereoErrors,
  D1_ABSOLUTE_PX,
  D1_RELATIVE,
  emptyStereoSums,
  finishStereoMetrics,
  hasGroundTruth,
  maskedEpe,
  stereoMetrics,
  stereoMetricTensors,
  type StereoErrorSums,
  type StereoMetrics,
  type StereoMetricTensors,
} from './metrics';
export { correlation1d, correlationChannels } from './correlation';
export { blockMatching, toGrey, BLOCK_MATCHING_WINDOW } from './block-matching';
export { StereoTask, disparityLoss, poolDisparity, scaleWeights, PREVIEW_PAIRS } from './task';
export { StereoSupernet, type StereoSupernetDescription, type StereoSupernetOptions } from './supernet';
export { stereoCosts, stereoSubnetLayout, stereoSupernetLayout, STEREO_STRIDE, STEREO_UNITS, type StereoSubnetLayout, type StereoSupernetLayout } from './layout';
export { buildStereoModel, VIEW_OFFSET, VIEW_SCALE } from './extract';
