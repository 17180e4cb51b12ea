/* Generated from manta-config.schema.json by schemas/generate-types.mjs: do not edit by hand. */

/**
 * The dataset. 'synthetic' and 'stereo-synthetic' are generated from the seed (no files); the others read files. The 'stereo-*' kinds are for task 'stereo'.
 *
 * This interface was referenced by `MantaConfig`'s JSON-Schema
 * via the `definition` "DataConfig".
 */
export type DataConfig = SyntheticData | IdxData | Cifar10Data | FolderData | StereoSyntheticData | StereoFolderData;
/**
 * Activation function: relu, relu6 or h-swish (x·relu6(x+3)/6).
 *
 * This interface was referenced by `MantaConfig`'s JSON-Schema
 * via the `definition` "Activation".
 */
export type Activation = 'relu' | 'relu6' | 'hswish';

/**
 * A MANTA search config: the dataset, the Once-for-All supernet, progressive-shrinking training and the architecture search. Files named *.manta.json are checked against this schema.
 */
export interface MantaConfig {
  /**
   * Path or URL of this schema (for editors).
   */
  $schema?: string;
  /**
   * Name of the search; run directories are named after it. Letters, digits, '.', '_' and '-'.
   */
  name: string;
  /**
   * What the supernet learns. 'classification': five searchable units and a softmax classifier. 'stereo': disparity of a rectified stereo pair — six searchable units (three siamese), a correlation layer and a decoder of six transposed convolutions with U-links; its data is a 'stereo-synthetic' or 'stereo-folder' set.
   */
  task: 'classification' | 'stereo';
  /**
   * Seed of every random choice (weights, sampling, augmentation, search). The same seed and config give the same weights.
   */
  seed?: number;
  /**
   * tfjs backend. 'auto' tries tensorflow (tfjs-node-gpu, then tfjs-node), webgpu, wasm, cpu in that order. The MANTA_BACKEND environment variable overrides it.
   */
  backend?: 'auto' | 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
  data: DataConfig;
  supernet: SupernetConfig;
  training: TrainingConfig;
  distributed?: DistributedConfig;
  search?: SearchConfig;
  finetune?: FinetuneConfig;
  /**
   * Where results go.
   */
  output?: {
    /**
     * Directory that holds one sub-directory per run, relative to the config file.
     */
    runsDir?: string;
  };
}
/**
 * A procedurally generated image classification set: each class is a distinct pattern of shapes and colours, with noise. Needs no files.
 *
 * This interface was referenced by `MantaConfig`'s JSON-Schema
 * via the `definition` "SyntheticData".
 */
export interface SyntheticData {
  kind: 'synthetic';
  classes?: number;
  /**
   * Height and width of the generated images.
   */
  imageSize?: number;
  channels?: 1 | 3;
  trainSize?: number;
  validationSize?: number;
  testSize?: number;
  augmentation?: Augmentation;
  normalization?: Normalization;
}
/**
 * Training-time augmentation.
 *
 * This interface was referenced by `MantaConfig`'s JSON-Schema
 * via the `definition` "Augmentation".
 */
export interface Augmentation {
  /**
   * Random crop after zero padding by this many pixels (0: no crop).
   */
  cropPadding?: number;
  /**
   * Flip half of the images left-right.
   */
  horizontalFlip?: boolean;
}
/**
 * Per-channel normalization applied to pixels scaled to [0,1]: (x - mean) / std, one value per channel or one for all. Without it: mean 0.5 and std 0.5 for every channel, so pixels span [-1, 1].
 *
 * This interface was referenced by `MantaConfig`'s JSON-Schema
 * via the `definition` "Normalization".
 */
export interface Normalization {
  /**
   * @minItems 1
   * @maxItems 3
   */
  mean: number[];
  /**
   * @minItems 1
   * @maxItems 3
   */
  std: number[];
}
/**
 * IDX files as MNIST and Fashion-MNIST ship them (raw or .gz). Paths are relative to the config file.
 *
 * This interface was referenced by `MantaConfig`'s JSON-Schema
 * via the `definition` "IdxData".
 */
export interface IdxData {
  kind: 'idx';
  /**
   * IDX3 image file of the training set, e.g. train-images-idx3-ubyte.gz.
   */
  trainImages: string;
  /**
   * IDX1 label file of the training set.
   */
  trainLabels: string;
  /**
   * IDX3 image file of the test set.
   */
  testImages: string;
  /**
   * IDX1 label file of the test set.
   */
  testLabels: string;
  classes?: number;
  /**
   * Fraction of the training file held out for validation (subnet measurement, predictor data).
   */
  validationSplit?: number;
  limit?: Splits;
  augmentation?: Augmentation;
  normalization?: Normalization;
}
/**
 * Caps on the number of examples used from each split (for quick runs).
 *
 * This interface was referenced by `MantaConfig`'s JSON-Schema
 * via the `definition` "Splits".
 */
export interface Splits {
  train?: number;
  validation?: number;
  test?: number;
}
/**
 * CIFAR-10 binary version: a directory holding data_batch_1.bin … data_batch_5.bin and test_batch.bin.
 *
 * This interface was referenced by `MantaConfig`'s JSON-Schema
 * via the `definition` "Cifar10Data".
 */
export interface Cifar10Data {
  kind: 'cifar10';
  /**
   * Directory of the .bin batches, relative to the config file.
   */
  dir: string;
  validationSplit?: number;
  limit?: Splits;
  augmentation?: Augmentation;
  normalization?: Normalization;
}
/**
 * An image folder: one sub-folder per class holding PNG or JPEG files.
 *
 * This interface was referenced by `MantaConfig`'s JSON-Schema
 * via the `definition` "FolderData".
 */
export interface FolderData {
  kind: 'folder';
  /**
   * Folder of class sub-folders for training, relative to the config file.
   */
  train: string;
  /**
   * Folder of class sub-folders for testing, with the same class names; without it, validationSplit of 'train' is held out for testing too.
   */
  test?: string;
  /**
   * Images are resized to this height and width.
   */
  imageSize?: number;
  validationSplit?: number;
  limit?: Splits;
  augmentation?: Augmentation;
  normalization?: Normalization;
}
/**
 * Procedurally generated rectified stereo pairs with exact ground-truth disparity (textured shapes at different depths over a textured background, with occlusions), from the seed. Needs no files.
 *
 * This interface was referenced by `MantaConfig`'s JSON-Schema
 * via the `definition` "StereoSyntheticData".
 */
