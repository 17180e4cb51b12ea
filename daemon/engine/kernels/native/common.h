// Shared helpers of MANTA's native kernels. Everything is static inline: the module has no data segment, no
// globals and no linear-memory stack, so it can run directly on the tfjs wasm heap it imports (see build.mjs).
#pragma once
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name))) void name
#define RESTRICT __restrict__

typedef v128_t f4;

static inline f4 ld(const float* p) { return wasm_v128_load(p); }
static inline void st(float* p, f4 v) { wasm_v128_store(p, v); }
static inline f4 splat(float x) { return wasm_f32x4_splat(x); }
static inline f4 add(f4 a, f4 b) { return wasm_f32x4_add(a, b); }
static inline f4 sub(f4 a, f4 b) { return wasm_f32x4_sub(a, b); }
static inline f4 mul(f4 a, f4 b) { return wasm_f32x4_mul(a, b); }
static inline f4 madd(f4 acc, f4 a, f4 b) { return wasm_f32x4_add(acc, wasm_f32x4_mul(a, b)); }
static inline f4 fmin4(f4 a, f4 b) { return wasm_f32x4_pmin(a, b); }
static inline f4 fmax4(f4 a, f4 b) { return wasm_f32x4_pmax(a, b); }
static inline float hsum(f4 v) {
  return wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1) + wasm_f32x4_extract_lane(v, 2) +
         wasm_f32x4_extract_lane(v, 3);
}
static inline int imin(int a, int b) { return a < b ? a : b; }
static inline int imax(int a, int b) { return a > b ? a : b; }

// Fills n floats with zero (our own loop: with -nostdlib there is no memset to call).
static inline void zero(float* p, int n) {
  int i = 0;
  f4 z = wasm_f32x4_const_splat(0.0f);
  for (; i + 4 <= n; i += 4) st(p + i, z);
  for (; i < n; i++) p[i] = 0.0f;
}
