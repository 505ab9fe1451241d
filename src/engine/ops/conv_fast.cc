// Conv, optimised for float32 1-D and 2-D convolutions (any group, strides, dilations, pads).
// Groups with one input channel per output channel (depthwise, or a single-channel input)
// run a direct loop per output plane; the rest multiply each group's weights [M/group, K] by
// the im2col matrix [K, output rows x out cols] of its input (K = C/group * kernel taps) with
// sgemm. The output rows of all images form one sequence that is cut into chunks of about
// 8 MiB of im2col matrix, so a batch makes few wide products (the weights are streamed once
// per chunk, not once per image). A chunk inside one image is written straight into Y (the
// bias there first); a chunk spanning images goes through a scratch [M/group, columns] that
// is scattered to Y with the bias. 1x1 kernels with unit strides and no pads read X itself
// when the chunk is one image. Declines other types and ranks (the reference kernel runs).
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

// Rows [q0, q0 + rows) of the output row sequence (row q = image q / oh, output row q % oh)
// as an im2col matrix of cg input planes: matrix row (c * kh + ky) * kw + kx, column
// (q - q0) * ow + ox holds x[q / oh][c, oy*sh - ph + ky*dh, ox*sw - pw + kx*dw] (0 in the
// padding). x points at the group's first plane of image 0, images `image` floats apart;
// `ld` is the matrix row length.
void im2col(const Geo& g, int64_t cg, const float* x, int64_t image, int64_t q0, int64_t rows, float* col, int64_t ld,
            int threads) {
  const int64_t nrows = cg * g.kh * g.kw;
  const int t = threads_for(nrows * ld / 8, threads);
#pragma omp parallel for num_threads(t) schedule(static) if (t > 1)
  for (int64_t r = 0; r < nrows; ++r) {
    const int64_t c = r / (g.kh * g.kw), ky = r / g.kw % g.kh, kx = r % g.kw;
    const int64_t off = kx * g.dw - g.pw;
    int64_t lo, hi;
    col_range(g, off, lo, hi);
    for (int64_t q = q0; q < q0 + rows; ++q) {
      const int64_t oy = q % g.oh;
      float* dst = col + r * ld + (q - q0) * g.ow;
      const int64_t iy = oy * g.sh - g.ph + ky * g.dh;
      if (iy < 0 || iy >= g.ih) {
        std::fill(dst, dst + g.ow, 0.0f);
        continue;
      }
      const float* src = x + q / g.oh * image + (c * g.ih + iy) * g.iw;
      std::fill(dst, dst + lo, 0.0f);
      if (g.sw == 1)
        std::copy(src + lo + off, src + hi + off, dst + lo);
      else
        for (int64_t ox = lo; ox < hi; ++ox) dst[ox] = src[ox * g.sw + off];
      std::fill(dst + hi, dst + g.ow, 0.0f);
    }
  }
}

// A float buffer of n elements charged to the run: the calling thread's own one up to
// kKeep elements (kept across calls), a fresh allocation above.
float* scratch(Kernel& k, std::vector<float>& keep, Tensor& fresh, int64_t n) {
  constexpr int64_t kKeep = int64_t{1} << 21;
  if (n > kKeep) {
    fresh = k.alloc_uninit(DType::kFloat32, {n});
    return mut<float>(fresh);
  }
  k.charge(static_cast<uint64_t>(n) * sizeof(float));
  if (static_cast<int64_t>(keep.size()) < n) keep.resize(static_cast<size_t>(n));
  return keep.data();
}

}  // namespace