export interface StereoSyntheticData {
  kind: 'stereo-synthetic';
  /**
   * Width of a pair, a multiple of 64 (the supernet's total stride).
   */
  width?: number;
  /**
   * Height of a pair, a multiple of 64.
   */
  height?: number;
  /**
   * Largest disparity in pixels; every ground-truth disparity lies in [1, maxDisparity].
   */
  maxDisparity?: number;
  channels?: 1 | 3;
  /**
   * Surface texture: multi-scale value noise, or random dots.
   */
  texture?: 'noise' | 'random-dot';
  /**
   * Shapes in front of the background per pair.
   */
  shapes?: number;
  /**
   * Slanted planes (fractional disparities) besides fronto-parallel ones.
   */
  slanted?: boolean;
  /**
   * Sensor noise (standard deviation in grey levels), independent per view.
   */
  noise?: number;
  trainSize?: number;
  validationSize?: number;
  testSize?: number;
  augmentation?: StereoAugmentation;
}
/**
 * Training-time augmentation of stereo pairs: a random crop (the same window in both views, so disparities keep their meaning) and photometric changes applied to both views alike.
 *
 * This interface was referenced by `MantaConfig`'s JSON-Schema
 * via the `definition` "StereoAugmentation".
 */
export interface StereoAugmentation {
  /**
   * Width of the random training crop (0: the whole pair). A multiple of 64 (the supernet's total stride).
   */
  cropWidth?: number;
  /**
   * Height of the random training crop (0: the whole pair). A multiple of 64.
   */
  cropHeight?: number;
  /**
   * Random brightness shift, up to this fraction of the range, the same for both views.
   */
  brightness?: number;
  /**
   * Random contrast factor in [1 − c, 1 + c], the same for both views.
   */
  contrast?: number;
}
/**
 * Rectified stereo pairs read from a folder with one sub-folder per role: left views, right views (PNG or JPEG) and left-view ground truth, either PFM (SceneFlow, Middlebury; inf = none) or KITTI's 16-bit PNG (value / 256, 0 = none). Files of the three sub-folders pair up by base name. `manta stereo-data` writes such a folder from the built-in generator.
 *
 * This interface was referenced by `MantaConfig`'s JSON-Schema
 * via the `definition` "StereoFolderData".
 */
export interface StereoFolderData {
  kind: 'stereo-folder';
  /**
   * The folder, relative to the config file or absolute (on the host that trains).
   */
  path: string;
  /**
   * Sub-folder of the left views (KITTI: 'image_2').
   */
  left?: string;
  /**
   * Sub-folder of the right views (KITTI: 'image_3').
   */
  right?: string;
  /**
   * Sub-folder of the left views' disparity maps, .pfm or .png (KITTI: 'disp_occ_0').
   */
  disparity?: string;
  /**
   * Another folder of the same layout holding the test pairs (default: testSize pairs held out of `path`).
   */
  test?: string;
  /**
   * Largest disparity the network is to find, in pixels (sets the colour scale of the pictures; larger ground truth is kept).
   */
  maxDisparity: number;
  /**
   * Read the views as grey (1) or RGB (3).
   */
  channels?: 1 | 3;
  /**
   * Pairs held out of the training folder for validation (seeded).
   */
  validationSize?: number;
  /**
   * Pairs held out for testing when there is no `test` folder.
   */
  testSize?: number;
  /**
   * Validation and test pairs are centre-cropped to this width (0: the largest multiple of 64 that fits).
   */
  evaluationWidth?: number;
  /**
   * Centre-crop height of validation and test pairs (0: the largest multiple of 64 that fits).
   */
  evaluationHeight?: number;
  augmentation?: StereoAugmentation;
}
/**
 * The Once-for-All supernet and its elastic dimensions. The defaults reproduce OFA's MobileNetV3 supernet.
 *
 * This interface was referenced by `MantaConfig`'s JSON-Schema
 * via the `definition` "SupernetConfig".
 */
export interface SupernetConfig {
  stem?: Stem;
  firstBlock?: FirstBlock;
  /**
   * The searchable units: five for 'classification', six for 'stereo' (units 1–3 siamese, each halving the resolution; units 4–6 after the correlation).
   *
   * @minItems 5
   * @maxItems 6
   */
  units: Unit[];
  /**
   * Channels of the 1×1 expansion after the last unit.
   */
  finalExpandWidth?: number;
  /**
   * Channels of the feature-mix layer before the classifier.
   */
  featureMixWidth?: number;
  /**
   * Dropout before the classifier during training.
   */
  dropout?: number;
  /**
   * Depthwise kernel sizes to search (odd, ascending). Smaller kernels are the centre of the largest, transformed.
   *
   * @minItems 1
   * @maxItems 5
   */
  kernelChoices?: (1 | 3 | 5 | 7 | 9)[];
  /**
   * Expand ratios to search (ascending).
   *
   * @minItems 1
   * @maxItems 8
   */
  expandChoices?: number[];
  /**
   * Blocks per unit to search (ascending); a unit keeps its first d blocks.
   *
   * @minItems 1
   * @maxItems 8
   */
  depthChoices?: number[];
  /**
   * Width multipliers of the units' output channels (ascending, largest 1).
   *
   * @minItems 1
   * @maxItems 6
   */
  widthChoices?: number[];
  /**
   * Input resolutions to search (ascending); images are resized to the sampled one.
   *
   * @minItems 1
   * @maxItems 8
   */
  resolutionChoices?: number[];
  stereo?: StereoSupernet;
}
/**
 * The first convolution (3×3) with batch norm and activation.
 *
 * This interface was referenced by `MantaConfig`'s JSON-Schema
 * via the `definition` "Stem".
 */
export interface Stem {
  width?: number;
  stride?: 1 | 2;
  activation?: Activation;
}
/**
 * The fixed (not searchable) MBConv block after the stem, expand ratio 1, as in OFA's MobileNetV3.
 *
 * This interface was referenced by `MantaConfig`'s JSON-Schema
 * via the `definition` "FirstBlock".
 */
export interface FirstBlock {
  width?: number;
  kernel?: 1 | 3 | 5 | 7;
  stride?: 1 | 2;
  activation?: Activation;
  squeezeExcite?: boolean;
}
/**
 * A searchable unit: a stack of MBConv blocks whose depth, kernel sizes and expand ratios are searched.
 *
 * This interface was referenced by `MantaConfig`'s JSON-Schema
 * via the `definition` "Unit".
 */
