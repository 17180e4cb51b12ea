// General matrix multiply C (+)= A·B for the 1×1 convolutions, matMul and their gradients, with both operands read
// through strides so that X·W, dY·Wᵀ and Xᵀ·dY need no transposed copy.
// A(i,k) = a[i*sam + k*sak]; B(k,j) = b[k*sbk + j*sbn]; C(i,j) = c[i*ldc + j]. B is packed per K chunk (pack_b), so
// its strides cost nothing in the inner loops; A's are read as they are (contiguous 4-row columns get a fast tile).
#include "common.h"
#include "gemm.h"

// 4×8 register tile, A rows strided (sak == 1 typical: X·W).
static inline void tile4x8_rows(int K, const float* RESTRICT a, int sam, int sak, const float* RESTRICT b, int ldb,
                                float* RESTRICT c, int ldc, int acc) {
  f4 c00 = splat(0), c01 = splat(0), c10 = splat(0), c11 = splat(0);
  f4 c20 = splat(0), c21 = splat(0), c30 = splat(0), c31 = splat(0);
  const float* a0 = a;
  const float* a1 = a + sam;
  const float* a2 = a + 2 * sam;
  const float* a3 = a + 3 * sam;
  for (int k = 0; k < K; k++) {
    const f4 b0 = ld(b), b1 = ld(b + 4);
    b += ldb;
    const int o = k * sak;
    f4 x = wasm_v128_load32_splat(a0 + o);
    c00 = madd(c00, x, b0); c01 = madd(c01, x, b1);
    x = wasm_v128_load32_splat(a1 + o);
    c10 = madd(c10, x, b0); c11 = madd(c11, x, b1);
    x = wasm_v128_load32_splat(a2 + o);
    c20 = madd(c20, x, b0); c21 = madd(c21, x, b1);
    x = wasm_v128_load32_splat(a3 + o);
    c30 = madd(c30, x, b0); c31 = madd(c31, x, b1);
  }
  if (acc) {
    c00 = add(c00, ld(c)); c01 = add(c01, ld(c + 4));
    c10 = add(c10, ld(c + ldc)); c11 = add(c11, ld(c + ldc + 4));
    c20 = add(c20, ld(c + 2 * ldc)); c21 = add(c21, ld(c + 2 * ldc + 4));
    c30 = add(c30, ld(c + 3 * ldc)); c31 = add(c31, ld(c + 3 * ldc + 4));
  }
  st(c, c00); st(c + 4, c01);
  st(c + ldc, c10); st(c + ldc + 4, c11);
  st(c + 2 * ldc, c20); st(c + 2 * ldc + 4, c21);
  st(c + 3 * ldc, c30); st(c + 3 * ldc + 4, c31);
}

// 4×8 register tile, A columns contiguous (sam == 1: Xᵀ·dY, the filter gradient).
static inline void tile4x8_cols(int K, const float* RESTRICT a, int sak, const float* RESTRICT b, int ldb,
                                float* RESTRICT c, int ldc, int acc) {
  f4 c00 = splat(0), c01 = splat(0), c10 = splat(0), c11 = splat(0);
  f4 c20 = splat(0), c21 = splat(0), c30 = splat(0), c31 = splat(0);
  for (int k = 0; k < K; k++) {
    const f4 b0 = ld(b), b1 = ld(b + 4);
    b += ldb;
    const f4 av = ld(a);
    a += sak;
    f4 x = wasm_i32x4_shuffle(av, av, 0, 0, 0, 0);
    c00 = madd(c00, x, b0); c01 = madd(c01, x, b1);
    x = wasm_i32x4_shuffle(av, av, 1, 1, 1, 1);
    c10 = madd(c10, x, b0); c11 = madd(c11, x, b1);
    x = wasm_i32x4_shuffle(av, av, 2, 2, 2, 2);
    c20 = madd(c20, x, b0); c21 = madd(c21, x, b1);
    x = wasm_i32x4_shuffle(av, av, 3, 3, 3, 3);
    c30 = madd(c30, x, b0); c31 = madd(c31, x, b1);
  }
  if (acc) {
    c00 = add(c00, ld(c)); c01 = add(c01, ld(c + 4));
    c10 = add(c10, ld(c + ldc)); c11 = add(c11, ld(c + ldc + 4));
    c20 = add(c20, ld(c + 2 * ldc)); c21 = add(c21, ld(c + 2 * ldc + 4));
    c30 = add(c30, ld(c + 3 * ldc)); c31 = add(c31, ld(c + 3 * ldc + 4));
  }
  st(c, c00); st(c + 4, c01);
  st(c + ldc, c10); st(c + ldc + 4, c11);
  st(c + 2 * ldc, c20); st(c + 2 * ldc + 4, c21);
  st(c + 3 * ldc, c30); st(c + 3 * ldc + 4, c31);
}

