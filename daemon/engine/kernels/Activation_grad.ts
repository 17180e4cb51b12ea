// Gradient of Activation: dx = dy · act'(x) by the ActivationGrad kernel.
import { engine, type GradConfig, type NamedAttrMap, type NamedTensorMap, type Tensor } from '@tensorflow/tfjs';
import { Activation, ActivationGrad, type ActivationGradInputs } from './names';

export const activationGradientConfig: GradConfig = {
  kernelName: Activation,
  inputsToSave: ['x'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
    const [x] = saved;
    const inputs: ActivationGradInputs = { dy: dy as Tensor, x };
    return { x: () => engine().runKernel(ActivationGrad, inputs as unknown as NamedTensorMap, attrs) as Tensor };
  },
};