export interface Unit {
  /**
   * Output channels of every block of the unit.
   */
  width: number;
  /**
   * Stride of the unit's first block; the other blocks have stride 1.
   */
  stride?: 1 | 2;
  activation?: Activation;
  /**
   * Squeeze-and-excite after the depthwise convolution of each block.
   */
  squeezeExcite?: boolean;
}
/**
 * The parts of the stereo supernet outside its six units (task 'stereo' only).
 *
 * This interface was referenced by `MantaConfig`'s JSON-Schema
 * via the `definition` "StereoSupernet".
 */
export interface StereoSupernet {
  /**
   * Which siamese unit's left and right features are correlated (its output is at 1/2^unit of the input).
   */
  correlationUnit?: number;
  /**
   * Largest displacement the correlation tries, in pixels of the correlated features (full-resolution disparity / 2^unit).
   */
  maxDisplacement?: number;
  /**
   * Step between tried displacements; it must divide maxDisplacement.
   */
  correlationStride?: number;
  /**
   * Channels of the 1×1 'redirect' conv of the left features, concatenated with the correlation (DispNet-C).
   */
  redirectWidth?: number;
  /**
   * Channels of the six transposed convolutions, coarse (1/32) to fine (full resolution).
   *
   * @minItems 6
   * @maxItems 6
   */
  decoderWidths?: number[];
  /**
   * Each stage after the first predicts a correction added to the upsampled coarser disparity, instead of the disparity itself (DispNet-C, the default, predicts it outright; measured on the generated pairs, refinement trained slower).
   */
  residual?: boolean;
}
/**
 * Progressive-shrinking training of the supernet.
 *
 * This interface was referenced by `MantaConfig`'s JSON-Schema
 * via the `definition` "TrainingConfig".
 */
export interface TrainingConfig {
  batchSize?: number;
  /**
   * Subnets sampled per step (K) in width and resolution phases; largest, kernel, depth and expand phases take OFA's K (1, 1, 2, 4) unless the phase sets its own subnetsPerStep.
   */
  subnetsPerStep?: number;
  /**
   * Weight of knowledge distillation (0: none) from the frozen teacher: a copy of the supernet taken at the end of the 'largest' phase, run as OFA runs it (the batch's resolution, batch statistics, no dropout). Not used in the 'largest' phase, nor in phases without a 'largest' phase before them.
   */
  kdRatio?: number;
  labelSmoothing?: number;
  momentum?: number;
  nesterov?: boolean;
  /**
   * L2 weight decay on convolution and dense weights (not on batch norm or biases).
   */
  weightDecay?: number;
  /**
   * Cap on steps per epoch (default: the whole training split).
   */
  stepsPerEpoch?: number;
  /**
   * Training images used to recalibrate a subnet's batch-norm statistics before it is measured (OFA's set_running_statistics; OFA uses 2,000): a fixed random subset drawn from the seed with the training augmentation, the same for every subnet of a run.
   */
  bnCalibrationSize?: number;
  /**
   * Cap on validation images used for the per-phase evaluation (default: the whole split).
   */
  evaluationSize?: number;
  checkpointEverySteps?: number;
  keepCheckpoints?: number;
  /**
   * The phases in order, e.g. largest → kernel → depth (2 stages) → expand (2 stages).
   *
   * @minItems 1
   * @maxItems 16
   */
  phases: Phase[];
  disparityLoss?: DisparityLoss;
}
/**
 * One phase of progressive shrinking. The list of the dimension a phase makes elastic defaults to all of the supernet's choices (so {"phase": "kernel"} alone makes the kernel elastic); any other list left out is inherited from the previous phase. A 'largest' phase (and the predecessor of the first phase) is the largest network at every resolution (OFA samples the resolution in every phase).
 *
 * This interface was referenced by `MantaConfig`'s JSON-Schema
 * via the `definition` "Phase".
 */
export interface Phase {
  /**
   * Which dimension this phase makes elastic (for the monitor and logs).
   */
  phase: 'largest' | 'kernel' | 'depth' | 'expand' | 'width' | 'resolution';
  epochs: number;
  /**
   * Peak learning rate of this phase's cosine schedule.
   */
  learningRate?: number;
  /**
   * Linear warm-up from 0 to the peak, counted within the phase's epochs. Default as OFA: 1/25 of the phase (OFA's 5 warm-up epochs before 120) for a kernel phase and for the second and later depth or expand phases; none otherwise.
   */
  warmupEpochs?: number;
  /**
   * Subnets sampled per step in this phase (K); their gradients are summed before one update. Default as OFA: 1 for a largest or kernel phase, 2 for depth, 4 for expand; training.subnetsPerStep for width and resolution phases.
   */
  subnetsPerStep?: number;
  /**
   * Kernel sizes sampled in this phase (a subset of kernelChoices).
   *
   * @minItems 1
   */
  kernel?: number[];
  /**
   * Expand ratios sampled in this phase (a subset of expandChoices).
   *
   * @minItems 1
   */
  expand?: number[];
  /**
   * Depths sampled in this phase (a subset of depthChoices).
   *
   * @minItems 1
   */
  depth?: number[];
  /**
   * Width multipliers sampled in this phase (a subset of widthChoices).
   *
   * @minItems 1
   */
  width?: number[];
  /**
   * Resolutions sampled in this phase (a subset of resolutionChoices): one per step, shared by its subnets and the teacher (OFA's per-batch image size). A 'largest' phase samples all of resolutionChoices unless it names its own.
   *
   * @minItems 1
   */
  resolution?: number[];
}
/**
 * Task 'stereo': the multi-scale disparity loss. Every scale predicts disparity in full-resolution pixels; the ground truth is average-pooled per scale over its valid pixels. The per-scale weights move linearly from `startWeights` to `endWeights` over the run's steps (DispNet shifts weight from coarse to fine scales).
 *
 * This interface was referenced by `MantaConfig`'s JSON-Schema
 * via the `definition` "DisparityLoss".
 */
export interface DisparityLoss {
  kind?: 'smooth-l1' | 'l1';
  /**
   * Weights of the six scales at the first step, coarse (1/32) to fine (full resolution) — for orientation: DispNet's ports start at the coarsest scale.
   *
   * @minItems 6
   * @maxItems 6
   */
  startWeights?: number[];
  /**
   * Weights of the six scales at the last step, coarse to fine.
   *
   * @minItems 6
   * @maxItems 6
   */
  endWeights?: number[];
}
/**
 * How supernet training is spread over worker processes (one per device) and hosts. The global batch (/training/batchSize) is split evenly across all workers.
 *
 * This interface was referenced by `MantaConfig`'s JSON-Schema
 * via the `definition` "DistributedConfig".
 */
