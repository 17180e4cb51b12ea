// Runs one task (host probe, export, latency table) in a worker process and returns its result; a failure becomes a
// JSON-RPC error saying why, cancellation of the request stops the worker.
import { ResponseError, type CancellationToken } from 'vscode-jsonrpc/node';
import { MantaErrorCodes, type MantaErrorData } from '../protocol/errors';
import { forkWorker, type FromWorker, type WorkerEntry, type WorkerTask } from './worker-ipc';

export function runWorkerTask(
  entry: WorkerEntry,
  task: WorkerTask,
  output: (line: string) => void,
  token?: CancellationToken,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const child = forkWorker(entry);
    let result: { value: unknown } | undefined;
    let failure: { message: string; reason?: string } | undefined;
    const tail: string[] = [];
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('data', (text: string) => {
        for (const line of text.split('\n')) {
          if (!line.trim()) continue;
          tail.push(line);
          if (tail.length > 10) tail.shift();
          output(line);
        }
      });
    }
    child.on('message', (m: FromWorker) => {
      if (m.type === 'result') result = { value: m.value };
      else if (m.type === 'done' && m.outcome === 'failed') failure = { message: m.message ?? 'the task failed', reason: m.reason };
    });
    const cancel = token?.onCancellationRequested(() => child.connected && child.send({ type: 'stop', reason: 'stop' }));
    child.on('error', (e) => {
      if (child.pid === undefined) reject(new ResponseError<MantaErrorData>(MantaErrorCodes.TaskFailed, `cannot start a worker for ${task.name}: ${e.message}`));
    });
    child.on('exit', (code, signal) => {
      cancel?.dispose();
      if (result) resolve(result.value);
      else if (failure) {
        const code = failure.reason ? MantaErrorCodes.UserError : MantaErrorCodes.TaskFailed;
        reject(new ResponseError<MantaErrorData>(code, `${task.name}: ${failure.message}`, failure.reason ? { reason: failure.reason } : undefined));
      } else {
        const how = signal ? `was killed (${signal})` : `exited with code ${code}`;
        reject(new ResponseError<MantaErrorData>(MantaErrorCodes.TaskFailed, `${task.name}: its worker ${how}${tail.length ? `: ${tail[tail.length - 1]}` : ''}`));
      }
    });
    child.send({ type: 'start', job: { kind: 'task', task } });
  });
}
