// Training-mode batch norm fused with the activation that follows it, forward and backward, over rows of C
// channels (NHWC flattened to [P, C]). Forward: two passes for the batch statistics (mean, then the centred
// variance, which stays accurate), one for the output. Backward: one pass for Σdz and Σdz·x̂, one for dx; the
// pre-activation z is recomputed from x instead of being stored. Every per-channel sum accumulates in float64.
#include "activation.h"

// Per-channel sums over the rows accumulate in float64 (then round once): float32 running sums over N·H·W rows
// drift by ~√P ulp, enough to shift the statistics, and so every pre-activation, visibly against other frameworks.
typedef v128_t d2;
static inline d2 lo64(f4 v) { return wasm_f64x2_promote_low_f32x4(v); }
static inline d2 hi64(f4 v) { return wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(v, v, 2, 3, 0, 1)); }
static inline void acc64(double* RESTRICT acc, f4 v) {
  wasm_v128_store(acc, wasm_f64x2_add(wasm_v128_load(acc), lo64(v)));
  wasm_v128_store(acc + 2, wasm_f64x2_add(wasm_v128_load(acc + 2), hi64(v)));
}
static inline void zero64(double* p, int n) {
  for (int i = 0; i < n; i++) p[i] = 0.0;
}

// out[c] = scale · Σ_p x[p, c]. acc: C doubles.
static void column_means(const float* RESTRICT x, float* RESTRICT out, double* RESTRICT acc, int P, int C, double scale) {
  zero64(acc, C);
  for (int p = 0; p < P; p++) {
    const float* row = x + p * C;
    int c = 0;
    for (; c + 4 <= C; c += 4) acc64(acc + c, ld(row + c));
    for (; c < C; c++) acc[c] += row[c];
  }
  for (int c = 0; c < C; c++) out[c] = (float)(acc[c] * scale);
}

// out[c] = scale · Σ_p (x[p, c] − mean[c])². acc: C doubles.
static void centred_squares(const float* RESTRICT x, const float* RESTRICT mean, float* RESTRICT out,
                            double* RESTRICT acc, int P, int C, double scale) {
  zero64(acc, C);
  for (int p = 0; p < P; p++) {
    const float* row = x + p * C;
    int c = 0;
    for (; c + 4 <= C; c += 4) {
      const f4 d = sub(ld(row + c), ld(mean + c));
      const d2 dl = lo64(d), dh = hi64(d);
      wasm_v128_store(acc + c, wasm_f64x2_add(wasm_v128_load(acc + c), wasm_f64x2_mul(dl, dl)));
      wasm_v128_store(acc + c + 2, wasm_f64x2_add(wasm_v128_load(acc + c + 2), wasm_f64x2_mul(dh, dh)));
    }
    for (; c < C; c++) {
      const double d = row[c] - mean[c];
      acc[c] += d * d;
    }
  }
  for (int c = 0; c < C; c++) out[c] = (float)(acc[c] * scale);
}

static inline void normalize_act(const float* RESTRICT x, const float* RESTRICT scale, const float* RESTRICT shift,
                                  float* RESTRICT y, int P, int C, int act) {
  for (int p = 0; p < P; p++) {
    const float* row = x + p * C;
    float* out = y + p * C;
    int c = 0;
    for (; c + 4 <= C; c += 4) st(out + c, act4(madd(ld(shift + c), ld(row + c), ld(scale + c)), act));
    for (; c < C; c++) out[c] = act1(shift[c] + row[c] * scale[c], act);
  }
}

// scale = γ/√(var+ε), shift = β − mean·scale, written to scratch[0..C) and scratch[C..2C).
static void scale_shift(const float* mean, const float* var, const float* gamma, const float* beta, float eps,
                        float* scale, float* shift, int C) {
  for (int c = 0; c < C; c++) {
    const float inv = 1.0f / __builtin_sqrtf(var[c] + eps);
    scale[c] = gamma[c] * inv;
    shift[c] = beta[c] - mean[c] * scale[c];
  }
}

// y = act(γ·(x − mean)/√(var + ε) + β) with the batch's own (biased) mean and var, which are also outputs.
// scratch: 2C floats (first C doubles of sums, then scale and shift).
EXPORT(batchnorm_act_forward)(const float* x, const float* gamma, const float* beta, float* y, float* mean, float* var,
                              int P, int C, float eps, int act, float* scratch) {
  const double inv_p = P > 0 ? 1.0 / (double)P : 0.0;
  column_means(x, mean, (double*)scratch, P, C, inv_p);
  centred_squares(x, mean, var, (double*)scratch, P, C, inv_p);
  float* scale = scratch;
  float* shift = scratch + C;
  scale_shift(mean, var, gamma, beta, eps, scale, shift, C);
  switch (act) {
    case ACT_RELU: normalize_act(x, scale, shift, y, P, C, ACT_RELU); break;
    case ACT_RELU6: normalize_act(x, scale, shift, y, P, C, ACT_RELU6); break;
    case ACT_HSWISH: normalize_act(x, scale, shift, y, P, C, ACT_HSWISH); break;
    case ACT_HSIGMOID: normalize_act(x, scale, shift, y, P, C, ACT_HSIGMOID); break;
    default: normalize_act(x, scale, shift, y, P, C, ACT_LINEAR); break;
  }
}