export interface DistributedConfig {
  /**
   * 'data-parallel': every worker trains the same K subnets on its shard of the batch and the gradients are averaged over all workers. 'subnet-parallel': each node trains its own subnet (as many subnets per step as nodes); gradients are averaged within each node, then over nodes.
   */
  algorithm?: 'data-parallel' | 'subnet-parallel';
  /**
   * Training worker processes per host: 'auto' is one per GPU on a GPU host, otherwise one per CPU core (lowered to a count that divides the batch). 1 trains in the run's own process.
   */
  workersPerHost?: number | 'auto';
  /**
   * Logical nodes per host for 'subnet-parallel' (each node trains its own subnet); must divide the workers per host. Lets both algorithms run on one machine.
   */
  nodesPerHost?: number;
  /**
   * How long a worker waits for a peer (joining the job, or inside one all-reduce) before the job stops with an error naming that peer.
   */
  timeoutSeconds?: number;
  /**
   * TCP port of the job's rendezvous on the coordinator host when the job spans several hosts (a single-host job uses a free loopback port).
   */
  port?: number;
}
/**
 * Search of the trained supernet: measure subnets, fit an accuracy predictor, evolve, re-measure the Pareto front.
 *
 * This interface was referenced by `MantaConfig`'s JSON-Schema
 * via the `definition` "SearchConfig".
 */
export interface SearchConfig {
  /**
   * Subnets measured (BN recalibrated, validation split) to train the accuracy predictor; measuredSubnets × predictor.heldOut of them are held out to judge it (Kendall's tau with its 95% interval). With 2 or more CPU cores and one training worker they are measured by 2 processes.
   */
  measuredSubnets?: number;
  /**
   * The cost traded against accuracy on the Pareto front.
   */
  objective?: 'macs' | 'params' | 'latency';
  constraints?: Constraints;
  /**
   * Where and how subnet latency is timed (objective "latency", constraints.maxLatencyMs, the latency column of the results): a model of the runtime on this host fitted to directly timed subnets, cached per runtime, device and supernet shape, and checked against other timed subnets at the end of the run.
   */
  latency?: {
    /**
     * "engine": the training engine's backend (e.g. wasm) running the exported tfjs subnet; "onnxruntime": ONNX Runtime on this CPU (the onnxruntime-node package) running the exported ONNX subnet.
     */
    runtime?: 'engine' | 'onnxruntime';
    /**
     * Images per timed forward; latencies are per forward of this many.
     */
    batchSize?: number;
    /**
     * ONNX Runtime's intra-op threads (the engine computes with its own: wasm uses 1).
     */
    threads?: number;
    /**
     * Subnets timed to fit the latency model (the smallest, the largest and random ones).
     */
    fitSubnets?: number;
  };
  /**
   * At most this many points of the evolution's predicted front are re-measured. The final front is the Pareto set of every subnet measured in the run (these and the predictor's measured set); each of its subnets is measured on the test split and exported.
   */
  frontSize?: number;
  /**
   * The MLP accuracy predictor on the one-hot architecture encoding.
   */
  predictor?: {
    layers?: number;
    hiddenUnits?: number;
    epochs?: number;
    learningRate?: number;
    /**
     * Fraction of measured subnets held out to report RMSE and Kendall's tau with its 95% bootstrap interval (e.g. 500 measured × 0.2 = 100 held out); the search's predictor is then refitted on all of them.
     */
    heldOut?: number;
    /**
     * A held-out Kendall's tau below this is reported as a warning in the results.
     */
    tauFloor?: number;
  };
  /**
   * Evolutionary search; the defaults are OFA's.
   */
  evolution?: {
    population?: number;
    generations?: number;
    parentRatio?: number;
    mutationRatio?: number;
    /**
     * Chance that a mutation redraws each block's kernel and expand ratio, each unit's depth and the width (OFA's arch_mutate_prob).
     */
    mutationProbability?: number;
    /**
     * Chance that a mutation redraws the input resolution (OFA's resolution_mutate_prob).
     */
    resolutionMutationProbability?: number;
  };
}
/**
 * Upper bounds a subnet must meet. Any combination.
 *
 * This interface was referenced by `MantaConfig`'s JSON-Schema
 * via the `definition` "Constraints".
 */
export interface Constraints {
  /**
   * Multiply-accumulates per image (forward).
   */
  maxMacs?: number;
  /**
   * Parameters.
   */
  maxParams?: number;
  /**
   * Latency in ms per forward (of search.latency.batchSize images) on search.latency.runtime, from the latency model fitted to directly timed subnets.
   */
  maxLatencyMs?: number;
}
/**
 * Fine-tuning one searched subnet of a finished run (`manta finetune <run> --arch <i>`, MANTA: Fine-tune Subnet…): the subnet is fixed and the supernet weights it uses are trained further on the run's training data and augmentation, with the training's SGD (momentum, Nesterov, weight decay, label smoothing), a short linear warm-up and a cosine to zero, optionally distilled from a frozen teacher. The result is a derived run; the source run is left as it is.
 *
 * This interface was referenced by `MantaConfig`'s JSON-Schema
 * via the `definition` "FinetuneConfig".
 */
export interface FinetuneConfig {
  /**
   * Epochs of fine-tuning (an epoch as in /training: the training split's whole batches, capped by /training/stepsPerEpoch). `--epochs` overrides it.
   */
  epochs?: number;
  /**
   * Peak learning rate, reached after the warm-up. Default: the learning rate of the last training phase. `--lr` overrides it.
   */
  learningRate?: number;
  /**
   * Linear warm-up at the start, in epochs; kept shorter than the fine-tuning itself.
   */
  warmupEpochs?: number;
  /**
   * Weight of distillation from the frozen teacher (the supernet at the end of its 'largest' phase when the run's checkpoint keeps it, else the run's trained largest subnet); 0: none. Default: /training/kdRatio.
   */
  kdRatio?: number;
  /**
   * Training batch size. Default: /training/batchSize.
   */
  batchSize?: number;
}

/**
 * The dataset. 'synthetic' and 'stereo-synthetic' are generated from the seed (no files); the others read files. The 'stereo-*' kinds are for task 'stereo'.
 *
 * This interface was referenced by `ResolvedConfig`'s JSON-Schema
 * via the `definition` "ResolvedDataConfig".
 */
