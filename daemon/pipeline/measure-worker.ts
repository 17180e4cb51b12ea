// A measurement helper process (measure-pool.ts): forked by the run's process, it builds the task from the run's
// config, takes the supernet's weights from its start message and measures the archs it is handed, one at a time,
// until told it is done. It exits at once when the run's process goes away.
import { initEngine, tf } from '../engine';
import { createTask } from '../tasks';
import type { Task } from '../ofa/task';
import type { FromMeasureWorker, ToMeasureWorker } from './measure-pool';
import { measureSubnets, type MeasureOptions } from './measure-subnets';

function send(message: FromMeasureWorker): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

let task: Task | undefined;
let opts: MeasureOptions | undefined;
let queue = Promise.resolve();

async function start(m: Extract<ToMeasureWorker, { type: 'start' }>): Promise<void> {
  await initEngine({ backend: m.config.backend });
  task = await createTask(m.config, { baseDir: m.configDir });
  const weights: Record<string, tf.Tensor> = {};
  for (const [name, w] of Object.entries(m.weights)) weights[name] = tf.tensor(w.data, w.shape);
  try {
    task.supernet.setWeights(weights);
  } finally {
    tf.dispose(Object.values(weights));
  }
  opts = m.opts;
  await send({ type: 'ready' });
}

async function measure(m: Extract<ToMeasureWorker, { type: 'measure' }>): Promise<void> {
  if (!task || !opts) throw new Error('measure before start');
  const [measured] = await measureSubnets(task, [m.arch], opts);
  await send({ type: 'measured', index: m.index, measured });
}

if (!process.send) {
  process.stderr.write('measure-worker: a measurement helper of a MANTA run, forked by it; it is not run by hand\n');
  process.exit(2);
}
process.on('disconnect', () => process.exit(0));
process.on('message', (m: ToMeasureWorker) => {
  if (m.type === 'done') {
    task?.dispose();
    process.exit(0);
  }
  // One message at a time, in order.
  queue = queue
    .then(() => (m.type === 'start' ? start(m) : measure(m)))
    .catch(async (e: Error) => {
      await send({ type: 'failed', message: e?.message ?? String(e) });
      process.exit(1);
    });
});
