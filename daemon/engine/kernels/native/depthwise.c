// Depthwise convolution (channel multiplier 1, NHWC) forward and both gradients. Channels are the vector lanes.
// Forward and input gradient: per output (input) pixel, 16 channels at a time in registers, looping over only the
// taps that land inside the image — so the 7×7 kernels on the 2×2 maps of small resolutions cost what they
// compute, not what they pad. The filter gradient, which sums over every pixel for each of the k×k taps, is
// organised around cache reuse instead (see its two variants).
#include "common.h"

// First and one-past-last output index o with 0 <= o*s - p + k*d < size.
static inline int out_lo(int k, int s, int d, int p) {
  const int t = p - k * d;  // need o*s >= t
  return t <= 0 ? 0 : (t + s - 1) / s;
}
static inline int out_hi(int k, int s, int d, int p, int size, int osize) {
  const int t = size + p - k * d;  // need o*s < t
  if (t <= 0) return 0;
  return imin(osize, (t + s - 1) / s);
}

// Geometry of the padded input buffer Q for forward and filter gradient: Q[n][r][s] = x[n][r - pt][s - pl] (0 outside),
// rows r < (OH-1)*sh + (KH-1)*dh + 1, cols s < (OW-1)*sw + (KW-1)*dw + 1.
static inline int q_rows(int OH, int sh, int KH, int dh) { return (OH - 1) * sh + (KH - 1) * dh + 1; }

// Loads channels c0..c0+lanes-1 (lanes < 4: the rest are 0).
static inline f4 load_lanes(const float* p, int lanes) {
  if (lanes == 4) return ld(p);
  f4 v = splat(0);
  v = wasm_f32x4_replace_lane(v, 0, p[0]);
  if (lanes > 1) v = wasm_f32x4_replace_lane(v, 1, p[1]);
  if (lanes > 2) v = wasm_f32x4_replace_lane(v, 2, p[2]);
  return v;
}

static inline void store_lanes(float* p, f4 v, int lanes) {
  if (lanes == 4) {
    st(p, v);
    return;
  }
  p[0] = wasm_f32x4_extract_lane(v, 0);
  if (lanes > 1) p[1] = wasm_f32x4_extract_lane(v, 1);
  if (lanes > 2) p[2] = wasm_f32x4_extract_lane(v, 2);
}

// buf[n][r][s] = src[n][r - top][s - left] for 0 <= r - top < H, 0 <= s - left < W, else 0; rows×cols per image.
static void pad_group(const float* RESTRICT src, float* RESTRICT buf, int N, int H, int W, int C, int c0, int lanes,
                      int rows, int cols, int top, int left) {
  for (int n = 0; n < N; n++)
    for (int r = 0; r < rows; r++) {
      float* out = buf + ((n * rows + r) * cols) * 4;
      const int ih = r - top;
      if (ih < 0 || ih >= H) {
        zero(out, cols * 4);
        continue;
      }
      const float* in = src + ((n * H + ih) * W) * C + c0;
      for (int s = 0; s < cols; s++) {
        const int iw = s - left;
        st(out + s * 4, iw < 0 || iw >= W ? splat(0) : load_lanes(in + iw * C, lanes));
      }
    }
}

