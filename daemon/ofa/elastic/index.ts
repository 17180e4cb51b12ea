// daemon/ofa/elastic/: the elastic layers (OFA's dynamic_op / dynamic_layers): each owns its weights at the largest
// size and computes with the slice a subnet selects.
export { BN_EPSILON, BnStatisticsAverager, ElasticBatchNorm, type BnMode, type BnStatisticsSink } from './batchnorm';
export { ElasticConv2d } from './conv';
export { Dense } from './dense';
export { convBn, depthwiseBn } from './fold';
export { ElasticDepthwiseConv2d } from './depthwise';
export { ElasticMBConv } from './mbconv';
export { ElasticSupernet, type SubnetWeights } from './supernet-base';
export { descendingOrder, ElasticSqueezeExcite } from './se';
export { freeScope, leading, permute, VariableStore, type Init, type NamedVariable } from './store';