export type ResolvedDataConfig =
  | ResolvedSyntheticData
  | ResolvedIdxData
  | ResolvedCifar10Data
  | ResolvedFolderData
  | ResolvedStereoSyntheticData
  | ResolvedStereoFolderData;
/**
 * Activation function: relu, relu6 or h-swish (x·relu6(x+3)/6).
 *
 * This interface was referenced by `ResolvedConfig`'s JSON-Schema
 * via the `definition` "ResolvedActivation".
 */
export type ResolvedActivation = 'relu' | 'relu6' | 'hswish';

/**
 * A MANTA search config: the dataset, the Once-for-All supernet, progressive-shrinking training and the architecture search. Files named *.manta.json are checked against this schema.
 */
export interface ResolvedConfig {
  /**
   * Path or URL of this schema (for editors).
   */
  $schema?: string;
  /**
   * Name of the search; run directories are named after it. Letters, digits, '.', '_' and '-'.
   */
  name: string;
  /**
   * What the supernet learns. 'classification': five searchable units and a softmax classifier. 'stereo': disparity of a rectified stereo pair — six searchable units (three siamese), a correlation layer and a decoder of six transposed convolutions with U-links; its data is a 'stereo-synthetic' or 'stereo-folder' set.
   */
  task: 'classification' | 'stereo';
  /**
   * Seed of every random choice (weights, sampling, augmentation, search). The same seed and config give the same weights.
   */
  seed: number;
  /**
   * tfjs backend. 'auto' tries tensorflow (tfjs-node-gpu, then tfjs-node), webgpu, wasm, cpu in that order. The MANTA_BACKEND environment variable overrides it.
   */
  backend: 'auto' | 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
  data: ResolvedDataConfig;
  supernet: ResolvedSupernetConfig;
  training: ResolvedTrainingConfig;
  distributed: ResolvedDistributedConfig;
  search: ResolvedSearchConfig;
  finetune: ResolvedFinetuneConfig;
  /**
   * Where results go.
   */
  output: {
    /**
     * Directory that holds one sub-directory per run, relative to the config file.
     */
    runsDir: string;
  };
}
/**
 * A procedurally generated image classification set: each class is a distinct pattern of shapes and colours, with noise. Needs no files.
 *
 * This interface was referenced by `ResolvedConfig`'s JSON-Schema
 * via the `definition` "ResolvedSyntheticData".
 */
export interface ResolvedSyntheticData {
  kind: 'synthetic';
  classes: number;
  /**
   * Height and width of the generated images.
   */
  imageSize: number;
  channels: 1 | 3;
  trainSize: number;
  validationSize: number;
  testSize: number;
  augmentation: ResolvedAugmentation;
  normalization?: ResolvedNormalization;
}
/**
 * Training-time augmentation.
 *
 * This interface was referenced by `ResolvedConfig`'s JSON-Schema
 * via the `definition` "ResolvedAugmentation".
 */
export interface ResolvedAugmentation {
  /**
   * Random crop after zero padding by this many pixels (0: no crop).
   */
  cropPadding: number;
  /**
   * Flip half of the images left-right.
   */
  horizontalFlip: boolean;
}
/**
 * Per-channel normalization applied to pixels scaled to [0,1]: (x - mean) / std, one value per channel or one for all. Without it: mean 0.5 and std 0.5 for every channel, so pixels span [-1, 1].
 *
 * This interface was referenced by `ResolvedConfig`'s JSON-Schema
 * via the `definition` "ResolvedNormalization".
 */
export interface ResolvedNormalization {
  /**
   * @minItems 1
   * @maxItems 3
   */
  mean: number[];
  /**
   * @minItems 1
   * @maxItems 3
   */
  std: number[];
}
/**
 * IDX files as MNIST and Fashion-MNIST ship them (raw or .gz). Paths are relative to the config file.
 *
 * This interface was referenced by `ResolvedConfig`'s JSON-Schema
 * via the `definition` "ResolvedIdxData".
 */
export interface ResolvedIdxData {
  kind: 'idx';
  /**
   * IDX3 image file of the training set, e.g. train-images-idx3-ubyte.gz.
   */
  trainImages: string;
  /**
   * IDX1 label file of the training set.
   */
  trainLabels: string;
  /**
   * IDX3 image file of the test set.
   */
  testImages: string;
  /**
   * IDX1 label file of the test set.
   */
  testLabels: string;
  classes: number;
  /**
   * Fraction of the training file held out for validation (subnet measurement, predictor data).
   */
  validationSplit: number;
  limit?: ResolvedSplits;
  augmentation: ResolvedAugmentation;
  normalization?: ResolvedNormalization;
}
/**
 * Caps on the number of examples used from each split (for quick runs).
 *
 * This interface was referenced by `ResolvedConfig`'s JSON-Schema
 * via the `definition` "ResolvedSplits".
 */
export interface ResolvedSplits {
  train?: number;
  validation?: number;
  test?: number;
}
/**
 * CIFAR-10 binary version: a directory holding data_batch_1.bin … data_batch_5.bin and test_batch.bin.
 *
 * This interface was referenced by `ResolvedConfig`'s JSON-Schema
 * via the `definition` "ResolvedCifar10Data".
 */
export interface ResolvedCifar10Data {
  kind: 'cifar10';
  /**
   * Directory of the .bin batches, relative to the config file.
   */
  dir: string;
  validationSplit: number;
  limit?: ResolvedSplits;
  augmentation: ResolvedAugmentation;
  normalization?: ResolvedNormalization;
}
/**
 * An image folder: one sub-folder per class holding PNG or JPEG files.
 *
 * This interface was referenced by `ResolvedConfig`'s JSON-Schema
 * via the `definition` "ResolvedFolderData".
 */
export interface ResolvedFolderData {
  kind: 'folder';
  /**
   * Folder of class sub-folders for training, relative to the config file.
   */
  train: string;
  /**
   * Folder of class sub-folders for testing, with the same class names; without it, validationSplit of 'train' is held out for testing too.
   */
  test?: string;
  /**
   * Images are resized to this height and width.
   */
  imageSize: number;
  validationSplit: number;
  limit?: ResolvedSplits;
  augmentation: ResolvedAugmentation;
  normalization?: ResolvedNormalization;
}
/**
 * Procedurally generated rectified stereo pairs with exact ground-truth disparity (textured shapes at different depths over a textured background, with occlusions), from the seed. Needs no files.
 *
 * This interface was referenced by `ResolvedConfig`'s JSON-Schema
 * via the `definition` "ResolvedStereoSyntheticData".
 */
