import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine, tf } from '../../daemon/engine';
import { Sgd, type ParamInfo } from '../../daemon/train/optimizer';
import { planGradientBuckets, GradientAccumulator, reduceGradients } from '../../daemon/train/gradients';

before(async () => {
  await initEngine({ backend: 'wasm' });
});

const close = (actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-6): void => {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `[${i}] ${actual[i]} != ${expected[i]}`);
};

let counter = 0;
function variable(values: number[], shape: number[]): tf.Variable {
  return tf.variable(tf.tensor(values, shape), true, `train-optimizer-test/${counter++}`);
}

test('SGD follows PyTorch semantics: weight decay on decayed weights only, momentum, Nesterov, per-key slots', () => {
  const w = variable([1, -2, 3, 0.5], [2, 2]);
  const b = variable([0.25, -0.5], [2]);
  const params: ParamInfo[] = [
    { key: 'w', variable: w, decay: true },
    { key: 'b', variable: b, decay: false },
  ];
  const sgd = new Sgd({ momentum: 0.9, nesterov: true, weightDecay: 0.1 });
  // Plain-JS reference of torch.optim.SGD(momentum=0.9, nesterov=True, weight_decay on w only).
  const refW = [1, -2, 3, 0.5];
  const refB = [0.25, -0.5];
  const bufW: number[] = [];
  const bufB: number[] = [];
  const gradsW = [
    [0.5, 0.1, -0.2, 0.3],
    [-0.1, 0.4, 0.0, 0.2],
    [0.3, -0.3, 0.1, -0.1],
  ];
  const gradsB = [
    [1, -1],
    [0.5, 0.5],
    [-0.2, 0.1],
  ];
  const lrs = [0.1, 0.05, 0.02];
  for (let s = 0; s < 3; s++) {
    const grads = new Map<string, tf.Tensor>([
      ['w', tf.tensor(gradsW[s], [2, 2])],
      ['b', tf.tensor(gradsB[s], [2])],
    ]);
    // The third step reaches only w: b must be left alone (no decay, no momentum), as PyTorch skips grad-less params.
    if (s === 2) grads.delete('b');
    sgd.apply(params, grads, lrs[s]);
    tf.dispose([...grads.values()]);
    const step = (ref: number[], buf: number[], g: number[], decay: number): void => {
      for (let i = 0; i < ref.length; i++) {
        const gd = g[i] + decay * ref[i];
        buf[i] = s === 0 ? gd : 0.9 * buf[i] + gd;
        ref[i] -= lrs[s] * (gd + 0.9 * buf[i]);
      }
    };
    step(refW, bufW, gradsW[s], 0.1);
    if (s < 2) step(refB, bufB, gradsB[s], 0);
    close(w.dataSync(), refW);
    close(b.dataSync(), refB);
  }
  const state = sgd.state();
  assert.deepEqual(Object.keys(state).sort(), ['b', 'w']);
  close(state.w.data, bufW);

  // A reloaded optimizer continues identically; a reset one restarts momentum.
  const twin = new Sgd({ momentum: 0.9, nesterov: true, weightDecay: 0.1 });
  twin.load(state);
  const w2 = variable(Array.from(w.dataSync()), [2, 2]);
  const g = new Map<string, tf.Tensor>([['w', tf.tensor([0.1, 0.2, 0.3, 0.4], [2, 2])]]);
  sgd.apply(params, g, 0.1);
  twin.apply([{ key: 'w', variable: w2, decay: true }], g, 0.1);
  assert.deepEqual(Array.from(w2.dataSync()), Array.from(w.dataSync()));
  sgd.reset();
  assert.deepEqual(sgd.state(), {});
  tf.dispose([...g.values(), w, b, w2]);
  sgd.dispose();
  twin.dispose();
});

