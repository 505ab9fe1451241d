// The fp32 GEMM (sgemm.h). Goto-style blocking: for each NC-wide block of columns and KC-deep
// slice of k, B is packed into NR-wide panels; for each MC-tall block of rows A (times alpha)
// is packed into MR-tall panels; the micro-kernel multiplies one A panel by one B panel into
// an MR x NR tile of C held in registers (whole strips of A are read in place instead when its
// rows are contiguous). The micro-kernels are one template over GCC vector
// types, instantiated inside functions compiled for each ISA (the template is always_inline,
// so its body takes the caller's target). A single row of A (m == 1) takes a GEMV path that
// does not pack B. Threads split C into column (or row) ranges that run the serial code.
#include "engine/ops/sgemm.h"

#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

namespace torchless::engine {

namespace {

typedef float v4 __attribute__((vector_size(16)));
typedef float v8 __attribute__((vector_size(32)));
typedef float v16 __attribute__((vector_size(64)));

// acc[MR][NV] (NR = NV vectors of V per row) += a (kc x MR) * the packed panel b (kc x NR);
// then the tile c (row stride ldc) = acc, or += acc when `load`. a is a packed panel (element
// (p, i) at p * MR + i) when Packed, else MR rows of A, row i at a + i * lda (rows that are
// contiguous along k need no packing: the MR streams are read in step).
template <class V, int MR, int NV, bool Packed>
[[gnu::always_inline]] inline void micro(int64_t kc, const float* __restrict a, int64_t lda, const float* __restrict b,
                                         float* __restrict c, int64_t ldc, bool load) {
  constexpr int W = sizeof(V) / sizeof(float), NR = W * NV;
  V acc[MR][NV];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) acc[i][j] = V{};
  for (int64_t p = 0; p < kc; ++p, b += NR) {
    V bv[NV];
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) std::memcpy(&bv[j], b + j * W, sizeof(V));
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const float s = Packed ? a[p * MR + i] : a[i * lda + p];
#pragma GCC unroll 4
      for (int j = 0; j < NV; ++j) acc[i][j] += s * bv[j];
    }
  }
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) {
      float* cp = c + i * ldc + j * W;
      V v = acc[i][j];
      if (load) {
        V old;
        std::memcpy(&old, cp, sizeof(V));
        v += old;
      }
      std::memcpy(cp, &v, sizeof(V));
    }
}

// y[0, n) += sum over p of a[p] * b[p * rsb + j] (rows of B contiguous).
[[gnu::always_inline]] inline void gemv_rows(int64_t n, int64_t k, const float* __restrict a, const float* __restrict b,
                                             int64_t rsb, float* __restrict y) {
  int64_t p = 0;
  for (; p + 4 <= k; p += 4) {
    const float s0 = a[p], s1 = a[p + 1], s2 = a[p + 2], s3 = a[p + 3];
    const float *b0 = b + p * rsb, *b1 = b0 + rsb, *b2 = b1 + rsb, *b3 = b2 + rsb;
    for (int64_t j = 0; j < n; ++j) y[j] += s0 * b0[j] + s1 * b1[j] + s2 * b2[j] + s3 * b3[j];
  }
  for (; p < k; ++p) {
    const float s = a[p];
    const float* bp = b + p * rsb;
    for (int64_t j = 0; j < n; ++j) y[j] += s * bp[j];
  }
}