// Any tile up to 4×8 at the edges: one row at a time, 4 columns at a time, then scalars.
static void tile_edge(int mr, int nr, int K, const float* RESTRICT a, int sam, int sak, const float* RESTRICT b,
                      int ldb, float* RESTRICT c, int ldc, int acc) {
  for (int i = 0; i < mr; i++) {
    const float* ai = a + i * sam;
    float* ci = c + i * ldc;
    int j = 0;
    for (; j + 4 <= nr; j += 4) {
      f4 s = splat(0);
      const float* bj = b + j;
      for (int k = 0; k < K; k++) s = madd(s, wasm_v128_load32_splat(ai + k * sak), ld(bj + k * ldb));
      st(ci + j, acc ? add(s, ld(ci + j)) : s);
    }
    for (; j < nr; j++) {
      float s = 0;
      for (int k = 0; k < K; k++) s += ai[k * sak] * b[k * ldb + j];
      ci[j] = acc ? ci[j] + s : s;
    }
  }
}

// Copies the kc×N slice of B into 8-column panels, each kc×8 contiguous, zero-padded past N: the tiles then read B
// sequentially whatever its layout.
static void pack_b(int kc, int N, const float* RESTRICT b, int sbk, int sbn, float* RESTRICT packed) {
  for (int j = 0; j < N; j += 8) {
    const int nr = imin(8, N - j);
    float* p = packed + j * kc;
    if (nr == 8 && sbn == 1) {
      for (int k = 0; k < kc; k++) {
        st(p + 8 * k, ld(b + k * sbk + j));
        st(p + 8 * k + 4, ld(b + k * sbk + j + 4));
      }
    } else if (nr == 8 && sbk == 1) {
      // Bᵀ stored row-major: each of the 8 columns is a contiguous run over k; 4×4 register transposes turn four
      // runs into four panel rows at a time.
      int k = 0;
      for (; k + 4 <= kc; k += 4)
        for (int g = 0; g < 8; g += 4) {
          const float* col = b + (j + g) * sbn + k;
          const f4 c0 = ld(col), c1 = ld(col + sbn), c2 = ld(col + 2 * sbn), c3 = ld(col + 3 * sbn);
          const f4 t0 = wasm_i32x4_shuffle(c0, c1, 0, 4, 1, 5), t1 = wasm_i32x4_shuffle(c2, c3, 0, 4, 1, 5);
          const f4 t2 = wasm_i32x4_shuffle(c0, c1, 2, 6, 3, 7), t3 = wasm_i32x4_shuffle(c2, c3, 2, 6, 3, 7);
          st(p + 8 * k + g, wasm_i32x4_shuffle(t0, t1, 0, 1, 4, 5));
          st(p + 8 * (k + 1) + g, wasm_i32x4_shuffle(t0, t1, 2, 3, 6, 7));
          st(p + 8 * (k + 2) + g, wasm_i32x4_shuffle(t2, t3, 0, 1, 4, 5));
          st(p + 8 * (k + 3) + g, wasm_i32x4_shuffle(t2, t3, 2, 3, 6, 7));
        }
      for (; k < kc; k++)
        for (int q = 0; q < 8; q++) p[8 * k + q] = b[k + (j + q) * sbn];
    } else {
      for (int k = 0; k < kc; k++)
        for (int q = 0; q < 8; q++) p[8 * k + q] = q < nr ? b[k * sbk + (j + q) * sbn] : 0.0f;
    }
  }
}

// C (+)= A·B over one K chunk with B packed by pack_b.
static void gemm_block(int M, int N, int K, const float* a, int sam, int sak, const float* packed, float* c, int ldc,
                       int acc) {
  const int colsA = sam == 1 && sak >= 4;
  for (int i = 0; i < M; i += 4) {
    const int mr = imin(4, M - i);
    const float* ai = a + i * sam;
    for (int j = 0; j < N; j += 8) {
      const int nr = imin(8, N - j);
      const float* bj = packed + j * K;
      if (mr == 4 && nr == 8) {
        if (colsA) tile4x8_cols(K, ai, sak, bj, 8, c + i * ldc + j, ldc, acc);
        else tile4x8_rows(K, ai, sam, sak, bj, 8, c + i * ldc + j, ldc, acc);
      } else {
        tile_edge(mr, nr, K, ai, sam, sak, bj, 8, c + i * ldc + j, ldc, acc);
      }
    }
  }
}

#define KC 256  // must match GEMM_SCRATCH in gemm.h

// C = A·B (accumulate = 0) or C += A·B (accumulate = 1). K is split into chunks of KC so that the packed B chunk
// (in `scratch`, which must hold GEMM_SCRATCH(N) floats, see gemm.h) and the A tiles stay in cache.
EXPORT(gemm)(int M, int N, int K, const float* a, int sam, int sak, const float* b, int sbk, int sbn, float* c,
             int ldc, int accumulate, float* scratch) {
  if (K == 0) {
    if (!accumulate)
      for (int i = 0; i < M; i++) zero(c + i * ldc, N);
    return;
  }
  for (int k0 = 0; k0 < K; k0 += KC) {
    const int kc = imin(KC, K - k0);
    pack_b(kc, N, b + k0 * sbk, sbk, sbn, scratch);
    gemm_block(M, N, kc, a + k0 * sak, sam, sak, scratch, c, ldc, accumulate || k0 > 0);
  }
}
