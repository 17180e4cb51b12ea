// An architecture is plain JSON, as OFA's `sample_active_subnet` returns it: what the visualizer draws, what the
// predictor encodes and what a run's results store. Per-block lists have units × maxDepth entries, unit-major;
// entries of blocks beyond a unit's depth are kept (so mutation can re-grow a unit) but have no effect.
export interface Arch {
  /** Depthwise kernel size of every block slot. */
  ks: number[];
  /** Expand ratio of every block slot. */
  e: number[];
  /** Depth (active blocks) of every unit. */
  d: number[];
  /** Input resolution. */
  r: number;
  /** Width multiplier of the units' output channels. */
  w: number;
}