// y[j] = alpha * dot(a, b + j * csb) + (load ? y[j] : 0) (columns of B contiguous).
template <class V>
[[gnu::always_inline]] inline void gemv_dot(int64_t n, int64_t k, float alpha, const float* __restrict a,
                                            const float* __restrict b, int64_t csb, float* __restrict y, bool load) {
  constexpr int W = sizeof(V) / sizeof(float);
  auto hsum = [](const V& v) {
    float s = 0;
    for (int l = 0; l < W; ++l) s += v[l];
    return s;
  };
  int64_t j = 0;
  for (; j + 4 <= n; j += 4) {
    const float* b0 = b + j * csb;
    const float *b1 = b0 + csb, *b2 = b1 + csb, *b3 = b2 + csb;
    V acc0{}, acc1{}, acc2{}, acc3{};
    int64_t p = 0;
    for (; p + W <= k; p += W) {
      V va, x0, x1, x2, x3;
      std::memcpy(&va, a + p, sizeof(V));
      std::memcpy(&x0, b0 + p, sizeof(V));
      std::memcpy(&x1, b1 + p, sizeof(V));
      std::memcpy(&x2, b2 + p, sizeof(V));
      std::memcpy(&x3, b3 + p, sizeof(V));
      acc0 += va * x0;
      acc1 += va * x1;
      acc2 += va * x2;
      acc3 += va * x3;
    }
    float s0 = hsum(acc0), s1 = hsum(acc1), s2 = hsum(acc2), s3 = hsum(acc3);
    for (; p < k; ++p) {
      s0 += a[p] * b0[p];
      s1 += a[p] * b1[p];
      s2 += a[p] * b2[p];
      s3 += a[p] * b3[p];
    }
    const float s[4] = {s0, s1, s2, s3};
    for (int t = 0; t < 4; ++t) y[j + t] = alpha * s[t] + (load ? y[j + t] : 0.0f);
  }
  for (; j < n; ++j) {
    const float* bj = b + j * csb;
    V acc{};
    int64_t p = 0;
    for (; p + W <= k; p += W) {
      V va, x;
      std::memcpy(&va, a + p, sizeof(V));
      std::memcpy(&x, bj + p, sizeof(V));
      acc += va * x;
    }
    float s = hsum(acc);
    for (; p < k; ++p) s += a[p] * bj[p];
    y[j] = alpha * s + (load ? y[j] : 0.0f);
  }
}

using MicroFn = void (*)(int64_t, const float*, int64_t, const float*, float*, int64_t, bool);
using RowsFn = void (*)(int64_t, int64_t, const float*, const float*, int64_t, float*);
using DotFn = void (*)(int64_t, int64_t, float, const float*, const float*, int64_t, float*, bool);

#define TL_ISA_FUNCS(suffix, target, V, MR, NV)                                                                      \
  target void packed_##suffix(int64_t kc, const float* a, int64_t lda, const float* b, float* c, int64_t ldc,        \
                              bool load) {                                                                           \
    micro<V, MR, NV, true>(kc, a, lda, b, c, ldc, load);                                                             \
  }                                                                                                                  \
  target void rowwise_##suffix(int64_t kc, const float* a, int64_t lda, const float* b, float* c, int64_t ldc,       \
                               bool load) {                                                                          \
    micro<V, MR, NV, false>(kc, a, lda, b, c, ldc, load);                                                            \
  }                                                                                                                  \
  target void rows_##suffix(int64_t n, int64_t k, const float* a, const float* b, int64_t rsb, float* y) {           \
    gemv_rows(n, k, a, b, rsb, y);                                                                                   \
  }                                                                                                                  \
  target void dot_##suffix(int64_t n, int64_t k, float alpha, const float* a, const float* b, int64_t csb, float* y, \
                           bool load) {                                                                              \
    gemv_dot<V>(n, k, alpha, a, b, csb, y, load);                                                                    \
  }

TL_ISA_FUNCS(avx512, __attribute__((target("avx512f,avx2,fma"))), v16, 8, 2)
TL_ISA_FUNCS(avx2, __attribute__((target("avx2,fma"))), v8, 6, 2)
TL_ISA_FUNCS(default, , v4, 4, 2)
#undef TL_ISA_FUNCS

struct Impl {
  int mr, nr;
  MicroFn packed, rowwise;
  RowsFn rows;
  DotFn dot;
};

const Impl& impl() {
  static const Impl kImpls[] = {{4, 8, packed_default, rowwise_default, rows_default, dot_default},
                                {6, 16, packed_avx2, rowwise_avx2, rows_avx2, dot_avx2},
                                {8, 32, packed_avx512, rowwise_avx512, rows_avx512, dot_avx512}};
  static const Impl& chosen = kImpls[static_cast<int>(active_isa())];
  return chosen;
}

constexpr int64_t kKC = 256, kNC = 2048;

// Rows [0, mc) and k-slice [0, kc) of A (already offset), times alpha, into MR-row panels
// (element (p, i) of panel q at q * MR * kc + p * MR + i), zero past mc.
void pack_a(int64_t mc, int64_t kc, const float* a, int64_t rsa, int64_t csa, float alpha, int mr, float* out) {
  for (int64_t i0 = 0; i0 < mc; i0 += mr) {
    const int64_t rows = std::min<int64_t>(mr, mc - i0);
    for (int64_t p = 0; p < kc; ++p) {
      const float* src = a + i0 * rsa + p * csa;
      int64_t i = 0;
      for (; i < rows; ++i) out[i] = alpha * src[i * rsa];
      for (; i < mr; ++i) out[i] = 0;
      out += mr;
    }
  }
}

