// Procedural surface textures for the stereo generator: pure functions of (salt, u, v), so that both views sample a
// surface point to the identical value (no stored texture, no resampling of one view into the other).

/** How a surface is painted; u, v are the surface's own coordinates (its left-view position plus an offset). */
export interface SurfaceTexture {
  kind: 'noise' | 'random-dot';
  /** Seeds this surface's pattern. */
  salt: number;
  /** Offset of the pattern, so surfaces of one scene do not share it. */
  offsetU: number;
  offsetV: number;
  /** Base level per output channel (1 or 3 values, 0..255). */
  colour: readonly number[];
}

/** A 32-bit integer hash of three integers to [0, 1) (murmur3's finaliser over a multiply-xor mix). */
export function hash01(salt: number, ix: number, iy: number): number {
  let h = Math.imul(salt ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ ix, 0xcc9e2d51);
  h = (h << 15) | (h >>> 17);
  h = Math.imul(h ^ iy, 0x1b873593);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

/** Value noise: lattice values every `cell` units, interpolated with smoothstep so the pattern is continuous. */
function valueNoise(salt: number, u: number, v: number, cell: number): number {
  const x = u / cell;
  const y = v / cell;
  const ix = Math.floor(x);
  const iy = Math.floor(y);
  const fx = x - ix;
  const fy = y - iy;
  const sx = fx * fx * (3 - 2 * fx);
  const sy = fy * fy * (3 - 2 * fy);
  const a = hash01(salt, ix, iy);
  const b = hash01(salt, ix + 1, iy);
  const c = hash01(salt, ix, iy + 1);
  const d = hash01(salt, ix + 1, iy + 1);
  return (a + (b - a) * sx) * (1 - sy) + (c + (d - c) * sx) * sy;
}

/**
 * Coarse blobs for large-scale variation plus fine grain so that every small window has something to match; the
 * finest cell is under two pixels, which keeps a block matcher's window informative on every surface.
 */
function fractalNoise(salt: number, u: number, v: number): number {
  return 0.35 * valueNoise(salt, u, v, 11) + 0.3 * valueNoise(salt + 1, u, v, 4) + 0.35 * valueNoise(salt + 2, u, v, 1.5);
}

/** The texture's value in channel `c` at surface coordinates (u, v), 0..255 (not yet rounded). */
export function shade(t: SurfaceTexture, u: number, v: number, c: number): number {
  const pu = u + t.offsetU;
  const pv = v + t.offsetV;
  const base = t.colour[c];
  if (t.kind === 'random-dot') {
    // Classic random dots, one per unit cell and shared by the channels: on = the base colour, off = a dark shade.
    return hash01(t.salt, Math.floor(pu), Math.floor(pv)) < 0.5 ? base : 0.15 * base;
  }
  // Each channel has its own noise so that colour carries information a grey image does not.
  return base * (0.15 + 0.85 * fractalNoise(t.salt + 7919 * c, pu, pv));
}
