// daemon/tasks/stereo/: stereo disparity estimation as a MANTA task — for now its building blocks: the KITTI
// metrics, the correlation layer its supernet will be built around, and the block-matching baseline.
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