// k-slice [0, kc) and columns [0, nc) of B (already offset) into NR-column panels, zero past nc.
void pack_b(int64_t kc, int64_t nc, const float* b, int64_t rsb, int64_t csb, int nr, float* out) {
  for (int64_t j0 = 0; j0 < nc; j0 += nr) {
    const int64_t cols = std::min<int64_t>(nr, nc - j0);
    for (int64_t p = 0; p < kc; ++p) {
      const float* src = b + p * rsb + j0 * csb;
      if (csb == 1) {
        std::memcpy(out, src, cols * sizeof(float));
      } else {
        for (int64_t j = 0; j < cols; ++j) out[j] = src[j * csb];
      }
      for (int64_t j = cols; j < nr; ++j) out[j] = 0;
      out += nr;
    }
  }
}

// C[m, n] = alpha * A * B + (load ? C : 0) on the calling thread. B is read through its
// strides, or is already in panels (`panels`: the layout of sgemm_packed, rsb/csb unused).
void gemm_serial(const Impl& im, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t rsa, int64_t csa,
                 const float* b, int64_t rsb, int64_t csb, bool panels, bool load, float* c, int64_t ldc) {
  const int mr = im.mr, nr = im.nr;
  const int64_t mc_max = int64_t{mr} * 16;
  const bool rowwise = csa == 1 && alpha == 1.0f;
  thread_local std::vector<float> abuf, bbuf;
  const int64_t kc_max = std::min(k, kKC);
  const int64_t nc_max = std::min((n + nr - 1) / nr * nr, kNC);
  abuf.resize(static_cast<size_t>(std::min((m + mr - 1) / mr * mr, mc_max) * kc_max));
  if (!panels) bbuf.resize(static_cast<size_t>(nc_max * kc_max));
  alignas(64) float tile[8 * 32];
  for (int64_t jc = 0; jc < n; jc += kNC) {
    const int64_t nc = std::min(kNC, n - jc);
    for (int64_t pc = 0; pc < k; pc += kKC) {
      const int64_t kc = std::min(kKC, k - pc);
      const bool ld = load || pc > 0;
      if (!panels) pack_b(kc, nc, b + pc * rsb + jc * csb, rsb, csb, nr, bbuf.data());
      for (int64_t ic = 0; ic < m; ic += mc_max) {
        const int64_t mc = std::min(mc_max, m - ic);
        const float* ablock = a + ic * rsa + pc * csa;
        // Whole strips of A are read in place when its rows are contiguous and alpha is 1; the
        // rest is packed.
        const int64_t in_place = rowwise ? mc / mr * mr : 0;
        if (in_place < mc) pack_a(mc - in_place, kc, ablock + in_place * rsa, rsa, csa, alpha, mr, abuf.data());
        for (int64_t jr = 0; jr < nc; jr += nr) {
          const int64_t cols = std::min<int64_t>(nr, nc - jr);
          const float* bp = panels ? b + ((jc + jr) * k + pc * nr) : bbuf.data() + jr * kc;
          for (int64_t ir = 0; ir < mc; ir += mr) {
            const int64_t rows = std::min<int64_t>(mr, mc - ir);
            const MicroFn fn = ir < in_place ? im.rowwise : im.packed;
            const float* ap = ir < in_place ? ablock + ir * rsa : abuf.data() + (ir - in_place) * kc;
            float* cp = c + (ic + ir) * ldc + jc + jr;
            if (rows == mr && cols == nr) {
              fn(kc, ap, rsa, bp, cp, ldc, ld);
            } else {
              fn(kc, ap, rsa, bp, tile, nr, false);
              for (int64_t i = 0; i < rows; ++i)
                for (int64_t j = 0; j < cols; ++j) cp[i * ldc + j] = tile[i * nr + j] + (ld ? cp[i * ldc + j] : 0.0f);
            }
          }
        }
      }
    }
  }
}

// One row of A (csa == 1): columns [0, n) of y.
void gemv_serial(const Impl& im, int64_t n, int64_t k, float alpha, const float* a, const float* b, int64_t rsb,
                 int64_t csb, bool load, float* y) {
  if (rsb == 1 && csb != 1) {
    im.dot(n, k, alpha, a, b, csb, y, load);
    return;
  }
  thread_local std::vector<float> as;
  as.resize(static_cast<size_t>(k));
  for (int64_t p = 0; p < k; ++p) as[p] = alpha * a[p];
  if (!load) std::fill(y, y + n, 0.0f);
  im.rows(n, k, as.data(), b, rsb, y);
}

