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
// as the im2col matrix [K, rows * ow] of cg input planes, in the column panels sgemm_packed
// reads (width P): matrix row r = (c * kh + ky) * kw + kx, column j = (q - q0) * ow + ox holds
// x[q / oh][c, oy*sh - ph + ky*dh, ox*sw - pw + kx*dw] (0 in the padding) at
// col[(j / P * K + r) * P + j % P]; the last panel's columns past the end are 0. x points at
// the group's first plane of image 0, images `image` floats apart.
void im2col(const Geo& g, int64_t cg, const float* x, int64_t image, int64_t q0, int64_t rows, float* col, int64_t P,
            int threads) {
  const int64_t nrows = cg * g.kh * g.kw, cols = rows * g.ow, panels = (cols + P - 1) / P;
  // Input columns [lo, hi) of each kernel column that fall inside the input row.
  std::vector<int64_t> lo(g.kw), hi(g.kw);
  for (int64_t kx = 0; kx < g.kw; ++kx) col_range(g, kx * g.dw - g.pw, lo[kx], hi[kx]);
  const int t = threads_for(nrows * cols / 8, threads);
  // Panel by panel, so the matrix is written in order; a panel's columns are runs of output
  // rows (segments).
#pragma omp parallel for num_threads(t) schedule(static) if (t > 1)
  for (int64_t q = 0; q < panels; ++q) {
    struct Segment {
      const float* x;  // the image's group planes
      int64_t oy, ox0, len, lane;
    };
    Segment segs[32];  // a panel has at most P <= 32 columns
    int nseg = 0;
    const int64_t j0 = q * P, j1 = std::min(cols, j0 + P);
    for (int64_t j = j0; j < j1;) {
      const int64_t row = q0 + j / g.ow, ox0 = j % g.ow, len = std::min(g.ow - ox0, j1 - j);
      segs[nseg++] = {x + row / g.oh * image, row % g.oh, ox0, len, j - j0};
      j += len;
    }
    float* dst = col + q * nrows * P;
    for (int64_t c = 0; c < cg; ++c)
      for (int64_t ky = 0; ky < g.kh; ++ky)
        for (int64_t kx = 0; kx < g.kw; ++kx, dst += P) {
          const int64_t off = kx * g.dw - g.pw;
          for (int i = 0; i < nseg; ++i) {
            const Segment& sg = segs[i];
            float* d = dst + sg.lane - sg.ox0;  // d[ox] is output column ox of the segment
            const int64_t end = sg.ox0 + sg.len, iy = sg.oy * g.sh - g.ph + ky * g.dh;
            if (iy < 0 || iy >= g.ih) {
              std::fill(d + sg.ox0, d + end, 0.0f);
              continue;
            }
            const int64_t a = std::clamp(lo[kx], sg.ox0, end), b = std::clamp(hi[kx], a, end);
            const float* src = sg.x + (c * g.ih + iy) * g.iw + off;
            std::fill(d + sg.ox0, d + a, 0.0f);
            if (g.sw == 1)
              for (int64_t ox = a; ox < b; ++ox) d[ox] = src[ox];
            else
              for (int64_t ox = a; ox < b; ++ox) d[ox] = src[ox * g.sw];
            std::fill(d + b, d + end, 0.0f);
          }
          std::fill(dst + (j1 - j0), dst + P, 0.0f);
        }
  }
}

// The im2col matrix of one chunk of output rows holds about this many floats (8 MiB).
constexpr int64_t kChunk = int64_t{1} << 21;

// A float buffer of n elements charged to the run: the calling thread's own one when n is
// about a chunk (kept across calls), a fresh allocation when larger.
float* scratch(Kernel& k, std::vector<float>& keep, Tensor& fresh, int64_t n) {
  if (n > 2 * kChunk) {
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
  // Chunks of output rows: about kChunk floats of im2col matrix (or of scratch output), at
  // least one row; a single 1x1 image needs no matrix and is one chunk.
  const int64_t chunk_rows =
      s.n == 1 && one_by_one
          ? g.oh
          : std::clamp<int64_t>(kChunk / std::max<int64_t>(std::max(kdim, mg) * g.ow, 1), 1, total_rows);
  thread_local std::vector<float> col_keep, out_keep;
  Tensor col_fresh, out_fresh;
  const int64_t P = sgemm_panel();
  float* pcol = s.n == 1 && one_by_one ? nullptr
                                       : scratch(k, col_keep, col_fresh, kdim * ((chunk_rows * g.ow + P - 1) / P * P));
  float* ptmp = s.n == 1 ? nullptr : scratch(k, out_keep, out_fresh, mg * chunk_rows * g.ow);
  for (int64_t q0 = 0; q0 < total_rows; q0 += chunk_rows) {
    const int64_t rows = std::min(chunk_rows, total_rows - q0), cols = rows * g.ow;
    const int64_t n0 = q0 / g.oh, n1 = (q0 + rows - 1) / g.oh, oy0 = q0 - n0 * g.oh;
    for (int64_t gi = 0; gi < s.group; ++gi) {
      const float* wg = pw + gi * mg * kdim;
      const float* bg = pb ? pb + gi * mg : nullptr;
      // Y's rows of the chunk (one image), or the scratch (spanning images).
      float* yc = n0 == n1 ? y + (n0 * s.m + gi * mg) * out_plane + oy0 * g.ow : ptmp;
      const int64_t ldc = n0 == n1 ? out_plane : cols;
      const float beta = n0 == n1 && bg ? 1.0f : 0.0f;
      if (beta != 0)
        for (int64_t m = 0; m < mg; ++m) std::fill_n(yc + m * out_plane, cols, bg[m]);
      if (n0 == n1 && one_by_one) {
        sgemm(mg, cols, kdim, 1.0f, wg, kdim, 1, px + (n0 * s.c + gi * cg) * in_plane + oy0 * g.ow, in_plane, 1, beta,
              yc, ldc, k.threads());
      } else {
        im2col(g, cg, px + gi * cg * in_plane, s.c * in_plane, q0, rows, pcol, P, k.threads());
        sgemm_packed(mg, cols, kdim, wg, kdim, 1, pcol, beta, yc, ldc, k.threads());
      }
      if (n0 == n1) continue;
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