bool conv_fast(Kernel& k) {
  const Tensor& x = k.in(0);
  const Tensor& w = k.in(1);
  if (x.dtype() != DType::kFloat32 || w.dtype() != DType::kFloat32 || (x.ndim() != 3 && x.ndim() != 4)) return false;
  const ConvShape s = conv_shape(k.node, x, w);
  const bool has_bias = k.has_input(2);
  if (has_bias && (k.in(2).dtype() != DType::kFloat32 || k.in(2).numel() != s.m)) return false;
  float* y = mut<float>(k.out_uninit(0, DType::kFloat32, s.out_shape()));  // every element written below
  if (numel(s.out_shape()) == 0) return true;
  const Geo g = geo_of(s.w);
  const int64_t cg = s.c / s.group, mg = s.m / s.group, ks = g.kh * g.kw, in_plane = g.ih * g.iw,
                out_plane = g.oh * g.ow;
  const float* px = data<float>(x);
  const float* pw = data<float>(w);
  const float* pb = has_bias ? data<float>(k.in(2)) : nullptr;

  if (cg == 1) {  // one input plane per output plane
    const PlaneFn plane = plane_fn();
    const int64_t planes = s.n * s.m;
    const int t = threads_for(planes * out_plane * ks, k.threads());
#pragma omp parallel for num_threads(t) schedule(static) if (t > 1)
    for (int64_t i = 0; i < planes; ++i) {
      const int64_t n = i / s.m, m = i % s.m;
      float* yp = y + i * out_plane;
      std::fill_n(yp, out_plane, pb ? pb[m] : 0.0f);
      plane(g, px + (n * s.c + m / mg) * in_plane, pw + m * ks, yp);
    }
    return true;
  }

  const int64_t kdim = cg * ks, total_rows = s.n * g.oh;
  const bool one_by_one = ks == 1 && g.sh == 1 && g.sw == 1 && g.ph == 0 && g.pw == 0 && out_plane == in_plane;
  // Chunks of output rows: about 8 MiB of im2col matrix (or of scratch output), at least one
  // row; a single 1x1 image needs no matrix and is one chunk.
  constexpr int64_t kChunk = int64_t{1} << 21;
  const int64_t chunk_rows =
      s.n == 1 && one_by_one
          ? g.oh
          : std::clamp<int64_t>(kChunk / std::max<int64_t>(std::max(kdim, mg) * g.ow, 1), 1, total_rows);
  thread_local std::vector<float> col_keep, out_keep;
  Tensor col_fresh, out_fresh;
  float* pcol = s.n == 1 && one_by_one ? nullptr : scratch(k, col_keep, col_fresh, kdim * chunk_rows * g.ow);
  float* ptmp = s.n == 1 ? nullptr : scratch(k, out_keep, out_fresh, mg * chunk_rows * g.ow);
  for (int64_t q0 = 0; q0 < total_rows; q0 += chunk_rows) {
    const int64_t rows = std::min(chunk_rows, total_rows - q0), cols = rows * g.ow;
    const int64_t n0 = q0 / g.oh, n1 = (q0 + rows - 1) / g.oh, oy0 = q0 - n0 * g.oh;
    for (int64_t gi = 0; gi < s.group; ++gi) {
      const float* wg = pw + gi * mg * kdim;
      const float* bg = pb ? pb + gi * mg : nullptr;
      const float* b = pcol;
      int64_t ldb = cols;
      if (n0 == n1 && one_by_one) {
        b = px + (n0 * s.c + gi * cg) * in_plane + oy0 * g.ow;
        ldb = in_plane;
      } else {
        im2col(g, cg, px + gi * cg * in_plane, s.c * in_plane, q0, rows, pcol, cols, k.threads());
      }
      if (n0 == n1) {  // straight into Y
        float* yc = y + (n0 * s.m + gi * mg) * out_plane + oy0 * g.ow;
        if (bg)
          for (int64_t m = 0; m < mg; ++m) std::fill_n(yc + m * out_plane, cols, bg[m]);
        sgemm(mg, cols, kdim, 1.0f, wg, kdim, 1, b, ldb, 1, bg ? 1.0f : 0.0f, yc, out_plane, k.threads());
        continue;
      }
      sgemm(mg, cols, kdim, 1.0f, wg, kdim, 1, b, ldb, 1, 0.0f, ptmp, cols, k.threads());
      const int t = threads_for(mg * cols * 16, k.threads());
#pragma omp parallel for num_threads(t) schedule(static) if (t > 1)
      for (int64_t m = 0; m < mg; ++m) {
        const float bias = bg ? bg[m] : 0.0f;
        for (int64_t n = n0; n <= n1; ++n) {
          const int64_t qa = std::max(q0, n * g.oh), qb = std::min(q0 + rows, (n + 1) * g.oh);
          const float* src = ptmp + m * cols + (qa - q0) * g.ow;
          float* dst = y + (n * s.m + gi * mg + m) * out_plane + (qa - n * g.oh) * g.ow;
          for (int64_t j = 0; j < (qb - qa) * g.ow; ++j) dst[j] = src[j] + bias;
        }
      }
    }
  }
  return true;
}

}  // namespace torchless::engine
