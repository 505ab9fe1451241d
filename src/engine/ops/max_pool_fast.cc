// MaxPool, optimised for float32 1-D and 2-D pooling without the Indices output (any kernel,
// strides, pads, auto_pad, dilations, ceil_mode). Same result as the reference: per output,
// the window taps inside the input in row-major kernel order, the first one taken and each
// later one replacing it when greater (so a leading NaN stays, ties keep the first, a window
// entirely in the padding gives -inf). Columns whose window lies inside the input row run as
// a vectorised loop over the output row, tap by tap; the edge columns run per element. Planes
// are split over threads when large. Declines other types, ranks and the Indices output.
#include <algorithm>
#include <limits>

#include "engine/ops/parallel.h"
#include "engine/ops/window.h"

namespace torchless::engine {

namespace {

struct Geo {
  int64_t ih, iw, kh, kw, sh, sw, dh, dw, ph, pw, oh, ow;
};

// Taps [lo, hi) of a kernel of k taps (dilation d) at window start `start` that fall inside
// [0, in).
void tap_range(int64_t start, int64_t k, int64_t d, int64_t in, int64_t& lo, int64_t& hi) {
  lo = start >= 0 ? 0 : (-start + d - 1) / d;
  hi = start >= in ? 0 : std::min(k, (in - 1 - start) / d + 1);
  lo = std::min(lo, hi);
}

constexpr float kLowest = -std::numeric_limits<float>::infinity();

void pool_plane(const Geo& g, const float* __restrict x, float* __restrict y) {
  // Output columns [xlo, xhi) have every kernel column inside the input.
  const int64_t xlo = std::min(g.ow, (g.pw + g.sw - 1) / g.sw);
  const int64_t last = g.iw - 1 + g.pw - (g.kw - 1) * g.dw;  // ox * sw <= last
  const int64_t xhi = std::max(xlo, last < 0 ? 0 : std::min(g.ow, last / g.sw + 1));
  for (int64_t oy = 0; oy < g.oh; ++oy) {
    float* __restrict yr = y + oy * g.ow;
    int64_t ky0, ky1;
    tap_range(oy * g.sh - g.ph, g.kh, g.dh, g.ih, ky0, ky1);
    if (ky0 == ky1) {
      std::fill(yr, yr + g.ow, kLowest);
      continue;
    }
    const int64_t y0 = oy * g.sh - g.ph;  // input row of kernel row 0 (maybe outside)
    // Edge columns, element by element.
    auto edge = [&](int64_t ox) {
      int64_t kx0, kx1;
      const int64_t x0 = ox * g.sw - g.pw;
      tap_range(x0, g.kw, g.dw, g.iw, kx0, kx1);
      float best = kLowest;
      bool first = true;
      for (int64_t ky = ky0; ky < ky1; ++ky)
        for (int64_t kx = kx0; kx < kx1; ++kx) {
          const float v = x[(y0 + ky * g.dh) * g.iw + x0 + kx * g.dw];
          if (first || v > best) best = v;
          first = false;
        }
      yr[ox] = best;
    };
    for (int64_t ox = 0; ox < xlo; ++ox) edge(ox);
    for (int64_t ox = xhi; ox < g.ow; ++ox) edge(ox);
    // Inner columns: the first tap, then each later tap replaces the value when greater.
    const int64_t n = xhi - xlo;
    float* __restrict yi = yr + xlo;
    bool first = true;
    for (int64_t ky = ky0; ky < ky1; ++ky)
      for (int64_t kx = 0; kx < g.kw && n > 0; ++kx) {
        const float* __restrict src = x + (y0 + ky * g.dh) * g.iw + xlo * g.sw - g.pw + kx * g.dw;
        if (first) {
          for (int64_t i = 0; i < n; ++i) yi[i] = src[i * g.sw];
          first = false;
        } else if (g.sw == 1) {
          for (int64_t i = 0; i < n; ++i) yi[i] = src[i] > yi[i] ? src[i] : yi[i];
        } else if (g.sw == 2) {
          for (int64_t i = 0; i < n; ++i) yi[i] = src[2 * i] > yi[i] ? src[2 * i] : yi[i];
        } else {
          for (int64_t i = 0; i < n; ++i) yi[i] = src[i * g.sw] > yi[i] ? src[i * g.sw] : yi[i];
        }
      }
  }
}

}  // namespace

bool max_pool_fast(Kernel& k) {
  const Tensor& x = k.in(0);
  if (x.dtype() != DType::kFloat32 || (x.ndim() != 3 && x.ndim() != 4) || !x.is_contiguous() || k.wants_output(1))
    return false;
  const int v = k.node.version;
  const bool ceil_mode = v >= 10 && k.node.attr_int("ceil_mode", 0) != 0;
  const Window w = window_of(k.node, x.shape(), {}, ceil_mode, v >= 10);
  const Geo g = w.rank() == 1 ? Geo{1, w.in[0], 1, w.kernel[0], 1, w.strides[0], 1, w.dilations[0], 0,
                                    w.pads_begin[0], 1, w.out[0]}
                              : Geo{w.in[0], w.in[1], w.kernel[0], w.kernel[1], w.strides[0], w.strides[1],
                                    w.dilations[0], w.dilations[1], w.pads_begin[0], w.pads_begin[1], w.out[0],
                                    w.out[1]};
  std::vector<int64_t> shape{x.shape()[0], x.shape()[1]};
  shape.insert(shape.end(), w.out.begin(), w.out.end());
  const float* px = data<float>(x);
  float* py = mut<float>(k.out_uninit(0, DType::kFloat32, shape));
  const int64_t planes = shape[0] * shape[1], is = g.ih * g.iw, os = g.oh * g.ow;
  parallel_ranges(planes, planes * os * g.kh * g.kw, k.threads(), [&](int64_t lo, int64_t hi) {
    for (int64_t p = lo; p < hi; ++p) pool_plane(g, px + p * is, py + p * os);
  });
  return true;
}

}  // namespace torchless::engine
