// A training worker process (local rank ≥ 1 of a job): forked by the run's process, it builds the task from the same
// config, trains as its rank and reports how it ended. It exits at once when the run's process goes away.
import { initEngine } from '../../engine';
import { isUserError } from '../../protocol/user-error';
import { createTask } from '../../tasks';
import type { TrainWorkerMessage, TrainWorkerStart } from './local-workers';
import { trainAsRank, weightsDigest } from './train-as-rank';

function send(message: TrainWorkerMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

async function train(start: TrainWorkerStart): Promise<string> {
  await initEngine({ backend: start.config.backend });
  const task = await createTask(start.config, { baseDir: start.configDir });
  try {
    await trainAsRank({
      config: start.config,
      task,
      plan: start.plan,
      rank: start.rank,
      // Telemetry is the run process's: a worker's figures reach rank 0 with the gradients. Warnings and errors only.
      emit: (kind, data) => {
        if (kind === 'log') {
          const d = data as { level: string; message: string };
          if (d.level === 'warn' || d.level === 'error') void send({ type: 'log', level: d.level, message: d.message });
        }
      },
    });
    return Buffer.from(weightsDigest(task)).toString('hex');
  } finally {
    task.dispose();
  }
}

if (!process.send) {
  process.stderr.write('train-worker: a training worker of a MANTA run, forked by it; it is not run by hand\n');
  process.exit(2);
}
process.on('disconnect', () => process.exit(1));
// Ctrl-C in a terminal reaches the whole process group: the run's process decides when the job stops (after a step
// every worker agrees on), so a worker does not die of it.
process.on('SIGINT', () => undefined);
process.once('message', (m: TrainWorkerStart) => {
  if (m?.type !== 'start') return;
  train(m).then(
    async (digest) => {
      await send({ type: 'done', digest });
      process.exit(0);
    },
    async (e: unknown) => {
      const user = isUserError(e);
      if (!user) process.stderr.write(`${(e as Error)?.stack ?? String(e)}\n`);
      await send({ type: 'failed', message: (e as Error)?.message ?? String(e), user });
      process.exit(1);
    },
  );
});
