// Layer names of an extracted subnet's stock layers, shared by the elastic layers (which hand out their weights by
// these names) and the model builder (ofa/extract), so neither imports the other.
/** Layer names of the extracted model (also the keys of SubnetWeights). */
export const layerNames = {
  stemConv: 'stem_conv',
  stemBn: 'stem_bn',
  expand: (block: string) => `${block}_expand`,
  expandBn: (block: string) => `${block}_expand_bn`,
  depthwise: (block: string) => `${block}_dw`,
  depthwiseBn: (block: string) => `${block}_dw_bn`,
  seReduce: (block: string) => `${block}_se_reduce`,
  seExpand: (block: string) => `${block}_se_expand`,
  project: (block: string) => `${block}_project`,
  projectBn: (block: string) => `${block}_project_bn`,
  finalExpandConv: 'final_expand_conv',
  finalExpandBn: 'final_expand_bn',
  featureMix: 'feature_mix',
  classifier: 'classifier',
} as const;
