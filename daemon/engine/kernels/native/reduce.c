// Sums over one contiguous run of axes, as [outer, mid, inner] → [outer, inner]: bias and batch-norm gradients
// (leading axes), global pooling (H, W of NHWC) and row sums. The stock wasm Sum/Mean transpose the reduced axes
// to the end first, which costs more than the sum.
#include "common.h"

EXPORT(sum_middle)(const float* RESTRICT x, float* RESTRICT y, int outer, int mid, int inner, float scale) {
  if (inner == 1) {
    for (int o = 0; o < outer; o++) {
      const float* row = x + o * mid;
      f4 a0 = splat(0), a1 = splat(0);
      int m = 0;
      for (; m + 8 <= mid; m += 8) {
        a0 = add(a0, ld(row + m));
        a1 = add(a1, ld(row + m + 4));
      }
      float s = hsum(add(a0, a1));
      for (; m < mid; m++) s += row[m];
      y[o] = s * scale;
    }
    return;
  }
  for (int o = 0; o < outer; o++) {
    float* out = y + o * inner;
    const float* base = x + o * mid * inner;
    int i = 0;
    // 16 columns at a time in registers over the whole reduced run, then 4, then 1.
    for (; i + 16 <= inner; i += 16) {
      f4 a0 = splat(0), a1 = splat(0), a2 = splat(0), a3 = splat(0);
      for (int m = 0; m < mid; m++) {
        const float* p = base + m * inner + i;
        a0 = add(a0, ld(p)); a1 = add(a1, ld(p + 4)); a2 = add(a2, ld(p + 8)); a3 = add(a3, ld(p + 12));
      }
      const f4 sc = splat(scale);
      st(out + i, mul(a0, sc)); st(out + i + 4, mul(a1, sc)); st(out + i + 8, mul(a2, sc)); st(out + i + 12, mul(a3, sc));
    }
    for (; i + 4 <= inner; i += 4) {
      f4 a0 = splat(0);
      for (int m = 0; m < mid; m++) a0 = add(a0, ld(base + m * inner + i));
      st(out + i, mul(a0, splat(scale)));
    }
    for (; i < inner; i++) {
      float s = 0;
      for (int m = 0; m < mid; m++) s += base[m * inner + i];
      out[i] = s * scale;
    }
  }
}