// y[n,oh,ow,c] = Σ x[n, oh*sh-pt+kh*dh, ow*sw-pl+kw*dw, c] · f[kh,kw,c]
EXPORT(depthwise_forward)(const float* RESTRICT x, const float* RESTRICT f, float* RESTRICT y, int N, int H, int W,
                          int C, int KH, int KW, int OH, int OW, int sh, int sw, int dh, int dw, int pt, int pl,
                          float* scratch) {
  (void)scratch;
  for (int n = 0; n < N; n++) {
    const float* xn = x + n * H * W * C;
    for (int oh = 0; oh < OH; oh++) {
      const int ih0 = oh * sh - pt;
      const int kh_lo = ih0 >= 0 ? 0 : (-ih0 + dh - 1) / dh;
      const int kh_hi = imin(KH, (H - ih0 + dh - 1) / dh);
      for (int ow = 0; ow < OW; ow++) {
        const int iw0 = ow * sw - pl;
        const int kw_lo = iw0 >= 0 ? 0 : (-iw0 + dw - 1) / dw;
        const int kw_hi = imin(KW, (W - iw0 + dw - 1) / dw);
        float* yp = y + ((n * OH + oh) * OW + ow) * C;
        int c = 0;
        for (; c + 16 <= C; c += 16) {
          f4 a0 = splat(0), a1 = splat(0), a2 = splat(0), a3 = splat(0);
          for (int kh = kh_lo; kh < kh_hi; kh++) {
            const float* xr = xn + ((ih0 + kh * dh) * W + iw0) * C + c;
            const float* fr = f + kh * KW * C + c;
            for (int kw = kw_lo; kw < kw_hi; kw++) {
              const float* xp = xr + kw * dw * C;
              const float* fp = fr + kw * C;
              a0 = madd(a0, ld(xp), ld(fp));
              a1 = madd(a1, ld(xp + 4), ld(fp + 4));
              a2 = madd(a2, ld(xp + 8), ld(fp + 8));
              a3 = madd(a3, ld(xp + 12), ld(fp + 12));
            }
          }
          st(yp + c, a0); st(yp + c + 4, a1); st(yp + c + 8, a2); st(yp + c + 12, a3);
        }
        for (; c + 4 <= C; c += 4) {
          f4 a0 = splat(0);
          for (int kh = kh_lo; kh < kh_hi; kh++)
            for (int kw = kw_lo; kw < kw_hi; kw++)
              a0 = madd(a0, ld(xn + ((ih0 + kh * dh) * W + iw0 + kw * dw) * C + c), ld(f + (kh * KW + kw) * C + c));
          st(yp + c, a0);
        }
        for (; c < C; c++) {
          float a = 0;
          for (int kh = kh_lo; kh < kh_hi; kh++)
            for (int kw = kw_lo; kw < kw_hi; kw++)
              a += xn[((ih0 + kh * dh) * W + iw0 + kw * dw) * C + c] * f[(kh * KW + kw) * C + c];
          yp[c] = a;
        }
      }
    }
  }
}

// oh·s = ih + pt − kh·d: with stride 1, or with dilation 1 (any stride), the taps that reach an input pixel are an
// arithmetic progression per axis (step 1, or step s at the right phase), so the tap loops need no tests.
#define TAP_RANGE(t, O, K, s, d, first, end, step)                                                                 \
  const int lo_##first = (t) - (s) * ((O) - 1) <= 0 ? 0 : ((t) - (s) * ((O) - 1) + (d) - 1) / (d);               \
  const int end = imin((K), (t) / (d) + 1);                                                                       \
  const int first = (s) == 1 ? lo_##first : lo_##first + ((t) - lo_##first) % (s);                                \
  const int step = (s) == 1 ? 1 : (s);

