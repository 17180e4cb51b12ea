// daemon/ofa/: the Once-for-All supernets (classification now, stereo later) — elastic layers, architectures as
// plain JSON and their search space, analytic costs, subnet extraction to stock tfjs models, and the task contract
// the trainer and the search use. Knows nothing of runs, files or sockets.
export type { Arch } from './arch';
export { CHANNEL_DIVISOR, SE_REDUCTION, expandedChannels, makeDivisible, seChannels, unitChannels } from './channels';
export { layoutCosts, macs, params, type Costs } from './costs';
export { ArchError, SupernetConfigError, WeightsError } from './errors';
export { buildSubnetModel, layerNames } from './extract';
export { subnetLayout, supernetLayout, type BlockLayout, type SubnetLayout, type SupernetBlockLayout, type SupernetLayout } from './layout';
export { OFA_MBV3_UNITS } from './presets';
export { SearchSpace, copyArch, type SupernetConfig } from './space';
export type { ForwardOptions, LossOptions, MetricValue, Supernet, Task } from './task';
