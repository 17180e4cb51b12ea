// Gradient buckets: a list of tensors flattened into one Float32Array and back, on wasm (straight from the heap)
// and on cpu.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { bucketLayout, flatten, initEngine, tf, unflatten } from '../../daemon/engine';

before(async () => {
  await initEngine({ backend: 'wasm' });
});

for (const backend of ['wasm', 'cpu']) {
  test(`flatten and unflatten round-trip on ${backend}`, () => {
    tf.setBackend(backend);
    const tensors = [tf.tensor([[1, 2, 3], [4, 5, 6]]), tf.scalar(7), tf.tensor1d([8, 9]), tf.zeros([0, 3]), tf.tensor([[[10]], [[11]]])];
    const layout = bucketLayout(tensors);
    assert.deepEqual(layout.offsets, [0, 6, 7, 9, 9]);
    assert.equal(layout.size, 11);
    const bucket = flatten(tensors);
    assert.deepEqual(Array.from(bucket), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    bucket[7] = -8; // what an all-reduce would do
    const back = unflatten(bucket, layout);
    assert.deepEqual(back.map((t) => t.shape), tensors.map((t) => t.shape));
    assert.deepEqual(back.map((t) => Array.from(t.dataSync())), [[1, 2, 3, 4, 5, 6], [7], [-8, 9], [], [10, 11]]);
    tf.dispose([...tensors, ...back]);
  });
}

test('flatten writes into a given bucket at the layout offsets and refuses one too small', () => {
  tf.setBackend('wasm');
  const a = tf.tensor1d([1, 2]);
  const b = tf.tensor1d([3]);
  const into = new Float32Array(5).fill(-1);
  assert.equal(flatten([a, b], into), into);
  assert.deepEqual(Array.from(into), [1, 2, 3, -1, -1]);
  assert.throws(() => flatten([a, b], new Float32Array(2)), /bucket holds 2 floats, the tensors need 3/);
  assert.throws(() => flatten([tf.tensor1d([1], 'int32')]), /int32/);
  tf.dispose([a, b]);
});