export interface ResolvedStereoSyntheticData {
  kind: 'stereo-synthetic';
  /**
   * Width of a pair, a multiple of 64 (the supernet's total stride).
   */
  width: number;
  /**
   * Height of a pair, a multiple of 64.
   */
  height: number;
  /**
   * Largest disparity in pixels; every ground-truth disparity lies in [1, maxDisparity].
   */
  maxDisparity: number;
  channels: 1 | 3;
  /**
   * Surface texture: multi-scale value noise, or random dots.
   */
  texture: 'noise' | 'random-dot';
  /**
   * Shapes in front of the background per pair.
   */
  shapes: number;
  /**
   * Slanted planes (fractional disparities) besides fronto-parallel ones.
   */
  slanted: boolean;
  /**
   * Sensor noise (standard deviation in grey levels), independent per view.
   */
  noise: number;
  trainSize: number;
  validationSize: number;
  testSize: number;
  augmentation: ResolvedStereoAugmentation;
}
/**
 * Training-time augmentation of stereo pairs: a random crop (the same window in both views, so disparities keep their meaning) and photometric changes applied to both views alike.
 *
 * This interface was referenced by `ResolvedConfig`'s JSON-Schema
 * via the `definition` "ResolvedStereoAugmentation".
 */
export interface ResolvedStereoAugmentation {
  /**
   * Width of the random training crop (0: the whole pair). A multiple of 64 (the supernet's total stride).
   */
  cropWidth: number;
  /**
   * Height of the random training crop (0: the whole pair). A multiple of 64.
   */
  cropHeight: number;
  /**
   * Random brightness shift, up to this fraction of the range, the same for both views.
   */
  brightness: number;
  /**
   * Random contrast factor in [1 − c, 1 + c], the same for both views.
   */
  contrast: number;
}
/**
 * Rectified stereo pairs read from a folder with one sub-folder per role: left views, right views (PNG or JPEG) and left-view ground truth, either PFM (SceneFlow, Middlebury; inf = none) or KITTI's 16-bit PNG (value / 256, 0 = none). Files of the three sub-folders pair up by base name. `manta stereo-data` writes such a folder from the built-in generator.
 *
 * This interface was referenced by `ResolvedConfig`'s JSON-Schema
 * via the `definition` "ResolvedStereoFolderData".
 */
export interface ResolvedStereoFolderData {
  kind: 'stereo-folder';
  /**
   * The folder, relative to the config file or absolute (on the host that trains).
   */
  path: string;
  /**
   * Sub-folder of the left views (KITTI: 'image_2').
   */
  left: string;
  /**
   * Sub-folder of the right views (KITTI: 'image_3').
   */
  right: string;
  /**
   * Sub-folder of the left views' disparity maps, .pfm or .png (KITTI: 'disp_occ_0').
   */
  disparity: string;
  /**
   * Another folder of the same layout holding the test pairs (default: testSize pairs held out of `path`).
   */
  test?: string;
  /**
   * Largest disparity the network is to find, in pixels (sets the colour scale of the pictures; larger ground truth is kept).
   */
  maxDisparity: number;
  /**
   * Read the views as grey (1) or RGB (3).
   */
  channels: 1 | 3;
  /**
   * Pairs held out of the training folder for validation (seeded).
   */
  validationSize: number;
  /**
   * Pairs held out for testing when there is no `test` folder.
   */
  testSize: number;
  /**
   * Validation and test pairs are centre-cropped to this width (0: the largest multiple of 64 that fits).
   */
  evaluationWidth: number;
  /**
   * Centre-crop height of validation and test pairs (0: the largest multiple of 64 that fits).
   */
  evaluationHeight: number;
  augmentation: ResolvedStereoAugmentation;
}
/**
 * The Once-for-All supernet and its elastic dimensions. The defaults reproduce OFA's MobileNetV3 supernet.
 *
 * This interface was referenced by `ResolvedConfig`'s JSON-Schema
 * via the `definition` "ResolvedSupernetConfig".
 */
export interface ResolvedSupernetConfig {
  stem: ResolvedStem;
  firstBlock: ResolvedFirstBlock;
  /**
   * The searchable units: five for 'classification', six for 'stereo' (units 1–3 siamese, each halving the resolution; units 4–6 after the correlation).
   *
   * @minItems 5
   * @maxItems 6
   */
  units: ResolvedUnit[];
  /**
   * Channels of the 1×1 expansion after the last unit.
   */
  finalExpandWidth: number;
  /**
   * Channels of the feature-mix layer before the classifier.
   */
  featureMixWidth: number;
  /**
   * Dropout before the classifier during training.
   */
  dropout: number;
  /**
   * Depthwise kernel sizes to search (odd, ascending). Smaller kernels are the centre of the largest, transformed.
   *
   * @minItems 1
   * @maxItems 5
   */
  kernelChoices: (1 | 3 | 5 | 7 | 9)[];
  /**
   * Expand ratios to search (ascending).
   *
   * @minItems 1
   * @maxItems 8
   */
  expandChoices: number[];
  /**
   * Blocks per unit to search (ascending); a unit keeps its first d blocks.
   *
   * @minItems 1
   * @maxItems 8
   */
  depthChoices: number[];
  /**
   * Width multipliers of the units' output channels (ascending, largest 1).
   *
   * @minItems 1
   * @maxItems 6
   */
  widthChoices: number[];
  /**
   * Input resolutions to search (ascending); images are resized to the sampled one.
   *
   * @minItems 1
   * @maxItems 8
   */
  resolutionChoices: number[];
  stereo: ResolvedStereoSupernet;
}
/**
 * The first convolution (3×3) with batch norm and activation.
 *
 * This interface was referenced by `ResolvedConfig`'s JSON-Schema
 * via the `definition` "ResolvedStem".
 */
export interface ResolvedStem {
  width: number;
  stride: 1 | 2;
  activation: ResolvedActivation;
}
/**
 * The fixed (not searchable) MBConv block after the stem, expand ratio 1, as in OFA's MobileNetV3.
 *
 * This interface was referenced by `ResolvedConfig`'s JSON-Schema
 * via the `definition` "ResolvedFirstBlock".
 */
export interface ResolvedFirstBlock {
  width: number;
  kernel: 1 | 3 | 5 | 7;
  stride: 1 | 2;
  activation: ResolvedActivation;
  squeezeExcite: boolean;
}
/**
 * A searchable unit: a stack of MBConv blocks whose depth, kernel sizes and expand ratios are searched.
 *
 * This interface was referenced by `ResolvedConfig`'s JSON-Schema
 * via the `definition` "ResolvedUnit".
 */
