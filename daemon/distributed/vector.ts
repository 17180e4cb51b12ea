// Several Float32Arrays seen as one logical flat vector, so that a collective over many small tensors moves as
// few, large chunks as one big buffer does (a chunk may span buffers: it becomes several views, one writev).
import { bytesOf } from './frame';

export class FlatVector {
  readonly length: number;
  private readonly bufs: Float32Array[];
  /** starts[i]: flat offset of bufs[i]; starts[bufs.length] = length. Empty buffers are dropped. */
  private readonly starts: number[];

  constructor(buffers: readonly Float32Array[]) {
    this.bufs = buffers.filter((b) => b.length > 0);
    this.starts = [0];
    for (const b of this.bufs) this.starts.push(this.starts[this.starts.length - 1] + b.length);
    this.length = this.starts[this.starts.length - 1];
  }

  /** Index of the buffer holding flat element `a` (a < length). */
  private find(a: number): number {
    let lo = 0;
    let hi = this.bufs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= a) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Float32 views (sharing memory) covering flat elements [a, b), in order; [] when empty. */
  views(a: number, b: number): Float32Array[] {
    if (b <= a) return [];
    const out: Float32Array[] = [];
    for (let i = this.find(a); i < this.bufs.length && this.starts[i] < b; i++) {
      const s = this.starts[i];
      const buf = this.bufs[i];
      const from = Math.max(a, s) - s;
      const to = Math.min(b, s + buf.length) - s;
      out.push(from === 0 && to === buf.length ? buf : buf.subarray(from, to));
    }
    return out;
  }

  /** Byte views of [a, b): what is sent from, or received into, directly. */
  bytes(a: number, b: number): Uint8Array[] {
    return this.views(a, b).map((v) => bytesOf(v));
  }
}

// The add loops: unrolled by eight over two views of equal length (no offset arithmetic), which V8 runs ~1.3× faster
// than the plain loop (measured: 4 M floats in 2.6 ms instead of 3.4–4.8 ms); JS has no SIMD to do better.

/** dst[i] += src[i]. */
export function addInto(dst: Float32Array, src: Float32Array): void {
  const n = dst.length;
  let i = 0;
  for (; i + 7 < n; i += 8) {
    dst[i] += src[i];
    dst[i + 1] += src[i + 1];
    dst[i + 2] += src[i + 2];
    dst[i + 3] += src[i + 3];
    dst[i + 4] += src[i + 4];
    dst[i + 5] += src[i + 5];
    dst[i + 6] += src[i + 6];
    dst[i + 7] += src[i + 7];
  }
  for (; i < n; i++) dst[i] += src[i];
}

/** dst[i] = (dst[i] + src[i]) * scale: the last add of a mean, fused with its division. */
export function addScaleInto(dst: Float32Array, src: Float32Array, scale: number): void {
  const n = dst.length;
  let i = 0;
  for (; i + 7 < n; i += 8) {
    dst[i] = (dst[i] + src[i]) * scale;
    dst[i + 1] = (dst[i + 1] + src[i + 1]) * scale;
    dst[i + 2] = (dst[i + 2] + src[i + 2]) * scale;
    dst[i + 3] = (dst[i + 3] + src[i + 3]) * scale;
    dst[i + 4] = (dst[i + 4] + src[i + 4]) * scale;
    dst[i + 5] = (dst[i + 5] + src[i + 5]) * scale;
    dst[i + 6] = (dst[i + 6] + src[i + 6]) * scale;
    dst[i + 7] = (dst[i + 7] + src[i + 7]) * scale;
  }
  for (; i < n; i++) dst[i] = (dst[i] + src[i]) * scale;
}

/** Adds src[off …] into the views in order (a range of the flat vector), scaling when `scale` is not 1. */
export function accumulate(views: readonly Float32Array[], src: Float32Array, off: number, scale: number): void {
  for (const v of views) {
    const s = src.subarray(off, off + v.length);
    if (scale === 1) addInto(v, s);
    else addScaleInto(v, s, scale);
    off += v.length;
  }
}
