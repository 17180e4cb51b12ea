// The supernet's variables: created once at their largest size under stable names, initialised from the seed (OFA's
// he_fout init), and listed in creation order for the optimizer, checkpoints and weight decay.
import { tf } from '../../engine';
import { Rng } from '../../engine/rng';
import { WeightsError } from '../errors';

export type Init =
  /** Normal with mean 0 and this standard deviation (OFA's he_fout: sqrt(2 / (k·k·outChannels))). */
  | { kind: 'normal'; std: number }
  /** Uniform on (-limit, limit) (PyTorch's Linear init as OFA uses it). */
  | { kind: 'uniform'; limit: number }
  | { kind: 'fill'; value: number }
  /** Identity matrix (kernel-transform matrices start as a plain centre crop). */
  | { kind: 'identity' };

export interface NamedVariable {
  /** Stable name inside the supernet, e.g. 'u0b1/dw/kernel'; checkpoints key on it. */
  name: string;
  variable: tf.Variable;
  trainable: boolean;
  /** Whether L2 weight decay applies (OFA: everything but batch norm and biases). */
  decay: boolean;
}

/** FNV-1a of a string: each variable's random stream depends on its name only, not on creation order. */
function hashName(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

function initialValues(init: Init, shape: number[], rng: Rng): Float32Array {
  const size = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(size);
  switch (init.kind) {
    case 'normal':
      for (let i = 0; i < size; i++) values[i] = rng.normal() * init.std;
      break;
    case 'uniform':
      for (let i = 0; i < size; i++) values[i] = (2 * rng.next() - 1) * init.limit;
      break;
    case 'fill':
      values.fill(init.value);
      break;
    case 'identity': {
      const n = shape[0];
      for (let i = 0; i < n; i++) values[i * n + i] = 1;
      break;
    }
  }
  return values;
}

/** Picks a tfjs variable-name scope not yet used in this process (tfjs variable names are process-global). */
export function freeScope(base: string): string {
  const taken = new Set(Object.keys(tf.engine().registeredVariables).map((n) => n.split('/')[0]));
  if (!taken.has(base)) return base;
  for (let i = 1; ; i++) if (!taken.has(`${base}_${i}`)) return `${base}_${i}`;
}

export class VariableStore {
  private readonly byName = new Map<string, NamedVariable>();

  constructor(
    /** Prefix of the tfjs variable names (`<scope>/<name>`), unique in the process. */
    readonly scope: string,
    private readonly seed: number,
  ) {}

  create(name: string, shape: number[], init: Init, opts: { trainable?: boolean; decay?: boolean } = {}): tf.Variable {
    if (this.byName.has(name)) throw new Error(`internal: variable ${name} created twice`);
    const rng = Rng.derive(this.seed, hashName(name));
    const variable = tf.tidy(() => tf.variable(tf.tensor(initialValues(init, shape, rng), shape), opts.trainable ?? true, `${this.scope}/${name}`));
    this.byName.set(name, { name, variable, trainable: opts.trainable ?? true, decay: opts.decay ?? false });
    return variable;
  }

  list(): NamedVariable[] {
    return [...this.byName.values()];
  }

  get(name: string): NamedVariable | undefined {
    return this.byName.get(name);
  }

  /** Every weight (trainable and batch-norm statistics) by stable name; the tensors are the caller's to dispose. */
  getWeights(): Record<string, tf.Tensor> {
    const out: Record<string, tf.Tensor> = {};
    for (const v of this.byName.values()) out[v.name] = tf.clone(v.variable);
    return out;
  }

  /** Loads weights by stable name (a checkpoint); every name must be present with its shape, and no other. */
  setWeights(weights: Record<string, tf.Tensor>): void {
    for (const name of Object.keys(weights)) {
      if (!this.byName.has(name)) throw new WeightsError(`weights have '${name}', which this supernet does not: the checkpoint is from another supernet config`);
    }
    for (const v of this.byName.values()) {
      const t = weights[v.name];
      if (!t) throw new WeightsError(`weights lack '${v.name}': the checkpoint is incomplete or from another supernet config`);
      if (t.shape.join() !== v.variable.shape.join()) {
        throw new WeightsError(`weights '${v.name}' have shape [${t.shape.join(', ')}], the supernet [${v.variable.shape.join(', ')}]: the checkpoint is from another supernet config`);
      }
    }
    for (const v of this.byName.values()) v.variable.assign(weights[v.name]);
  }

  dispose(): void {
    for (const v of this.byName.values()) v.variable.dispose();
    this.byName.clear();
  }
}

/** The leading block of `size` along every axis; the tensor itself when nothing is cut (no copy for the largest net). */
export function leading<T extends tf.Tensor>(t: T, size: number[]): T {
  if (size.every((s, i) => s === t.shape[i])) return t;
  return tf.slice(t, new Array<number>(size.length).fill(0), size);
}

/** Replaces `variable`'s entries along `axis` by their permutation `index` (channel reorganisation). */
export function permute(variable: tf.Variable, index: tf.Tensor1D, axis: number): void {
  tf.tidy(() => variable.assign(tf.gather(variable, index, axis)));
}