static void backprop_input_progressions(const float* RESTRICT dy, const float* RESTRICT f, float* RESTRICT dx, int N,
                                        int H, int W, int C, int KH, int KW, int OH, int OW, int sh, int sw, int dh,
                                        int dw, int pt, int pl) {
  // Moving one tap along an axis moves the source pixel by −d (stride 1) or −1 (dilation 1).
  const int gstep_w = (sw == 1 ? dw : 1) * C;
  for (int n = 0; n < N; n++) {
    const float* dyn = dy + n * OH * OW * C;
    for (int ih = 0; ih < H; ih++) {
      const int th = ih + pt;
      TAP_RANGE(th, OH, KH, sh, dh, kh_first, kh_end, kh_step)
      for (int iw = 0; iw < W; iw++) {
        const int tw = iw + pl;
        TAP_RANGE(tw, OW, KW, sw, dw, kw_first, kw_end, kw_step)
        const int ow_first = (tw - kw_first * dw) / sw;
        float* xp = dx + ((n * H + ih) * W + iw) * C;
        int c = 0;
        for (; c + 16 <= C; c += 16) {
          f4 a0 = splat(0), a1 = splat(0), a2 = splat(0), a3 = splat(0);
          for (int kh = kh_first; kh < kh_end; kh += kh_step) {
            const float* gp = dyn + (((th - kh * dh) / sh) * OW + ow_first) * C + c;
            const float* fp = f + (kh * KW + kw_first) * C + c;
            for (int kw = kw_first; kw < kw_end; kw += kw_step, gp -= gstep_w, fp += kw_step * C) {
              a0 = madd(a0, ld(gp), ld(fp));
              a1 = madd(a1, ld(gp + 4), ld(fp + 4));
              a2 = madd(a2, ld(gp + 8), ld(fp + 8));
              a3 = madd(a3, ld(gp + 12), ld(fp + 12));
            }
          }
          st(xp + c, a0); st(xp + c + 4, a1); st(xp + c + 8, a2); st(xp + c + 12, a3);
        }
        for (; c + 4 <= C; c += 4) {
          f4 a0 = splat(0);
          for (int kh = kh_first; kh < kh_end; kh += kh_step) {
            const float* gp = dyn + (((th - kh * dh) / sh) * OW + ow_first) * C + c;
            const float* fp = f + (kh * KW + kw_first) * C + c;
            for (int kw = kw_first; kw < kw_end; kw += kw_step, gp -= gstep_w, fp += kw_step * C) a0 = madd(a0, ld(gp), ld(fp));
          }
          st(xp + c, a0);
        }
        for (; c < C; c++) {
          float a = 0;
          for (int kh = kh_first; kh < kh_end; kh += kh_step) {
            const float* gp = dyn + (((th - kh * dh) / sh) * OW + ow_first) * C + c;
            const float* fp = f + (kh * KW + kw_first) * C + c;
            for (int kw = kw_first; kw < kw_end; kw += kw_step, gp -= gstep_w, fp += kw_step * C) a += gp[0] * fp[0];
          }
          xp[c] = a;
        }
      }
    }
  }
}
#undef TAP_RANGE

// dx[n,ih,iw,c] = Σ dy[n,oh,ow,c] · f[kh,kw,c] over ih = oh*sh-pt+kh*dh, iw = ow*sw-pl+kw*dw, gathered per input
// pixel so every dx element is written once. Per axis, stride or dilation must be 1 (as tfjs's ops require).
EXPORT(depthwise_backprop_input)(const float* RESTRICT dy, const float* RESTRICT f, float* RESTRICT dx, int N, int H,
                                 int W, int C, int KH, int KW, int OH, int OW, int sh, int sw, int dh, int dw, int pt,
                                 int pl, float* scratch) {
  (void)scratch;
  backprop_input_progressions(dy, f, dx, N, H, W, C, KH, KW, OH, OW, sh, sw, dh, dw, pt, pl);
}

// Floats of scratch depthwise_backprop_filter needs for this geometry (the forward and input gradient need none).
__attribute__((export_name("depthwise_scratch"))) int depthwise_scratch(int N, int H, int W, int C, int KH, int KW,
                                                                        int OH, int OW, int sh, int sw, int dh, int dw,
                                                                        int pt, int pl) {
  (void)H, (void)W, (void)C, (void)pt, (void)pl;
  if (OW < KW) return 0;
  return N * q_rows(OH, sh, KH, dh) * q_rows(OW, sw, KW, dw) * 4 + N * OH * OW * 4 + KH * KW * 4;
}

