// SGD with momentum, Nesterov and weight decay, as OFA trains (PyTorch's SGD semantics): per
// variable g' = g + wd·w (conv and dense weights only), v = m·v + g' (v = g' the first time), step = g' + m·v
// (Nesterov) or v, w -= lr·step. A variable that no subnet reached in a step is left alone, as PyTorch does for a
// parameter without a gradient. Slots are plain tensors (not tf.Variables) so that two trainers can share a process.
import { sgdStep, tf } from '../engine';
import type { TensorRecord } from './state';

export interface SgdOptions {
  momentum: number;
  nesterov: boolean;
  weightDecay: number;
}

/** A trainable variable, the key its gradient and momentum go by, and whether weight decay applies to it. */
export interface ParamInfo {
  /** Stable across processes (not the tfjs name, whose scope can differ): checkpoints key slots on it. */
  key: string;
  variable: tf.Variable;
  decay: boolean;
}

export class Sgd {
  private slots = new Map<string, tf.Tensor>();

  constructor(private readonly options: SgdOptions) {}

  /** Applies one update with learning rate `lr` to every variable in `grads` (by key). Gradients stay the caller's. */
  apply(params: readonly ParamInfo[], grads: ReadonlyMap<string, tf.Tensor>, lr: number): void {
    const { momentum, nesterov, weightDecay } = this.options;
    for (const { key, variable, decay } of params) {
      const g = grads.get(key);
      if (!g) continue;
      const previous = momentum > 0 ? this.slots.get(key) : undefined;
      // The engine's sgdStep is one native pass on wasm (a composition of tfjs ops elsewhere).
      const next = sgdStep(variable, g, previous, { learningRate: lr, momentum, nesterov, weightDecay: decay ? weightDecay : 0 });
      variable.assign(next.value);
      next.value.dispose();
      if (momentum > 0) {
        previous?.dispose();
        this.slots.set(key, next.velocity);
      } else next.velocity.dispose();
    }
  }

  /** Drops every momentum buffer (a new phase starts with a fresh optimizer, as each OFA stage does). */
  reset(): void {
    for (const t of this.slots.values()) t.dispose();
    this.slots.clear();
  }

  /** The momentum buffers by key (copies). */
  state(): Record<string, TensorRecord> {
    const out: Record<string, TensorRecord> = {};
    // slice(): some backends (cpu) hand out their own storage from dataSync.
    for (const [name, t] of this.slots) out[name] = { shape: [...t.shape], data: (t.dataSync() as Float32Array).slice() };
    return out;
  }

  load(records: Record<string, TensorRecord>): void {
    this.reset();
    for (const [name, r] of Object.entries(records)) this.slots.set(name, tf.tensor(r.data, r.shape, 'float32'));
  }

  dispose(): void {
    this.reset();
  }
}
