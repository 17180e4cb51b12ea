// Training-mode batch norm fused with the activation that follows it, forward and backward, over rows of C
// channels (NHWC flattened to [P, C]). Forward: two passes for the batch statistics (mean, then the centred
// variance, which stays accurate), one for the output. Backward: one pass for Σdz and Σdz·x̂, one for dx; the
// pre-activation z is recomputed from x instead of being stored.
#include "activation.h"

// acc[c] += x[p, c] over all rows.
static void column_sums(const float* RESTRICT x, float* RESTRICT acc, int P, int C) {
  zero(acc, C);
  for (int p = 0; p < P; p++) {
    const float* row = x + p * C;
    int c = 0;
    for (; c + 4 <= C; c += 4) st(acc + c, add(ld(acc + c), ld(row + c)));
    for (; c < C; c++) acc[c] += row[c];
  }
}

static void centred_squares(const float* RESTRICT x, const float* RESTRICT mean, float* RESTRICT acc, int P, int C) {
  zero(acc, C);
  for (int p = 0; p < P; p++) {
    const float* row = x + p * C;
    int c = 0;
    for (; c + 4 <= C; c += 4) {
      const f4 d = sub(ld(row + c), ld(mean + c));
      st(acc + c, madd(ld(acc + c), d, d));
    }
    for (; c < C; c++) {
      const float d = row[c] - mean[c];
      acc[c] += d * d;
    }
  }
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
// scratch: 2C floats.
EXPORT(batchnorm_act_forward)(const float* x, const float* gamma, const float* beta, float* y, float* mean, float* var,
                              int P, int C, float eps, int act, float* scratch) {
  const float inv_p = P > 0 ? 1.0f / (float)P : 0.0f;
  column_sums(x, mean, P, C);
  for (int c = 0; c < C; c++) mean[c] *= inv_p;
  centred_squares(x, mean, var, P, C);
  for (int c = 0; c < C; c++) var[c] *= inv_p;
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

// Σ dz and Σ dz·(x − mean) per channel, with dz = dy·act'(x·scale + shift).
static inline void grad_sums(const float* RESTRICT dy, const float* RESTRICT x, const float* RESTRICT mean,
                             const float* RESTRICT scale, const float* RESTRICT shift, float* RESTRICT sum_dz,
                             float* RESTRICT sum_dzx, int P, int C, int act) {
  zero(sum_dz, C);
  zero(sum_dzx, C);
  for (int p = 0; p < P; p++) {
    const float* xr = x + p * C;
    const float* gr = dy + p * C;
    int c = 0;
    for (; c + 4 <= C; c += 4) {
      const f4 xv = ld(xr + c);
      const f4 dz = act_grad4(ld(gr + c), madd(ld(shift + c), xv, ld(scale + c)), act);
      st(sum_dz + c, add(ld(sum_dz + c), dz));
      st(sum_dzx + c, madd(ld(sum_dzx + c), dz, sub(xv, ld(mean + c))));
    }
    for (; c < C; c++) {
      const float dz = act_grad1(gr[c], shift[c] + xr[c] * scale[c], act);
      sum_dz[c] += dz;
      sum_dzx[c] += dz * (xr[c] - mean[c]);
    }
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
                            float* k0, float* k1) {
  grad_sums(dy, x, mean, scale, shift, dbeta, dgamma, P, C, act);
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

// Gradients of batchnorm_act_forward given its saved mean and var. scratch: 4C floats.
EXPORT(batchnorm_act_backward)(const float* dy, const float* x, const float* mean, const float* var,
                               const float* gamma, const float* beta, float* dx, float* dgamma, float* dbeta, int P,
                               int C, float eps, int act, float* scratch) {
  float* scale = scratch;
  float* shift = scratch + C;
  float* k0 = scratch + 2 * C;
  float* k1 = scratch + 3 * C;
  scale_shift(mean, var, gamma, beta, eps, scale, shift, C);
  switch (act) {
    case ACT_RELU: backward(dy, x, mean, var, eps, dx, dgamma, dbeta, P, C, ACT_RELU, scale, shift, k0, k1); break;
    case ACT_RELU6: backward(dy, x, mean, var, eps, dx, dgamma, dbeta, P, C, ACT_RELU6, scale, shift, k0, k1); break;
    case ACT_HSWISH: backward(dy, x, mean, var, eps, dx, dgamma, dbeta, P, C, ACT_HSWISH, scale, shift, k0, k1); break;
    case ACT_HSIGMOID:
      backward(dy, x, mean, var, eps, dx, dgamma, dbeta, P, C, ACT_HSIGMOID, scale, shift, k0, k1);
      break;
    default: backward(dy, x, mean, var, eps, dx, dgamma, dbeta, P, C, ACT_LINEAR, scale, shift, k0, k1); break;
  }
}