export interface ResolvedUnit {
  /**
   * Output channels of every block of the unit.
   */
  width: number;
  /**
   * Stride of the unit's first block; the other blocks have stride 1.
   */
  stride: 1 | 2;
  activation: ResolvedActivation;
  /**
   * Squeeze-and-excite after the depthwise convolution of each block.
   */
  squeezeExcite: boolean;
}
/**
 * The parts of the stereo supernet outside its six units (task 'stereo' only).
 *
 * This interface was referenced by `ResolvedConfig`'s JSON-Schema
 * via the `definition` "ResolvedStereoSupernet".
 */
export interface ResolvedStereoSupernet {
  /**
   * Which siamese unit's left and right features are correlated (its output is at 1/2^unit of the input).
   */
  correlationUnit: number;
  /**
   * Largest displacement the correlation tries, in pixels of the correlated features (full-resolution disparity / 2^unit).
   */
  maxDisplacement: number;
  /**
   * Step between tried displacements; it must divide maxDisplacement.
   */
  correlationStride: number;
  /**
   * Channels of the 1×1 'redirect' conv of the left features, concatenated with the correlation (DispNet-C).
   */
  redirectWidth: number;
  /**
   * Channels of the six transposed convolutions, coarse (1/32) to fine (full resolution).
   *
   * @minItems 6
   * @maxItems 6
   */
  decoderWidths: number[];
  /**
   * Each stage after the first predicts a correction added to the upsampled coarser disparity, instead of the disparity itself (DispNet-C, the default, predicts it outright; measured on the generated pairs, refinement trained slower).
   */
  residual: boolean;
}
/**
 * Progressive-shrinking training of the supernet.
 *
 * This interface was referenced by `ResolvedConfig`'s JSON-Schema
 * via the `definition` "ResolvedTrainingConfig".
 */
export interface ResolvedTrainingConfig {
  batchSize: number;
  /**
   * Subnets sampled per step (K) in width and resolution phases; largest, kernel, depth and expand phases take OFA's K (1, 1, 2, 4) unless the phase sets its own subnetsPerStep.
   */
  subnetsPerStep: number;
  /**
   * Weight of knowledge distillation (0: none) from the frozen teacher: a copy of the supernet taken at the end of the 'largest' phase, run as OFA runs it (the batch's resolution, batch statistics, no dropout). Not used in the 'largest' phase, nor in phases without a 'largest' phase before them.
   */
  kdRatio: number;
  labelSmoothing: number;
  momentum: number;
  nesterov: boolean;
  /**
   * L2 weight decay on convolution and dense weights (not on batch norm or biases).
   */
  weightDecay: number;
  /**
   * Cap on steps per epoch (default: the whole training split).
   */
  stepsPerEpoch?: number;
  /**
   * Training images used to recalibrate a subnet's batch-norm statistics before it is measured (OFA's set_running_statistics; OFA uses 2,000): a fixed random subset drawn from the seed with the training augmentation, the same for every subnet of a run.
   */
  bnCalibrationSize: number;
  /**
   * Cap on validation images used for the per-phase evaluation (default: the whole split).
   */
  evaluationSize?: number;
  checkpointEverySteps: number;
  keepCheckpoints: number;
  /**
   * The phases in order, e.g. largest → kernel → depth (2 stages) → expand (2 stages).
   *
   * @minItems 1
   * @maxItems 16
   */
  phases: ResolvedPhase[];
  disparityLoss: ResolvedDisparityLoss;
}
/**
 * One phase of progressive shrinking. The list of the dimension a phase makes elastic defaults to all of the supernet's choices (so {"phase": "kernel"} alone makes the kernel elastic); any other list left out is inherited from the previous phase. A 'largest' phase (and the predecessor of the first phase) is the largest network at every resolution (OFA samples the resolution in every phase).
 *
 * This interface was referenced by `ResolvedConfig`'s JSON-Schema
 * via the `definition` "ResolvedPhase".
 */
export interface ResolvedPhase {
  /**
   * Which dimension this phase makes elastic (for the monitor and logs).
   */
  phase: 'largest' | 'kernel' | 'depth' | 'expand' | 'width' | 'resolution';
  epochs: number;
  /**
   * Peak learning rate of this phase's cosine schedule.
   */
  learningRate: number;
  /**
   * Linear warm-up from 0 to the peak, counted within the phase's epochs. Default as OFA: 1/25 of the phase (OFA's 5 warm-up epochs before 120) for a kernel phase and for the second and later depth or expand phases; none otherwise.
   */
  warmupEpochs?: number;
  /**
   * Subnets sampled per step in this phase (K); their gradients are summed before one update. Default as OFA: 1 for a largest or kernel phase, 2 for depth, 4 for expand; training.subnetsPerStep for width and resolution phases.
   */
  subnetsPerStep?: number;
  /**
   * Kernel sizes sampled in this phase (a subset of kernelChoices).
   *
   * @minItems 1
   */
  kernel?: number[];
  /**
   * Expand ratios sampled in this phase (a subset of expandChoices).
   *
   * @minItems 1
   */
  expand?: number[];
  /**
   * Depths sampled in this phase (a subset of depthChoices).
   *
   * @minItems 1
   */
  depth?: number[];
  /**
   * Width multipliers sampled in this phase (a subset of widthChoices).
   *
   * @minItems 1
   */
  width?: number[];
  /**
   * Resolutions sampled in this phase (a subset of resolutionChoices): one per step, shared by its subnets and the teacher (OFA's per-batch image size). A 'largest' phase samples all of resolutionChoices unless it names its own.
   *
   * @minItems 1
   */
  resolution?: number[];
}
/**
 * Task 'stereo': the multi-scale disparity loss. Every scale predicts disparity in full-resolution pixels; the ground truth is average-pooled per scale over its valid pixels. The per-scale weights move linearly from `startWeights` to `endWeights` over the run's steps (DispNet shifts weight from coarse to fine scales).
 *
 * This interface was referenced by `ResolvedConfig`'s JSON-Schema
 * via the `definition` "ResolvedDisparityLoss".
 */
