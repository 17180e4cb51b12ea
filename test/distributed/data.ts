// Deterministic test data: what rank r passes as buffer b of call c, so that the test can recompute every mean.

export function fill(seed: number, rank: number, call: number, buf: number, length: number): Float32Array {
  const a = new Float32Array(length);
  let x = (Math.imul(seed, 7919) ^ Math.imul(rank + 1, 104729) ^ Math.imul(call + 1, 1299709) ^ Math.imul(buf + 1, 15485863)) >>> 0;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    a[i] = (x / 4294967296) * 2 - 1;
  }
  return a;
}

export function bytesFor(seed: number, length: number): Uint8Array {
  const b = new Uint8Array(length);
  let x = seed >>> 0;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}
