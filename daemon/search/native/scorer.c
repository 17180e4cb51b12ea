// The accuracy predictor's forward pass for a whole batch of candidate architectures, in wasm SIMD (see
// ../scorer.ts for the memory layout, which the caller owns). Three kernels:
//   first_layer:  h = relu(b + Σ_active v·W[i])    — the input is one-hot, so a gather-sum of the active rows
//   dense_relu:   h' = relu(b + h·W)               — W packed in panels of 16 columns, 2 rows of h at a time
//   output_layer: y = base + h·w                   — one dot product per row
// No data segment, no globals, no stack: the module only computes on the memory it is given.
#include <wasm_simd128.h>

#define PANEL 16 /* columns per packed weight panel: 4 vectors */
#define ROWS 2   /* batch rows per register tile */

__attribute__((export_name("first_layer")))
void first_layer(const float* W, const float* b, const int* indices, const float* values, const int* offsets,
                 int count, int paddedCount, int H, float* out) {
  const v128_t zero = wasm_f32x4_splat(0.0f);
  for (int s = 0; s < paddedCount; s++) {
    float* o = out + s * H;
    if (s >= count) {  // padding rows of the last tile: zeros, so that they cost nothing downstream
      for (int j = 0; j < H; j += 4) wasm_v128_store(o + j, zero);
      continue;
    }
    for (int j = 0; j < H; j += 4) wasm_v128_store(o + j, wasm_v128_load(b + j));
    for (int p = offsets[s]; p < offsets[s + 1]; p++) {
      const float* w = W + indices[p] * H;
      const float v = values[p];
      if (v == 1.0f) {
        for (int j = 0; j < H; j += 4) wasm_v128_store(o + j, wasm_f32x4_add(wasm_v128_load(o + j), wasm_v128_load(w + j)));
      } else {
        const v128_t vv = wasm_f32x4_splat(v);
        for (int j = 0; j < H; j += 4)
          wasm_v128_store(o + j, wasm_f32x4_add(wasm_v128_load(o + j), wasm_f32x4_mul(vv, wasm_v128_load(w + j))));
      }
    }
    for (int j = 0; j < H; j += 4) wasm_v128_store(o + j, wasm_f32x4_max(wasm_v128_load(o + j), zero));
  }
}

// in: paddedCount × K (paddedCount a multiple of ROWS); Wp: N/PANEL panels of K × PANEL; out: paddedCount × N.
// nz: scratch of K ints. Rows of `in` are ReLU outputs, about half zeros: a k where both rows of the tile are zero is
// skipped, which is exact.
__attribute__((export_name("dense_relu")))
void dense_relu(const float* in, const float* Wp, const float* b, int paddedCount, int K, int N, float* out, int* nz) {
  const v128_t zero = wasm_f32x4_splat(0.0f);
  for (int s = 0; s < paddedCount; s += ROWS) {
    const float* x0 = in + s * K;
    const float* x1 = x0 + K;
    int n = 0;
    for (int k = 0; k < K; k++) {
      nz[n] = k;
      n += (x0[k] != 0.0f) | (x1[k] != 0.0f);
    }
    for (int jt = 0; jt < N; jt += PANEL) {
      const float* panel = Wp + jt * K;
      v128_t a00 = wasm_v128_load(b + jt), a01 = wasm_v128_load(b + jt + 4);
      v128_t a02 = wasm_v128_load(b + jt + 8), a03 = wasm_v128_load(b + jt + 12);
      v128_t a10 = a00, a11 = a01, a12 = a02, a13 = a03;
      for (int i = 0; i < n; i++) {
        const int k = nz[i];
        const float* w = panel + k * PANEL;
        const v128_t w0 = wasm_v128_load(w), w1 = wasm_v128_load(w + 4);
        const v128_t w2 = wasm_v128_load(w + 8), w3 = wasm_v128_load(w + 12);
        const v128_t u = wasm_v128_load32_splat(x0 + k);
        const v128_t v = wasm_v128_load32_splat(x1 + k);
        a00 = wasm_f32x4_add(a00, wasm_f32x4_mul(u, w0));
        a01 = wasm_f32x4_add(a01, wasm_f32x4_mul(u, w1));
        a02 = wasm_f32x4_add(a02, wasm_f32x4_mul(u, w2));
        a03 = wasm_f32x4_add(a03, wasm_f32x4_mul(u, w3));
        a10 = wasm_f32x4_add(a10, wasm_f32x4_mul(v, w0));
        a11 = wasm_f32x4_add(a11, wasm_f32x4_mul(v, w1));
        a12 = wasm_f32x4_add(a12, wasm_f32x4_mul(v, w2));
        a13 = wasm_f32x4_add(a13, wasm_f32x4_mul(v, w3));
      }
      float* o0 = out + s * N + jt;
      float* o1 = o0 + N;
      wasm_v128_store(o0, wasm_f32x4_max(a00, zero));
      wasm_v128_store(o0 + 4, wasm_f32x4_max(a01, zero));
      wasm_v128_store(o0 + 8, wasm_f32x4_max(a02, zero));
      wasm_v128_store(o0 + 12, wasm_f32x4_max(a03, zero));
      wasm_v128_store(o1, wasm_f32x4_max(a10, zero));
      wasm_v128_store(o1 + 4, wasm_f32x4_max(a11, zero));
      wasm_v128_store(o1 + 8, wasm_f32x4_max(a12, zero));
      wasm_v128_store(o1 + 12, wasm_f32x4_max(a13, zero));
    }
  }
}

__attribute__((export_name("output_layer")))
void output_layer(const float* in, const float* w, float base, int count, int K, float* y) {
  for (int s = 0; s < count; s++) {
    const float* x = in + s * K;
    v128_t acc = wasm_f32x4_splat(0.0f);
    for (int k = 0; k < K; k += 4) acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_v128_load(x + k), wasm_v128_load(w + k)));
    y[s] = base + (wasm_f32x4_extract_lane(acc, 0) + wasm_f32x4_extract_lane(acc, 1)) +
           (wasm_f32x4_extract_lane(acc, 2) + wasm_f32x4_extract_lane(acc, 3));
  }
}
