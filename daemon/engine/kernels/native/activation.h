// Activations and their derivatives on 4 lanes, with tfjs's conventions at the kinks (relu' = [z > 0],
// relu6' = [0 < z <= 6], hswish = z·relu6(z+3)/6, hsigmoid = relu6(z+3)/6), so gradients match the stock ops.
#pragma once
#include "common.h"

enum { ACT_LINEAR = 0, ACT_RELU = 1, ACT_RELU6 = 2, ACT_HSWISH = 3, ACT_HSIGMOID = 4 };

static inline f4 relu6_4(f4 z) { return fmin4(fmax4(z, splat(0)), splat(6)); }

static inline f4 act4(f4 z, int act) {
  switch (act) {
    case ACT_RELU: return fmax4(z, splat(0));
    case ACT_RELU6: return relu6_4(z);
    case ACT_HSWISH: return mul(z, mul(relu6_4(add(z, splat(3))), splat(1.0f / 6)));
    case ACT_HSIGMOID: return mul(relu6_4(add(z, splat(3))), splat(1.0f / 6));
    default: return z;
  }
}

// dy · act'(z)
static inline f4 act_grad4(f4 dy, f4 z, int act) {
  switch (act) {
    case ACT_RELU: return wasm_v128_and(dy, wasm_f32x4_gt(z, splat(0)));
    case ACT_RELU6: return wasm_v128_and(dy, wasm_v128_and(wasm_f32x4_gt(z, splat(0)), wasm_f32x4_le(z, splat(6))));
    case ACT_HSWISH: {
      // z <= -3: 0; -3 < z <= 3: (2z + 3)/6; z > 3: 1
      const f4 mid = mul(add(add(z, z), splat(3)), splat(1.0f / 6));
      const f4 d = wasm_v128_bitselect(splat(1), mid, wasm_f32x4_gt(z, splat(3)));
      return wasm_v128_and(mul(dy, d), wasm_f32x4_gt(z, splat(-3)));
    }
    case ACT_HSIGMOID:
      return wasm_v128_and(mul(dy, splat(1.0f / 6)),
                           wasm_v128_and(wasm_f32x4_gt(z, splat(-3)), wasm_f32x4_le(z, splat(3))));
    default: return dy;
  }
}

static inline float act1(float z, int act) { return wasm_f32x4_extract_lane(act4(splat(z), act), 0); }
static inline float act_grad1(float dy, float z, int act) {
  return wasm_f32x4_extract_lane(act_grad4(splat(dy), splat(z), act), 0);
}