// Σ dz and Σ dz·(x − mean) per channel, with dz = dy·act'(x·scale + shift), accumulated in float64 (acc: 2C doubles).
static inline void grad_sums(const float* RESTRICT dy, const float* RESTRICT x, const float* RESTRICT mean,
                             const float* RESTRICT scale, const float* RESTRICT shift, float* RESTRICT sum_dz,
                             float* RESTRICT sum_dzx, double* RESTRICT acc, int P, int C, int act) {
  double* acc_dz = acc;
  double* acc_dzx = acc + C;
  zero64(acc, 2 * C);
  for (int p = 0; p < P; p++) {
    const float* xr = x + p * C;
    const float* gr = dy + p * C;
    int c = 0;
    for (; c + 4 <= C; c += 4) {
      const f4 xv = ld(xr + c);
      const f4 dz = act_grad4(ld(gr + c), madd(ld(shift + c), xv, ld(scale + c)), act);
      acc64(acc_dz + c, dz);
      const f4 d = sub(xv, ld(mean + c));
      wasm_v128_store(acc_dzx + c, wasm_f64x2_add(wasm_v128_load(acc_dzx + c), wasm_f64x2_mul(lo64(dz), lo64(d))));
      wasm_v128_store(acc_dzx + c + 2, wasm_f64x2_add(wasm_v128_load(acc_dzx + c + 2), wasm_f64x2_mul(hi64(dz), hi64(d))));
    }
    for (; c < C; c++) {
      const float dz = act_grad1(gr[c], shift[c] + xr[c] * scale[c], act);
      acc_dz[c] += dz;
      acc_dzx[c] += (double)dz * (double)(xr[c] - mean[c]);
    }
  }
  for (int c = 0; c < C; c++) {
    sum_dz[c] = (float)acc_dz[c];
    sum_dzx[c] = (float)acc_dzx[c];
  }
}

// dx = scale·(dz − k0 − (x − mean)·k1) with k0 = Σdz/P and k1 = Σdz·(x−mean)/(P·(var+ε)).
static inline void grad_input(const float* RESTRICT dy, const float* RESTRICT x, const float* RESTRICT mean,
                              const float* RESTRICT scale, const float* RESTRICT shift, const float* RESTRICT k0,
                              const float* RESTRICT k1, float* RESTRICT dx, int P, int C, int act) {
  for (int p = 0; p < P; p++) {
    const float* xr = x + p * C;
    const float* gr = dy + p * C;
    float* out = dx + p * C;
    int c = 0;
    for (; c + 4 <= C; c += 4) {
      const f4 xv = ld(xr + c);
      const f4 sc = ld(scale + c);
      const f4 dz = act_grad4(ld(gr + c), madd(ld(shift + c), xv, sc), act);
      st(out + c, mul(sc, sub(sub(dz, ld(k0 + c)), mul(sub(xv, ld(mean + c)), ld(k1 + c)))));
    }
    for (; c < C; c++) {
      const float dz = act_grad1(gr[c], shift[c] + xr[c] * scale[c], act);
      out[c] = scale[c] * (dz - k0[c] - (xr[c] - mean[c]) * k1[c]);
    }
  }
}

static inline void backward(const float* dy, const float* x, const float* mean, const float* var, float eps,
                            float* dx, float* dgamma, float* dbeta, int P, int C, int act, float* scale, float* shift,
                            float* k0, float* k1, double* acc) {
  grad_sums(dy, x, mean, scale, shift, dbeta, dgamma, acc, P, C, act);
  const float inv_p = P > 0 ? 1.0f / (float)P : 0.0f;
  for (int c = 0; c < C; c++) {
    const float inv_var = 1.0f / (var[c] + eps);
    const float inv_std = 1.0f / __builtin_sqrtf(var[c] + eps);
    k0[c] = dbeta[c] * inv_p;
    k1[c] = dgamma[c] * inv_p * inv_var;
    dgamma[c] *= inv_std;  // Σ dz·x̂ = Σ dz·(x − mean) / √(var + ε)
  }
  grad_input(dy, x, mean, scale, shift, k0, k1, dx, P, C, act);
}

// Gradients of batchnorm_act_forward given its saved mean and var. scratch: 8C floats (scale, shift, k0, k1, then
// 2C doubles of sums).
EXPORT(batchnorm_act_backward)(const float* dy, const float* x, const float* mean, const float* var,
                               const float* gamma, const float* beta, float* dx, float* dgamma, float* dbeta, int P,
                               int C, float eps, int act, float* scratch) {
  float* scale = scratch;
  float* shift = scratch + C;
  float* k0 = scratch + 2 * C;
  float* k1 = scratch + 3 * C;
  double* acc = (double*)(scratch + 4 * C);
  scale_shift(mean, var, gamma, beta, eps, scale, shift, C);
  switch (act) {
    case ACT_RELU: backward(dy, x, mean, var, eps, dx, dgamma, dbeta, P, C, ACT_RELU, scale, shift, k0, k1, acc); break;
    case ACT_RELU6: backward(dy, x, mean, var, eps, dx, dgamma, dbeta, P, C, ACT_RELU6, scale, shift, k0, k1, acc); break;
    case ACT_HSWISH: backward(dy, x, mean, var, eps, dx, dgamma, dbeta, P, C, ACT_HSWISH, scale, shift, k0, k1, acc); break;
    case ACT_HSIGMOID:
      backward(dy, x, mean, var, eps, dx, dgamma, dbeta, P, C, ACT_HSIGMOID, scale, shift, k0, k1, acc);
      break;
    default: backward(dy, x, mean, var, eps, dx, dgamma, dbeta, P, C, ACT_LINEAR, scale, shift, k0, k1, acc); break;
  }
}
