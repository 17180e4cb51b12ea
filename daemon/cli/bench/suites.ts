// The list of benchmark suites, one module each (daemon/cli/bench/<suite>.ts exporting `suite`).
import type { BenchSuite } from './index';

export const suites: Record<string, () => Promise<BenchSuite>> = {
  train: () => import('./train').then((m) => m.suite),
  search: () => import('./search').then((m) => m.suite),
  telemetry: () => import('./telemetry').then((m) => m.suite),
  allreduce: () => import('./allreduce').then((m) => m.suite),
  scaling: () => import('./scaling').then((m) => m.suite),
  stereo: () => import('./stereo').then((m) => m.suite),
  latency: () => import('./latency').then((m) => m.suite),
};
