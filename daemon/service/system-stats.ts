// The `system` telemetry of a worker: its CPU use (percent of one core, over the last interval) and memory, every few
// seconds, from process counters (cheap; no JSON here, the event sender batches it).
import * as os from 'node:os';
import type { Emit } from '../protocol/events';

export function startSystemStats(emit: Emit, worker = 0, intervalMs = 2000): () => void {
  const host = os.hostname();
  let lastCpu = process.cpuUsage();
  let lastAt = performance.now();
  const timer = setInterval(() => {
    const cpu = process.cpuUsage(lastCpu);
    const now = performance.now();
    const mem = process.memoryUsage();
    emit('system', {
      host,
      worker,
      cpuPercent: Math.round(((cpu.user + cpu.system) / 1000 / Math.max(1, now - lastAt)) * 1000) / 10,
      rssMB: Math.round(mem.rss / 2 ** 20),
      heapMB: Math.round(mem.heapUsed / 2 ** 20),
    });
    lastCpu = process.cpuUsage();
    lastAt = now;
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
