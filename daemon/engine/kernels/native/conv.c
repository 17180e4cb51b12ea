// Full convolution gradients (NHWC, filter [KH, KW, Ci, Co]) as matrix multiplies: a 1×1 stride-1 unpadded
// convolution is one GEMM on the tensors as they lie; any other goes through im2col / col2im in row chunks that
// fit the scratch the caller provides. The forward convolution stays with XNNPACK except for 1×1 (conv2d_1x1).
#include "common.h"
#include "gemm.h"

// The geometry travels as plain arguments (no struct whose address is taken, which would need a stack in memory).
#define GEOM_PARAMS int N, int H, int W, int Ci, int KH, int KW, int OH, int OW, int sh, int sw, int dh, int dw, int pt, int pl
#define GEOM_ARGS N, H, W, Ci, KH, KW, OH, OW, sh, sw, dh, dw, pt, pl

// cols[r, (kh*KW + kw)*Ci + ci] = x[n, oh*sh-pt+kh*dh, ow*sw-pl+kw*dw, ci] (0 outside), for output pixels
// p0 <= p < p0 + pc, r = p - p0.
static void im2col(GEOM_PARAMS, const float* RESTRICT x, float* RESTRICT cols, int p0, int pc) {
  (void)N;
  const int KC = KH * KW * Ci;
  for (int r = 0; r < pc; r++) {
    const int p = p0 + r;
    const int ow = p % OW, oh = (p / OW) % OH, n = p / (OW * OH);
    float* row = cols + r * KC;
    for (int kh = 0; kh < KH; kh++) {
      const int ih = oh * sh - pt + kh * dh;
      for (int kw = 0; kw < KW; kw++) {
        const int iw = ow * sw - pl + kw * dw;
        float* dst = row + (kh * KW + kw) * Ci;
        if (ih < 0 || ih >= H || iw < 0 || iw >= W) {
          zero(dst, Ci);
        } else {
          const float* src = x + ((n * H + ih) * W + iw) * Ci;
          for (int ci = 0; ci < Ci; ci++) dst[ci] = src[ci];
        }
      }
    }
  }
}

// dx[n, ih, iw, ci] += cols[r, (kh*KW + kw)*Ci + ci], the adjoint of im2col.
static void col2im(GEOM_PARAMS, const float* RESTRICT cols, float* RESTRICT dx, int p0, int pc) {
  (void)N;
  const int KC = KH * KW * Ci;
  for (int r = 0; r < pc; r++) {
    const int p = p0 + r;
    const int ow = p % OW, oh = (p / OW) % OH, n = p / (OW * OH);
    const float* row = cols + r * KC;
    for (int kh = 0; kh < KH; kh++) {
      const int ih = oh * sh - pt + kh * dh;
      if (ih < 0 || ih >= H) continue;
      for (int kw = 0; kw < KW; kw++) {
        const int iw = ow * sw - pl + kw * dw;
        if (iw < 0 || iw >= W) continue;
        const float* src = row + (kh * KW + kw) * Ci;
        float* dst = dx + ((n * H + ih) * W + iw) * Ci;
        int ci = 0;
        for (; ci + 4 <= Ci; ci += 4) st(dst + ci, add(ld(dst + ci), ld(src + ci)));
        for (; ci < Ci; ci++) dst[ci] += src[ci];
      }
    }
  }
}

static int is_pointwise(GEOM_PARAMS) {
  (void)N, (void)Ci, (void)dh, (void)dw;
  return KH == 1 && KW == 1 && sh == 1 && sw == 1 && pt == 0 && pl == 0 && OH == H &&
         OW == W;
}

// Rows of im2col per chunk that fit `scratch_floats` next to gemm's own packing scratch.
static int chunk_rows(int KC, int N, int scratch_floats) {
  const int rows = (scratch_floats - GEMM_SCRATCH(N)) / KC;
  return rows < 1 ? 1 : rows;
}

// y = conv(x, w) for a 1×1, stride-1, unpadded convolution: Y[P, Co] = X[P, Ci] · W[Ci, Co].
EXPORT(conv2d_1x1)(const float* x, const float* w, float* y, int P, int Ci, int Co, float* scratch) {
  gemm(P, Co, Ci, x, Ci, 1, w, Co, 1, y, Co, 0, scratch);
}

// dfilter[kh, kw, ci, co] = Σ_p cols[p, (kh, kw, ci)] · dy[p, co]   (dfilter = colsᵀ · dY)
EXPORT(conv2d_backprop_filter)(const float* x, const float* dy, float* dfilter, int N, int H, int W, int Ci, int KH, int KW,
                               int OH, int OW, int Co, int sh, int sw, int dh, int dw, int pt, int pl, float* scratch,
                               int scratch_floats) {
  const int P = N * OH * OW, KC = KH * KW * Ci;
  if (is_pointwise(GEOM_ARGS)) {
    gemm(Ci, Co, P, x, 1, Ci, dy, Co, 1, dfilter, Co, 0, scratch);
    return;
  }
  const int pc = chunk_rows(KC, Co, scratch_floats);
  float* cols = scratch + GEMM_SCRATCH(Co);
  if (P == 0) zero(dfilter, KC * Co);
  for (int p0 = 0; p0 < P; p0 += pc) {
    const int rows = imin(pc, P - p0);
    im2col(GEOM_ARGS, x, cols, p0, rows);
    gemm(KC, Co, rows, cols, 1, KC, dy + p0 * Co, Co, 1, dfilter, Co, p0 > 0, scratch);
  }
}

// dx = col2im(dY · Wᵀ), W [KH*KW*Ci, Co] read transposed through gemm's strides.
EXPORT(conv2d_backprop_input)(const float* dy, const float* w, float* dx, int N, int H, int W, int Ci, int KH, int KW,
                              int OH, int OW, int Co, int sh, int sw, int dh, int dw, int pt, int pl, float* scratch,
                              int scratch_floats) {
  const int P = N * OH * OW, KC = KH * KW * Ci;
  if (is_pointwise(GEOM_ARGS)) {
    gemm(P, Ci, Co, dy, Co, 1, w, 1, Co, dx, Ci, 0, scratch);
    return;
  }
  zero(dx, N * H * W * Ci);
  const int pc = chunk_rows(KC, KC, scratch_floats);
  float* cols = scratch + GEMM_SCRATCH(KC);
  for (int p0 = 0; p0 < P; p0 += pc) {
    const int rows = imin(pc, P - p0);
    gemm(rows, KC, Co, dy + p0 * Co, Co, 1, w, 1, Co, cols, KC, 0, scratch);
    col2im(GEOM_ARGS, cols, dx, p0, rows);
  }
}