test('SGD without momentum keeps no slots; plain momentum (no Nesterov) steps by the buffer', () => {
  const w = variable([1, 2], [1, 2]);
  const plain = new Sgd({ momentum: 0, nesterov: false, weightDecay: 0 });
  const g = new Map<string, tf.Tensor>([['w', tf.tensor([[0.5, -0.5]])]]);
  plain.apply([{ key: 'w', variable: w, decay: true }], g, 0.2);
  close(w.dataSync(), [0.9, 2.1]);
  assert.deepEqual(plain.state(), {});
  const heavy = new Sgd({ momentum: 0.5, nesterov: false, weightDecay: 0 });
  heavy.apply([{ key: 'w', variable: w, decay: true }], g, 1); // buf = g
  heavy.apply([{ key: 'w', variable: w, decay: true }], g, 1); // buf = 0.5 g + g
  close(w.dataSync(), [0.9 - 0.5 - 0.75, 2.1 + 0.5 + 0.75]);
  tf.dispose([...g.values(), w]);
  heavy.dispose();
});

test('the accumulator sums gradients per variable and frees what it consumed', () => {
  const before = tf.memory().numTensors;
  const acc = new GradientAccumulator();
  acc.add({ a: tf.tensor([1, 2]), b: tf.tensor([3]) });
  acc.add({ a: tf.tensor([10, 20]), c: null });
  acc.add({ b: tf.tensor([0.5]) });
  const sums = acc.take();
  assert.deepEqual([...sums.keys()].sort(), ['a', 'b']);
  assert.deepEqual(Array.from(sums.get('a')!.dataSync()), [11, 22]);
  assert.deepEqual(Array.from(sums.get('b')!.dataSync()), [3.5]);
  tf.dispose([...sums.values()]);
  assert.equal(tf.memory().numTensors, before);
});

test('bucket layout packs variables in order within the size cap; an oversized variable gets its own bucket', () => {
  const layout = planGradientBuckets(
    [
      { name: 'a', shape: [3, 2] },
      { name: 'b', shape: [4] },
      { name: 'c', shape: [20] },
      { name: 'd', shape: [2] },
      { name: 'e', shape: [9] },
    ],
    10,
  );
  assert.deepEqual(layout.bucketSizes, [10, 20, 2, 9]);
  assert.deepEqual(
    layout.slots.map((s) => [s.name, s.bucket, s.offset, s.size]),
    [
      ['a', 0, 0, 6],
      ['b', 0, 6, 4],
      ['c', 1, 0, 20],
      ['d', 2, 0, 2],
      ['e', 3, 0, 9],
    ],
  );
});

test('reduceGradients hands the reducer flat buckets plus reach flags and returns what it reduced', async () => {
  const layout = planGradientBuckets(
    [
      { name: 'a', shape: [2, 2] },
      { name: 'b', shape: [3] },
      { name: 'c', shape: [2] },
    ],
    5,
  );
  const before = tf.memory().numTensors;
  const grads = new Map<string, tf.Tensor>([
    ['a', tf.tensor([1, 2, 3, 4], [2, 2])],
    ['c', tf.tensor([5, 6])],
  ]);
  let seen: number[][] = [];
  const reduced = await reduceGradients(grads, layout, (buckets) => {
    seen = buckets.map((b) => Array.from(b));
    // Another worker reached 'b' and had the same 'a' and 'c': the mean of the two.
    buckets[0].set([1, 2, 3, 4].map((v) => v));
    buckets[1].set([0.5, 1, 1.5, 2.5, 3]);
    buckets[2][0] = 0.5; // flags: a by both, b by the other only, c by both
    buckets[2][1] = 0.5;
    buckets[2][2] = 1;
  });
  assert.deepEqual(seen, [
    [1, 2, 3, 4],
    [0, 0, 0, 5, 6],
    [1, 0, 1],
  ]);
  assert.deepEqual([...reduced.keys()], ['a', 'b', 'c']);
  assert.deepEqual(reduced.get('a')!.shape, [2, 2]);
  assert.deepEqual(Array.from(reduced.get('b')!.dataSync()), [0.5, 1, 1.5]);
  assert.deepEqual(Array.from(reduced.get('c')!.dataSync()), [2.5, 3]);
  tf.dispose([...reduced.values()]);
  assert.equal(tf.memory().numTensors, before, 'the input gradients are disposed');
});