// Small maps (fewer output columns than kernel taps, where padding would be most of the work): per block of
// channels — outermost, so that the block's slices of x and dy stay in cache across all k×k taps — each tap's
// gradient summed in registers over just the output pixels whose input lies inside the image.
#define TAP_LOOP(BODY)                                                                                               \
  for (int n = 0; n < N; n++)                                                                                       \
    for (int oh = oh_lo; oh < oh_hi; oh++) {                                                                        \
      const int ih = oh * sh - pt + kh * dh;                                                                        \
      const float* xr = x + ((n * H + ih) * W) * C + c;                                                             \
      const float* gr = dy + ((n * OH + oh) * OW) * C + c;                                                          \
      for (int ow = ow_lo; ow < ow_hi; ow++) {                                                                      \
        const float* xp = xr + (ow * sw - pl + kw * dw) * C;                                                        \
        const float* gp = gr + ow * C;                                                                              \
        BODY                                                                                                        \
      }                                                                                                             \
    }

static void backprop_filter_direct(const float* RESTRICT x, const float* RESTRICT dy, float* RESTRICT df, int N, int H,
                                   int W, int C, int KH, int KW, int OH, int OW, int sh, int sw, int dh, int dw, int pt,
                                   int pl) {
  int c = 0;
  for (; c + 16 <= C; c += 16)
    for (int kh = 0; kh < KH; kh++) {
      const int oh_lo = out_lo(kh, sh, dh, pt), oh_hi = out_hi(kh, sh, dh, pt, H, OH);
      for (int kw = 0; kw < KW; kw++) {
        const int ow_lo = out_lo(kw, sw, dw, pl), ow_hi = out_hi(kw, sw, dw, pl, W, OW);
        f4 a0 = splat(0), a1 = splat(0), a2 = splat(0), a3 = splat(0);
        TAP_LOOP(a0 = madd(a0, ld(xp), ld(gp)); a1 = madd(a1, ld(xp + 4), ld(gp + 4));
                 a2 = madd(a2, ld(xp + 8), ld(gp + 8)); a3 = madd(a3, ld(xp + 12), ld(gp + 12));)
        float* fp = df + (kh * KW + kw) * C + c;
        st(fp, a0); st(fp + 4, a1); st(fp + 8, a2); st(fp + 12, a3);
      }
    }
  for (; c + 4 <= C; c += 4)
    for (int kh = 0; kh < KH; kh++) {
      const int oh_lo = out_lo(kh, sh, dh, pt), oh_hi = out_hi(kh, sh, dh, pt, H, OH);
      for (int kw = 0; kw < KW; kw++) {
        const int ow_lo = out_lo(kw, sw, dw, pl), ow_hi = out_hi(kw, sw, dw, pl, W, OW);
        f4 a0 = splat(0);
        TAP_LOOP(a0 = madd(a0, ld(xp), ld(gp));)
        st(df + (kh * KW + kw) * C + c, a0);
      }
    }
  for (; c < C; c++)
    for (int kh = 0; kh < KH; kh++) {
      const int oh_lo = out_lo(kh, sh, dh, pt), oh_hi = out_hi(kh, sh, dh, pt, H, OH);
      for (int kw = 0; kw < KW; kw++) {
        const int ow_lo = out_lo(kw, sw, dw, pl), ow_hi = out_hi(kw, sw, dw, pl, W, OW);
        float a = 0;
        TAP_LOOP(a += xp[0] * gp[0];)
        df[(kh * KW + kw) * C + c] = a;
      }
    }
}
#undef TAP_LOOP

