// What every elastic supernet shares, whatever its task: its variables in one store (the trainable and weight-decayed
// lists, weights in and out by stable name, the parameter count), OFA's channel sorting of its MBConv blocks, and
// disposal, and the path from an arch to its extracted model and costs. Each task's supernet adds its own layers,
// forward pass, subnet layout `L`, costs of a layout and the model built from one.
import { tf } from '../../engine';
import type { Arch } from '../arch';
import { BnStatisticsAverager } from './batchnorm';
import type { SearchSpace } from '../space';
import type { ElasticMBConv } from './mbconv';
import type { NamedVariable, VariableStore } from './store';

/** Weights of each weighted layer of an extracted subnet, by layer name, in the stock layer's weight order. */
export type SubnetWeights = Map<string, tf.Tensor[]>;

export abstract class ElasticSupernet<L> {
  abstract readonly space: SearchSpace;
  private lists?: { variables: tf.Variable[]; decay: tf.Variable[] };

  protected constructor(protected readonly store: VariableStore) {}

  /** The MBConv blocks whose expanded channels OFA sorts before the expand phase. */
  protected abstract elasticBlocks(): readonly ElasticMBConv[];

  /** The subnet `arch` picks, as plain data (at the supernet's input size). */
  abstract subnet(arch: Arch): L;

  /** MACs and parameters of a subnet layout. */
  protected abstract layoutCosts(layout: L): { macs: number; params: number };

  /** The active slices of the weights a layout uses, by layer name (copies: the caller disposes them). */
  protected abstract subnetWeights(layout: L): SubnetWeights;

  /** A stock-layers model of the layout holding those weights. */
  protected abstract buildModel(layout: L, weights: SubnetWeights): tf.LayersModel;

  /** The subnet as a standalone tfjs model, with its own copy of the weights. */
  extractSubnet(arch: Arch): tf.LayersModel {
    const layout = this.subnet(arch);
    const weights = this.subnetWeights(layout);
    try {
      return this.buildModel(layout, weights);
    } finally {
      for (const list of weights.values()) tf.dispose(list);
    }
  }

  macs(arch: Arch): number {
    return this.layoutCosts(this.subnet(arch)).macs;
  }

  params(arch: Arch): number {
    return this.layoutCosts(this.subnet(arch)).params;
  }

  /** Trainable variables in creation order (listed once, after the subclass has made every layer). */
  get variables(): readonly tf.Variable[] {
    return this.variableLists().variables;
  }

  /** The trainable variables that take L2 weight decay (all but batch norm and biases, as OFA). */
  get decayVariables(): readonly tf.Variable[] {
    return this.variableLists().decay;
  }

  /** Prefix of this supernet's tfjs variable names. */
  get scope(): string {
    return this.store.scope;
  }

  /** Every variable with its stable name, trainability and decay flag. */
  namedVariables(): NamedVariable[] {
    return this.store.list();
  }

  getWeights(): Record<string, tf.Tensor> {
    return this.store.getWeights();
  }

  setWeights(weights: Record<string, tf.Tensor>): void {
    this.store.setWeights(weights);
  }

  /**
   * OFA's set_running_statistics over calibration batches: `forward` runs one batch with the sink as its batch-norm
   * mode (inside a tidy); the averaged statistics become the running ones. The batches stay the caller's.
   */
  protected async recalibrateWith<In>(batches: Iterable<In> | AsyncIterable<In>, forward: (x: In, sink: BnStatisticsAverager) => void): Promise<void> {
    const averager = new BnStatisticsAverager();
    try {
      for await (const x of batches) tf.tidy(() => forward(x, averager));
      averager.apply();
    } finally {
      averager.dispose();
    }
  }

  /** Loads this supernet's current weights into `copy` (a fresh supernet of the same structure) and returns it. */
  protected withWeightsOf<T extends ElasticSupernet<L>>(copy: T): T {
    const weights = this.getWeights();
    try {
      copy.setWeights(weights);
    } catch (e) {
      copy.dispose();
      throw e;
    } finally {
      tf.dispose(Object.values(weights));
    }
    return copy;
  }

  reorganizeChannels(expandStage = 0): void {
    for (const block of this.elasticBlocks()) block.reorganize(expandStage, this.space.expand);
  }

  countParams(): number {
    return this.variables.reduce((n, v) => n + v.size, 0);
  }

  dispose(): void {
    this.store.dispose();
  }

  private variableLists(): { variables: tf.Variable[]; decay: tf.Variable[] } {
    if (!this.lists) {
      const trainable = this.store.list().filter((v) => v.trainable);
      this.lists = { variables: trainable.map((v) => v.variable), decay: trainable.filter((v) => v.decay).map((v) => v.variable) };
    }
    return this.lists;
  }
}