// C *= beta (C = 0 for beta 0 when k is 0); false when that is the whole product.
bool scale_c(int64_t m, int64_t n, int64_t k, float beta, float* c, int64_t ldc) {
  if (m <= 0 || n <= 0) return false;
  if (beta != 0 && beta != 1)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) c[i * ldc + j] *= beta;
  if (k > 0) return true;
  if (beta == 0)
    for (int64_t i = 0; i < m; ++i) std::fill(c + i * ldc, c + i * ldc + n, 0.0f);
  return false;
}

// gemm_serial on t threads: the larger side of C split into t ranges of whole panels.
void gemm_split(const Impl& im, int t, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t rsa,
                int64_t csa, const float* b, int64_t rsb, int64_t csb, bool panels, bool load, float* c, int64_t ldc) {
  if (t == 1) {
    gemm_serial(im, m, n, k, alpha, a, rsa, csa, b, rsb, csb, panels, load, c, ldc);
    return;
  }
  const bool by_cols = (n + im.nr - 1) / im.nr >= (m + im.mr - 1) / im.mr;
  const int64_t len = by_cols ? n : m, unit = by_cols ? im.nr : im.mr;
  const int64_t per = ((len + unit - 1) / unit + t - 1) / t * unit;
#pragma omp parallel for num_threads(t) schedule(static, 1)
  for (int part = 0; part < t; ++part) {
    const int64_t s0 = part * per, s1 = std::min(len, s0 + per);
    if (s0 >= s1) continue;
    if (by_cols)
      gemm_serial(im, m, s1 - s0, k, alpha, a, rsa, csa, panels ? b + s0 * k : b + s0 * csb, rsb, csb, panels, load,
                  c + s0, ldc);
    else
      gemm_serial(im, s1 - s0, n, k, alpha, a + s0 * rsa, rsa, csa, b, rsb, csb, panels, load, c + s0 * ldc, ldc);
  }
}

}  // namespace

Isa active_isa() {
  static const Isa isa = [] {
    __builtin_cpu_init();
    Isa best = Isa::kDefault;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
      best = Isa::kAvx2;
      if (__builtin_cpu_supports("avx512f")) best = Isa::kAvx512;
    }
    if (const char* e = std::getenv("TORCHLESS_MAX_ISA")) {
      const std::string_view cap(e);
      if (cap == "avx2")
        best = std::min(best, Isa::kAvx2);
      else if (cap == "default" || cap == "sse2" || cap == "none")
        best = Isa::kDefault;
    }
    return best;
  }();
  return isa;
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kAvx512:
      return "avx512";
    case Isa::kAvx2:
      return "avx2";
    default:
      return "default";
  }
}

int threads_for(int64_t work, int threads) {
  if (threads <= 1 || work < kParallelWork || omp_in_parallel()) return 1;
  return static_cast<int>(std::min<int64_t>(threads, work / kParallelWork));
}

void sgemm(int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t rsa, int64_t csa, const float* b,
           int64_t rsb, int64_t csb, float beta, float* c, int64_t ldc, int threads) {
  if (!scale_c(m, n, k, beta, c, ldc)) return;
  const bool load = beta != 0;
  const Impl& im = impl();
  const int t = threads_for(m * n * k, threads);
  if (m == 1 && csa == 1 && (csb == 1 || rsb == 1)) {
    if (t == 1) {
      gemv_serial(im, n, k, alpha, a, b, rsb, csb, load, c);
      return;
    }
    const int64_t per = (n + t - 1) / t;
#pragma omp parallel for num_threads(t) schedule(static, 1)
    for (int part = 0; part < t; ++part) {
      const int64_t j0 = part * per, j1 = std::min(n, j0 + per);
      if (j0 < j1) gemv_serial(im, j1 - j0, k, alpha, a, b + j0 * csb, rsb, csb, load, c + j0);
    }
    return;
  }
  gemm_split(im, t, m, n, k, alpha, a, rsa, csa, b, rsb, csb, false, load, c, ldc);
}

int sgemm_panel() { return impl().nr; }

void sgemm_packed(int64_t m, int64_t n, int64_t k, const float* a, int64_t rsa, int64_t csa, const float* b,
                  float beta, float* c, int64_t ldc, int threads) {
  if (!scale_c(m, n, k, beta, c, ldc)) return;
  gemm_split(impl(), threads_for(m * n * k, threads), m, n, k, 1.0f, a, rsa, csa, b, 0, 0, true, beta != 0, c, ldc);
}

}  // namespace torchless::engine
