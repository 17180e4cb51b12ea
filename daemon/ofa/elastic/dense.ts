// A fixed dense layer (feature mix, classifier): the head is not elastic in OFA-MobileNetV3, but its weights live in
// the same store and follow the same init rules.
import { tf } from '../../engine';
import type { Init, VariableStore } from './store';

export class Dense {
  /** [in, out]. */
  readonly kernel: tf.Variable;
  readonly bias?: tf.Variable;

  constructor(store: VariableStore, name: string, readonly inFeatures: number, readonly outFeatures: number, opts: { bias: boolean; init: Init }) {
    this.kernel = store.create(`${name}/kernel`, [inFeatures, outFeatures], opts.init, { decay: true });
    if (opts.bias) this.bias = store.create(`${name}/bias`, [outFeatures], { kind: 'fill', value: 0 });
  }

  apply(x: tf.Tensor2D): tf.Tensor2D {
    return tf.fused.matMul({ a: x, b: this.kernel as tf.Tensor2D, bias: this.bias }) as tf.Tensor2D;
  }
}
