// The shared fp32 GEMM of the optimised kernels: C = alpha * A * B + beta * C with A [m, k],
// B [k, n] given by row and column strides (so transposes are free) and C row-major with row
// stride ldc. Cache-blocked over packed panels of A and B, a register-blocked micro-kernel
// per ISA (AVX-512, AVX2+FMA, plain x86-64, picked once from the CPU and capped by the
// environment variable TORCHLESS_MAX_ISA=avx512|avx2|default), OpenMP threads when the product
// is large. Accumulates in float. beta == 0 never reads C (NaN there is overwritten).
#pragma once

#include <cstdint>

namespace torchless::engine {

enum class Isa { kDefault, kAvx2, kAvx512 };
// The ISA the optimised kernels use: the best the CPU has, capped by TORCHLESS_MAX_ISA.
Isa active_isa();
const char* isa_name(Isa isa);

void sgemm(int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t rsa, int64_t csa, const float* b,
           int64_t rsb, int64_t csb, float beta, float* c, int64_t ldc, int threads);

// sgemm with alpha 1 and B [k, n] already in column panels of sgemm_panel() columns (the
// layout its micro-kernel reads): element (p, j) at b[(j / P * k + p) * P + j % P] for panel
// width P; the last panel is read whole (its columns past n only reach discarded results).
// Lets a caller build B in place of a copy (Conv's im2col) and skip the packing.
int sgemm_panel();
void sgemm_packed(int64_t m, int64_t n, int64_t k, const float* a, int64_t rsa, int64_t csa, const float* b,
                  float beta, float* c, int64_t ldc, int threads);

// Products with at least this many multiply-adds use more than one thread.
constexpr int64_t kParallelWork = int64_t{1} << 20;

// The threads to use for `work` multiply-adds: 1 below kParallelWork or inside a parallel region.
int threads_for(int64_t work, int threads);

}  // namespace torchless::engine
