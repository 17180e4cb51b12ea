// daemon/ofa/: the task-agnostic Once-for-All machinery — elastic layers, architectures as plain JSON and their search
// space, the unit-stack layout and its analytic costs, subnet extraction to stock tfjs models, and the `Task` contract
// every task (daemon/tasks/) implements for the trainer, the measurements and the search. Knows nothing of particular
// tasks, runs, files or sockets.
export type { Arch } from './arch';
export { CHANNEL_DIVISOR, SE_REDUCTION, expandedChannels, makeDivisible, seChannels, unitChannels } from './channels';
export { layoutCosts, macs, params, type Costs } from './costs';
export { ArchError, SupernetConfigError, WeightsError } from './errors';
export { buildSubnetModel, layerNames } from './extract';
export { subnetLayout, supernetLayout, type BlockLayout, type SubnetLayout, type SupernetBlockLayout, type SupernetLayout } from './layout';
export { OFA_MBV3_UNITS } from './presets';
export { SearchSpace, copyArch, type SupernetConfig } from './space';
export type { ForwardOptions, LossOptions, MetricInfo, MetricValue, Supernet, Task, TaskData, TrainPosition, TrainStream, TrainStreamOptions } from './task';