// Filter gradient over one kernel row: acc[b] += Σ_j buf[row][j*t + b*e] · g[j], K accumulators in registers.
#define ROW_GRAD(K)                                                                                                  \
  static inline void row_grad_##K(const float* RESTRICT brow, const float* RESTRICT grow, f4* RESTRICT acc, int OW,  \
                                  int t, int e) {                                                                    \
    f4 a[K];                                                                                                         \
    for (int b = 0; b < K; b++) a[b] = acc[b];                                                                       \
    for (int j = 0; j < OW; j++) {                                                                                   \
      const f4 g = ld(grow + 4 * j);                                                                                 \
      const float* p = brow + (j * t) * 4;                                                                           \
      for (int b = 0; b < K; b++) a[b] = madd(a[b], ld(p + b * e * 4), g);                                           \
    }                                                                                                                \
    for (int b = 0; b < K; b++) acc[b] = a[b];                                                                       \
  }
ROW_GRAD(3)
ROW_GRAD(5)
ROW_GRAD(7)

// Larger maps: per group of 4 channels, a zero-padded copy of the group's input (Q) and a contiguous copy of its dy
// in scratch, then one kernel row at a time with its KW gradient accumulators in registers: each dy vector is
// loaded once for KW taps and nothing checks bounds.
static void backprop_filter_padded(const float* RESTRICT x, const float* RESTRICT dy, float* RESTRICT df, int N, int H,
                                   int W, int C, int KH, int KW, int OH, int OW, int sh, int sw, int dh, int dw, int pt,
                                   int pl, float* scratch) {
  const int rows = q_rows(OH, sh, KH, dh), cols = q_rows(OW, sw, KW, dw);
  // Accumulators live in the filter-sized head of scratch ([KW][4] per kernel row), then the dy group, then Q.
  float* acc = scratch;
  float* g = scratch + KH * KW * 4;
  float* buf = g + N * OH * OW * 4;
  for (int c0 = 0; c0 < C; c0 += 4) {
    const int lanes = imin(4, C - c0);
    pad_group(x, buf, N, H, W, C, c0, lanes, rows, cols, pt, pl);
    pad_group(dy, g, N, OH, OW, C, c0, lanes, OH, OW, 0, 0);
    for (int a = 0; a < KH; a++) {
      f4* accrow = (f4*)(acc + a * KW * 4);
      for (int b = 0; b < KW; b++) accrow[b] = splat(0);
      for (int n = 0; n < N; n++)
        for (int i = 0; i < OH; i++) {
          const int r = i * sh + a * dh;
          if (r < pt || r >= pt + H) continue;  // a row of padding: contributes 0
          const float* brow = buf + ((n * rows + r) * cols) * 4;
          const float* grow = g + ((n * OH + i) * OW) * 4;
          switch (KW) {
            case 3: row_grad_3(brow, grow, accrow, OW, sw, dw); break;
            case 5: row_grad_5(brow, grow, accrow, OW, sw, dw); break;
            case 7: row_grad_7(brow, grow, accrow, OW, sw, dw); break;
            default:
              for (int j = 0; j < OW; j++) {
                const f4 gv = ld(grow + 4 * j);
                for (int b = 0; b < KW; b++) accrow[b] = madd(accrow[b], ld(brow + (j * sw + b * dw) * 4), gv);
              }
          }
        }
      for (int b = 0; b < KW; b++) store_lanes(df + (a * KW + b) * C + c0, accrow[b], lanes);
    }
  }
}

// df[kh,kw,c] = Σ_{n,oh,ow} x[n, oh*sh-pt+kh*dh, ow*sw-pl+kw*dw, c] · dy[n,oh,ow,c]
EXPORT(depthwise_backprop_filter)(const float* RESTRICT x, const float* RESTRICT dy, float* RESTRICT df, int N, int H,
                                  int W, int C, int KH, int KW, int OH, int OW, int sh, int sw, int dh, int dw, int pt,
                                  int pl, float* scratch) {
  if (OW >= KW)
    backprop_filter_padded(x, dy, df, N, H, W, C, KH, KW, OH, OW, sh, sw, dh, dw, pt, pl, scratch);
  else
    backprop_filter_direct(x, dy, df, N, H, W, C, KH, KW, OH, OW, sh, sw, dh, dw, pt, pl);
}
