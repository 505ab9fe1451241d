// Conv, optimised for float32 1-D and 2-D convolutions (any group, strides, dilations, pads).
// Groups with one input channel per output channel (depthwise, or a single-channel input)
// run a direct loop per output plane; the rest multiply each group's weights [M/group, K] by
// the im2col matrix [K, out rows x out cols] of its input (K = C/group * kernel taps) with
// sgemm, the bias written into Y first. 1x1 kernels with unit strides and no pads read X
// itself. Declines other types and ranks (the reference kernel runs).
#include <algorithm>
#include <vector>

#include "engine/ops/conv.h"
#include "engine/ops/sgemm.h"

namespace torchless::engine {

namespace {

// 2-D geometry (a 1-D convolution is one row high).
struct Geo {
  int64_t ih, iw, kh, kw, sh, sw, dh, dw, ph, pw, oh, ow;
};

Geo geo_of(const Window& w) {
  if (w.rank() == 1)
    return {1, w.in[0], 1, w.kernel[0], 1, w.strides[0], 1, w.dilations[0], 0, w.pads_begin[0], 1, w.out[0]};
  return {w.in[0],        w.in[1],        w.kernel[0],     w.kernel[1],     w.strides[0], w.strides[1],
          w.dilations[0], w.dilations[1], w.pads_begin[0], w.pads_begin[1], w.out[0],     w.out[1]};
}

// Output columns [lo, hi) whose input column ox * sw + off lies in [0, iw).
void col_range(const Geo& g, int64_t off, int64_t& lo, int64_t& hi) {
  lo = off < 0 ? (-off + g.sw - 1) / g.sw : 0;
  const int64_t top = g.iw - 1 - off;  // ox * sw <= top
  hi = top < 0 ? 0 : std::min(g.ow, top / g.sw + 1);
  lo = std::min(lo, hi);
}

// One output plane y [oh, ow] (already holding the bias) += the kernel wk [kh, kw] slid over
// one input plane x [ih, iw].
[[gnu::always_inline]] inline void direct_plane(const Geo& g, const float* __restrict x, const float* __restrict wk,
                                                float* __restrict y) {
  for (int64_t oy = 0; oy < g.oh; ++oy) {
    float* __restrict yr = y + oy * g.ow;
    for (int64_t ky = 0; ky < g.kh; ++ky) {
      const int64_t iy = oy * g.sh - g.ph + ky * g.dh;
      if (iy < 0 || iy >= g.ih) continue;
      const float* xr = x + iy * g.iw;
      for (int64_t kx = 0; kx < g.kw; ++kx) {
        const int64_t off = kx * g.dw - g.pw;
        int64_t lo, hi;
        col_range(g, off, lo, hi);
        const float wv = wk[ky * g.kw + kx];
        if (g.sw == 1) {
          for (int64_t ox = lo; ox < hi; ++ox) yr[ox] += wv * xr[ox + off];
        } else {
          for (int64_t ox = lo; ox < hi; ++ox) yr[ox] += wv * xr[ox * g.sw + off];
        }
      }
    }
  }
}

__attribute__((target("avx512f,avx2,fma"))) void direct_plane_avx512(const Geo& g, const float* x, const float* wk,
                                                                     float* y) {
  direct_plane(g, x, wk, y);
}
__attribute__((target("avx2,fma"))) void direct_plane_avx2(const Geo& g, const float* x, const float* wk, float* y) {
  direct_plane(g, x, wk, y);
}
void direct_plane_default(const Geo& g, const float* x, const float* wk, float* y) { direct_plane(g, x, wk, y); }

using PlaneFn = void (*)(const Geo&, const float*, const float*, float*);

PlaneFn plane_fn() {
  switch (active_isa()) {
    case Isa::kAvx512:
      return direct_plane_avx512;
    case Isa::kAvx2:
      return direct_plane_avx2;
    default:
      return direct_plane_default;
  }
}

// Output rows [oy0, oy0 + rows) of the im2col matrix of cg input planes x: row
// (c * kh + ky) * kw + kx, column (oy - oy0) * ow + ox holds x[c, oy*sh - ph + ky*dh, ox*sw - pw + kx*dw]
// (0 in the padding); `ld` is the row length.
void im2col(const Geo& g, int64_t cg, const float* x, int64_t oy0, int64_t rows, float* col, int64_t ld, int threads) {
  const int64_t nrows = cg * g.kh * g.kw;
  const int t = threads_for(nrows * ld / 8, threads);
#pragma omp parallel for num_threads(t) schedule(static) if (t > 1)
  for (int64_t r = 0; r < nrows; ++r) {
    const int64_t c = r / (g.kh * g.kw), ky = r / g.kw % g.kh, kx = r % g.kw;
    const float* xc = x + c * g.ih * g.iw;
    const int64_t off = kx * g.dw - g.pw;
    int64_t lo, hi;
    col_range(g, off, lo, hi);
    for (int64_t oy = oy0; oy < oy0 + rows; ++oy) {
      float* dst = col + r * ld + (oy - oy0) * g.ow;
      const int64_t iy = oy * g.sh - g.ph + ky * g.dh;
      if (iy < 0 || iy >= g.ih) {
        std::fill(dst, dst + g.ow, 0.0f);
        continue;
      }
      const float* src = xc + iy * g.iw;
      std::fill(dst, dst + lo, 0.0f);
      if (g.sw == 1)
        std::copy(src + lo + off, src + hi + off, dst + lo);
      else
        for (int64_t ox = lo; ox < hi; ++ox) dst[ox] = src[ox * g.sw + off];
      std::fill(dst + hi, dst + g.ow, 0.0f);
    }
  }
}

}  // namespace

bool conv_fast(Kernel& k) {
  const Tensor& x = k.in(0);
  const Tensor& w = k.in(1);
  if (x.dtype() != DType::kFloat32 || w.dtype() != DType::kFloat32 || (x.ndim() != 3 && x.ndim() != 4)) return false;
  const ConvShape s = conv_shape(k.node, x, w);
  const bool has_bias = k.has_input(2);
  if (has_bias && (k.in(2).dtype() != DType::kFloat32 || k.in(2).numel() != s.m)) return false;
  float* y = mut<float>(k.out(0, DType::kFloat32, s.out_shape()));
  if (numel(s.out_shape()) == 0) return true;
  const Geo g = geo_of(s.w);
  const int64_t cg = s.c / s.group, mg = s.m / s.group, ks = g.kh * g.kw, in_plane = g.ih * g.iw,
                out_plane = g.oh * g.ow;
  const float* px = data<float>(x);
  const float* pw = data<float>(w);
  const float* pb = has_bias ? data<float>(k.in(2)) : nullptr;
  if (pb)
    for (int64_t n = 0; n < s.n; ++n)
      for (int64_t m = 0; m < s.m; ++m) std::fill_n(y + (n * s.m + m) * out_plane, out_plane, pb[m]);

  if (cg == 1) {  // one input plane per output plane
    const PlaneFn plane = plane_fn();
    const int64_t planes = s.n * s.m;
    const int t = threads_for(planes * out_plane * ks, k.threads());
#pragma omp parallel for num_threads(t) schedule(static) if (t > 1)
    for (int64_t i = 0; i < planes; ++i) {
      const int64_t n = i / s.m, m = i % s.m;
      plane(g, px + (n * s.c + m / mg) * in_plane, pw + m * ks, y + i * out_plane);
    }
    return true;
  }

  const int64_t kdim = cg * ks;
  const bool direct = ks == 1 && g.sh == 1 && g.sw == 1 && g.ph == 0 && g.pw == 0 && out_plane == in_plane;
  // im2col in chunks of output rows, about 4 MiB (or one row) at a time, in a buffer each
  // thread keeps (charged to the run's budget; a larger one-row chunk is allocated per call).
  constexpr int64_t kChunk = int64_t{1} << 20;
  const int64_t chunk_rows = std::clamp<int64_t>(kChunk / std::max<int64_t>(kdim * g.ow, 1), 1, g.oh);
  thread_local std::vector<float> col_buf;
  Tensor big;
  float* pcol = nullptr;
  if (!direct) {
    const int64_t need = kdim * chunk_rows * g.ow;
    if (need > kChunk) {
      big = k.alloc(DType::kFloat32, {need});
      pcol = mut<float>(big);
    } else {
      k.charge(static_cast<uint64_t>(need) * sizeof(float));
      if (static_cast<int64_t>(col_buf.size()) < need) col_buf.resize(static_cast<size_t>(need));
      pcol = col_buf.data();
    }
  }
  const float beta = pb ? 1.0f : 0.0f;
  for (int64_t n = 0; n < s.n; ++n)
    for (int64_t gi = 0; gi < s.group; ++gi) {
      const float* xg = px + (n * s.c + gi * cg) * in_plane;
      const float* wg = pw + gi * mg * kdim;
      float* yg = y + (n * s.m + gi * mg) * out_plane;
      if (direct) {
        sgemm(mg, out_plane, kdim, 1.0f, wg, kdim, 1, xg, in_plane, 1, beta, yg, out_plane, k.threads());
        continue;
      }
      for (int64_t oy0 = 0; oy0 < g.oh; oy0 += chunk_rows) {
        const int64_t rows = std::min(chunk_rows, g.oh - oy0), cols = rows * g.ow;
        im2col(g, cg, xg, oy0, rows, pcol, cols, k.threads());
        sgemm(mg, cols, kdim, 1.0f, wg, kdim, 1, pcol, cols, 1, beta, yg + oy0 * g.ow, out_plane, k.threads());
      }
    }
  return true;
}

}  // namespace torchless::engine
