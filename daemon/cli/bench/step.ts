// Timing of training steps, shared by the `train` and `stereo` suites: one SGD step (the loss's gradients over the
// supernet's variables, applied by the trainer's optimizer, the loss read back), and the median over repeats.
import { tf } from '../../engine';
import type { ParamInfo, Sgd } from '../../train';
import { median } from './index';

/** Milliseconds of one step: gradients of `loss` over `params`' variables, applied with `learningRate`. */
export function timedSgdStep(loss: () => tf.Scalar, params: ParamInfo[], optimizer: Sgd, learningRate: number): number {
  const t0 = performance.now();
  const { value, grads } = tf.variableGrads(loss, params.map((p) => p.variable));
  // Variables the subnet does not reach get no gradient and are left alone, as PyTorch does.
  optimizer.apply(params, new Map(Object.entries(grads)), learningRate);
  tf.dispose(grads);
  value.dataSync();
  value.dispose();
  return performance.now() - t0;
}

/** The median of `repeat` timed steps on archs from `pick`, after two warm-up steps; each time logged. */
export function medianStepMs<A>(step: (arch: A) => number, pick: () => A, repeat: number, label: string, log: (line: string) => void): number {
  for (let i = 0; i < 2; i++) step(pick());
  const times: number[] = [];
  for (let i = 0; i < repeat; i++) times.push(step(pick()));
  log(`${label}: ${times.map((t) => t.toFixed(0)).join(' ')} ms`);
  return median(times);
}