export interface ResolvedDisparityLoss {
  kind: 'smooth-l1' | 'l1';
  /**
   * Weights of the six scales at the first step, coarse (1/32) to fine (full resolution) — for orientation: DispNet's ports start at the coarsest scale.
   *
   * @minItems 6
   * @maxItems 6
   */
  startWeights: number[];
  /**
   * Weights of the six scales at the last step, coarse to fine.
   *
   * @minItems 6
   * @maxItems 6
   */
  endWeights: number[];
}
/**
 * How supernet training is spread over worker processes (one per device) and hosts. The global batch (/training/batchSize) is split evenly across all workers.
 *
 * This interface was referenced by `ResolvedConfig`'s JSON-Schema
 * via the `definition` "ResolvedDistributedConfig".
 */
export interface ResolvedDistributedConfig {
  /**
   * 'data-parallel': every worker trains the same K subnets on its shard of the batch and the gradients are averaged over all workers. 'subnet-parallel': each node trains its own subnet (as many subnets per step as nodes); gradients are averaged within each node, then over nodes.
   */
  algorithm: 'data-parallel' | 'subnet-parallel';
  /**
   * Training worker processes per host: 'auto' is one per GPU on a GPU host, otherwise one per CPU core (lowered to a count that divides the batch). 1 trains in the run's own process.
   */
  workersPerHost: number | 'auto';
  /**
   * Logical nodes per host for 'subnet-parallel' (each node trains its own subnet); must divide the workers per host. Lets both algorithms run on one machine.
   */
  nodesPerHost: number;
  /**
   * How long a worker waits for a peer (joining the job, or inside one all-reduce) before the job stops with an error naming that peer.
   */
  timeoutSeconds: number;
  /**
   * TCP port of the job's rendezvous on the coordinator host when the job spans several hosts (a single-host job uses a free loopback port).
   */
  port: number;
}
/**
 * Search of the trained supernet: measure subnets, fit an accuracy predictor, evolve, re-measure the Pareto front.
 *
 * This interface was referenced by `ResolvedConfig`'s JSON-Schema
 * via the `definition` "ResolvedSearchConfig".
 */
export interface ResolvedSearchConfig {
  /**
   * Subnets measured (BN recalibrated, validation split) to train the accuracy predictor; measuredSubnets × predictor.heldOut of them are held out to judge it (Kendall's tau with its 95% interval). With 2 or more CPU cores and one training worker they are measured by 2 processes.
   */
  measuredSubnets: number;
  /**
   * The cost traded against accuracy on the Pareto front.
   */
  objective: 'macs' | 'params' | 'latency';
  constraints: ResolvedConstraints;
  /**
   * Where and how subnet latency is timed (objective "latency", constraints.maxLatencyMs, the latency column of the results): a model of the runtime on this host fitted to directly timed subnets, cached per runtime, device and supernet shape, and checked against other timed subnets at the end of the run.
   */
  latency: {
    /**
     * "engine": the training engine's backend (e.g. wasm) running the exported tfjs subnet; "onnxruntime": ONNX Runtime on this CPU (the onnxruntime-node package) running the exported ONNX subnet.
     */
    runtime: 'engine' | 'onnxruntime';
    /**
     * Images per timed forward; latencies are per forward of this many.
     */
    batchSize: number;
    /**
     * ONNX Runtime's intra-op threads (the engine computes with its own: wasm uses 1).
     */
    threads: number;
    /**
     * Subnets timed to fit the latency model (the smallest, the largest and random ones).
     */
    fitSubnets: number;
  };
  /**
   * At most this many points of the evolution's predicted front are re-measured. The final front is the Pareto set of every subnet measured in the run (these and the predictor's measured set); each of its subnets is measured on the test split and exported.
   */
  frontSize: number;
  /**
   * The MLP accuracy predictor on the one-hot architecture encoding.
   */
  predictor: {
    layers: number;
    hiddenUnits: number;
    epochs: number;
    learningRate: number;
    /**
     * Fraction of measured subnets held out to report RMSE and Kendall's tau with its 95% bootstrap interval (e.g. 500 measured × 0.2 = 100 held out); the search's predictor is then refitted on all of them.
     */
    heldOut: number;
    /**
     * A held-out Kendall's tau below this is reported as a warning in the results.
     */
    tauFloor: number;
  };
  /**
   * Evolutionary search; the defaults are OFA's.
   */
  evolution: {
    population: number;
    generations: number;
    parentRatio: number;
    mutationRatio: number;
    /**
     * Chance that a mutation redraws each block's kernel and expand ratio, each unit's depth and the width (OFA's arch_mutate_prob).
     */
    mutationProbability: number;
    /**
     * Chance that a mutation redraws the input resolution (OFA's resolution_mutate_prob).
     */
    resolutionMutationProbability: number;
  };
}
/**
 * Upper bounds a subnet must meet. Any combination.
 *
 * This interface was referenced by `ResolvedConfig`'s JSON-Schema
 * via the `definition` "ResolvedConstraints".
 */
export interface ResolvedConstraints {
  /**
   * Multiply-accumulates per image (forward).
   */
  maxMacs?: number;
  /**
   * Parameters.
   */
  maxParams?: number;
  /**
   * Latency in ms per forward (of search.latency.batchSize images) on search.latency.runtime, from the latency model fitted to directly timed subnets.
   */
  maxLatencyMs?: number;
}
/**
 * Fine-tuning one searched subnet of a finished run (`manta finetune <run> --arch <i>`, MANTA: Fine-tune Subnet…): the subnet is fixed and the supernet weights it uses are trained further on the run's training data and augmentation, with the training's SGD (momentum, Nesterov, weight decay, label smoothing), a short linear warm-up and a cosine to zero, optionally distilled from a frozen teacher. The result is a derived run; the source run is left as it is.
 *
 * This interface was referenced by `ResolvedConfig`'s JSON-Schema
 * via the `definition` "ResolvedFinetuneConfig".
 */
export interface ResolvedFinetuneConfig {
  /**
   * Epochs of fine-tuning (an epoch as in /training: the training split's whole batches, capped by /training/stepsPerEpoch). `--epochs` overrides it.
   */
  epochs: number;
  /**
   * Peak learning rate, reached after the warm-up. Default: the learning rate of the last training phase. `--lr` overrides it.
   */
  learningRate?: number;
  /**
   * Linear warm-up at the start, in epochs; kept shorter than the fine-tuning itself.
   */
  warmupEpochs: number;
  /**
   * Weight of distillation from the frozen teacher (the supernet at the end of its 'largest' phase when the run's checkpoint keeps it, else the run's trained largest subnet); 0: none. Default: /training/kdRatio.
   */
  kdRatio?: number;
  /**
   * Training batch size. Default: /training/batchSize.
   */
  batchSize?: number;
}
