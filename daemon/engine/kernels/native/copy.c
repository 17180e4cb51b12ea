// Strided copies for the data-movement kernels the stock wasm backend does in JavaScript on a full copy of the
// input (Slice reads the whole source tensor out of the heap first, for every weight slice of every step).
#include "common.h"

static inline void copy_row(const float* RESTRICT src, float* RESTRICT dst, int n) {
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    st(dst + i, ld(src + i));
    st(dst + i + 4, ld(src + i + 4));
    st(dst + i + 8, ld(src + i + 8));
    st(dst + i + 12, ld(src + i + 12));
  }
  for (; i + 4 <= n; i += 4) st(dst + i, ld(src + i));
  for (; i < n; i++) dst[i] = src[i];
}

// y = x[b0:b0+s0, b1:b1+s1, b2:b2+s2, b3:b3+s3] for x of shape [d0, d1, d2, d3] (4-byte elements; lower ranks
// are padded with leading 1s by the caller).
EXPORT(slice4d)(const float* x, float* y, int d0, int d1, int d2, int d3, int b0, int b1, int b2, int b3, int s0,
                int s1, int s2, int s3) {
  (void)d0;
  for (int i0 = 0; i0 < s0; i0++)
    for (int i1 = 0; i1 < s1; i1++) {
      const float* src = x + (((b0 + i0) * d1 + b1 + i1) * d2 + b2) * d3 + b3;
      for (int i2 = 0; i2 < s2; i2++) {
        copy_row(src, y, s3);
        src += d3;
        y += s3;
      }
    }
}

// y = transpose(x, perm) for x of shape [d0, d1, d2, d3] (4-byte elements, lower ranks padded with leading axes):
// y[i0, i1, i2, i3] = x at index i_k on axis perm[k]. The two innermost output axes go in 8×8 tiles so that both
// the reads and the writes stay within a few cache lines.
EXPORT(transpose4d)(const float* RESTRICT x, float* RESTRICT y, int d0, int d1, int d2, int d3, int p0, int p1, int p2,
                    int p3) {
  const int dims0 = d0, dims1 = d1, dims2 = d2, dims3 = d3;
  // Input strides by axis.
  const int s3 = 1, s2 = dims3, s1 = dims2 * dims3, s0 = dims1 * dims2 * dims3;
#define STRIDE(p) ((p) == 0 ? s0 : (p) == 1 ? s1 : (p) == 2 ? s2 : s3)
#define DIM(p) ((p) == 0 ? dims0 : (p) == 1 ? dims1 : (p) == 2 ? dims2 : dims3)
  const int o0 = DIM(p0), o1 = DIM(p1), o2 = DIM(p2), o3 = DIM(p3);
  const int t0 = STRIDE(p0), t1 = STRIDE(p1), t2 = STRIDE(p2), t3 = STRIDE(p3);
#undef STRIDE
#undef DIM
  for (int i0 = 0; i0 < o0; i0++)
    for (int i1 = 0; i1 < o1; i1++) {
      const float* src = x + i0 * t0 + i1 * t1;
      float* dst = y + (i0 * o1 + i1) * o2 * o3;
      if (t3 == 1) {
        for (int i2 = 0; i2 < o2; i2++) {
          const float* s = src + i2 * t2;
          float* d = dst + i2 * o3;
          int i3 = 0;
          for (; i3 + 4 <= o3; i3 += 4) st(d + i3, ld(s + i3));
          for (; i3 < o3; i3++) d[i3] = s[i3];
        }
        continue;
      }
      for (int b2 = 0; b2 < o2; b2 += 8)
        for (int b3 = 0; b3 < o3; b3 += 8) {
          const int e2 = imin(b2 + 8, o2), e3 = imin(b3 + 8, o3);
          for (int i2 = b2; i2 < e2; i2++)
            for (int i3 = b3; i3 < e3; i3++) dst[i2 * o3 + i3] = src[i2 * t2 + i3 * t3];
        }
    }
}
