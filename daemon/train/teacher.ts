// The frozen distillation teacher (OFA's teacher_model): a copy of the full supernet as it stood at the end of the
// 'largest' phase, which every later phase distils from. It never trains; it runs the full network at the batch's
// resolution with batch statistics and without dropout, as OFA runs its teacher (teacher_model.train() under
// no_grad, dropout_rate 0). Its weights travel in the checkpoint, so a resumed run distils from the same teacher.
import { tf } from '../engine';
import type { Arch } from '../ofa/arch';
import type { Outputs, Supernet } from '../ofa/task';
import { CheckpointError } from './errors';
import type { TensorRecord, TrainerState } from './state';

export class Teacher {
  private constructor(private readonly net: Supernet<tf.Tensor, Outputs>) {}

  /** A teacher frozen from `supernet` as it is now. */
  static snapshot(supernet: Supernet<tf.Tensor, Outputs>): Teacher {
    return new Teacher(supernet.snapshot());
  }

  /**
   * The teacher a trainer state holds (a checkpoint's `tensors.teacher`), on `supernet`'s structure (the task's
   * supernet of the run's config; its own weights are left alone); undefined when the run had no teacher yet.
   * For fine-tuning: `Teacher.fromState(decodeCheckpoint(bytes), task.supernet)` with the run's newest checkpoint.
   */
  static fromState(state: TrainerState, supernet: Supernet<tf.Tensor, Outputs>): Teacher | undefined {
    const records = state.tensors.teacher;
    if (!records) return undefined;
    const net = supernet.snapshot();
    const weights: Record<string, tf.Tensor> = {};
    try {
      for (const [name, r] of Object.entries(records)) weights[name] = tf.tensor(r.data, r.shape, 'float32');
      net.setWeights(weights);
    } catch (e) {
      net.dispose();
      throw e instanceof Error ? new CheckpointError(`the checkpoint's teacher does not fit this supernet (${e.message}); start a new run`) : e;
    } finally {
      tf.dispose(Object.values(weights));
    }
    return new Teacher(net);
  }

  /** The arch the teacher runs at `resolution`: the full network. */
  archAt(resolution: number): Arch {
    return { ...this.net.space.largest(), r: resolution };
  }

  /**
   * The teacher's outputs for a batch `x` at `resolution` (the resolution its subnets train at this step); no gradient
   * flows into the teacher. Call inside tf.tidy; the result belongs to the caller.
   */
  outputs(x: tf.Tensor, resolution: number): Outputs {
    return this.net.forward(x, this.archAt(resolution), { training: true, dropout: false });
  }

  /** The frozen weights by stable name (copies), for a checkpoint. */
  weights(): Record<string, TensorRecord> {
    const tensors = this.net.getWeights();
    try {
      const out: Record<string, TensorRecord> = {};
      for (const [name, t] of Object.entries(tensors)) out[name] = { shape: [...t.shape], data: (t.dataSync() as Float32Array).slice() };
      return out;
    } finally {
      tf.dispose(Object.values(tensors));
    }
  }

  dispose(): void {
    this.net.dispose();
  }
}
