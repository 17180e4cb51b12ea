// The matrix multiply that the convolution kernels build on (see gemm.c for the layout and the scratch it needs).
#pragma once
void gemm(int M, int N, int K, const float* a, int sam, int sak, const float* b, int sbk, int sbn, float* c, int ldc,
          int accumulate, float* scratch);
// Floats of scratch gemm needs for an N-column B.
#define GEMM_SCRATCH(N) (256 * (((N) + 7) / 8) * 8)
