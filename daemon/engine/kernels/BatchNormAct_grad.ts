// Gradient of BatchNormAct: one BatchNormActGrad kernel yields dx, dγ and dβ together, so it runs once, eagerly,
// and each input's lazy gradient hands back its part (tfjs asks for them one by one).
import { engine, type GradConfig, type NamedAttrMap, type NamedTensorMap, type Tensor } from '@tensorflow/tfjs';
import { BatchNormAct, BatchNormActGrad, type BatchNormActGradInputs } from './names';

export const batchNormActGradientConfig: GradConfig = {
  kernelName: BatchNormAct,
  inputsToSave: ['x', 'gamma', 'beta'],
  outputsToSave: [false, true, true],
  gradFunc: (dys: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
    const [x, gamma, beta, mean, variance] = saved;
    const dy = Array.isArray(dys) ? dys[0] : dys; // the statistics' own gradients are not propagated
    const inputs: BatchNormActGradInputs = { dy, x, mean, variance, gamma, beta };
    const [dx, dgamma, dbeta] = engine().runKernel(BatchNormActGrad, inputs as unknown as NamedTensorMap, attrs) as Tensor[];
    return { x: () => dx, gamma: () => dgamma, beta: () => dbeta };
  },
};
