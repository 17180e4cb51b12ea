// TEST-ONLY: named pause points, so the kill tests can stop a process (the daemon or a worker) at an exact point — e.g.
// between a checkpoint's rename and its event reaching the log — and `kill -9` it there, deterministically.
//
//   MANTA_TEST_PAUSE_AT=<point>#<n>   pause at the n-th time (counted per key) this process reaches <point>
//   MANTA_TEST_PAUSE_LOG=<file>       where a paused process appends `<point>#<n> <key> <pid>` (the test waits on it)
//
// A paused caller awaits a promise that never resolves (the process stays alive, its event loop too) until it is
// killed. Without MANTA_TEST_PAUSE_AT every call returns at once and costs one boolean check. Points used today:
// checkpoint.renamed, checkpoint.recorded, checkpoint.pruned-one (worker, daemon/train/checkpoint-files.ts);
// log.before-checkpoint-write, log.after-checkpoint-write (daemon, service/event-log.ts: the log's writes stall);
// resume.picked, resume.truncated (daemon, service/runs.ts). Keys: the checkpoint folder, the log file, the run id.
import { appendFileSync } from 'node:fs';

const spec = /^([\w.-]+)#(\d+)$/.exec(process.env.MANTA_TEST_PAUSE_AT ?? '');
const counts = new Map<string, number>();

/** Whether any pause point is armed in this process (callers may skip work that only feeds a pause). */
export const testPausesArmed = spec !== null;

/** Pauses forever when `point` is the armed one and this is its n-th hit for `key`; otherwise resolves at once. */
export function testPause(point: string, key = ''): Promise<void> {
  if (!spec || spec[1] !== point) return Promise.resolve();
  const id = `${point}\0${key}`;
  const n = (counts.get(id) ?? 0) + 1;
  counts.set(id, n);
  if (n !== Number(spec[2])) return Promise.resolve();
  const log = process.env.MANTA_TEST_PAUSE_LOG;
  if (log) appendFileSync(log, `${point}#${n} ${key} ${process.pid}\n`);
  return new Promise<void>(() => undefined);
}
