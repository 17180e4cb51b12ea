// daemon/data/stereo/: stereo data on plain typed arrays — PFM and KITTI disparity files, the pair generator, the dataset and its batches.
export { parsePfm, encodePfm, readPfm, writePfm, type PfmImage, type PfmEncodeOptions } from './pfm';
export {
  parseKittiDisparity,
  encodeKittiDisparity,
  readKittiDisparity,
  writeKittiDisparity,
  KITTI_DISPARITY_SCALE,
  KITTI_MAX_DISPARITY,
  type DisparityMap,
} from './kitti-png';
export { generateStereoPair, stereoScene, type StereoGeneratorOptions } from './generator';
export { renderScene, type StereoPair } from './render';
export { covers, disparityAt, sampleScene, type DisparityPlane, type SceneOptions, type StereoScene, type Surface, type SurfaceShape } from './scene';
export { shade, type SurfaceTexture } from './texture';
export { encodeImagePng, writeStereoPair, type StereoPairFiles } from './write-pair';
export {
  loadStereoDataset,
  type StereoBatch,
  type StereoDataset,
  type StereoTaskData,
  type StereoTrainOptions,
  type StereoTrainStream,
} from './dataset';
export { STEREO_SIZE_MULTIPLE } from './sizes';
