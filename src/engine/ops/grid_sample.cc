// GridSample (opset 16): samples X [N, C, H, W] at the normalized (x, y) in [-1, 1] of
// grid [N, Ho, Wo, 2], giving [N, C, Ho, Wo]. mode bilinear (default) / nearest (round half to
// even) / bicubic (Keys, a = -0.75); padding_mode zeros (default) / border (clamp) / reflection
// (mirror at the edges); align_corners maps -1/1 to the edge pixel centres (1) or to the image
// edges (0, default). Follows ONNX Runtime's reference: out-of-range coordinates are first
// clamped (border) or reflected (reflection), then taps outside the image read 0 (zeros), the
// clamped or the reflected pixel.
#include <algorithm>
#include <cmath>

#include "engine/kernel.h"

namespace torchless::engine {

namespace {

double reflect(double x, double lo, double hi) {
  const double range = hi - lo;
  if (range <= 0) return lo;
  if (x < lo) {
    const double d = lo - x;
    const int64_t n = static_cast<int64_t>(d / range);
    const double r = d - static_cast<double>(n) * range;
    return n % 2 == 0 ? lo + r : hi - r;
  }
  if (x > hi) {
    const double d = x - hi;
    const int64_t n = static_cast<int64_t>(d / range);
    const double r = d - static_cast<double>(n) * range;
    return n % 2 == 0 ? hi - r : lo + r;
  }
  return x;
}

void cubic_coeffs(double t, double c[4]) {
  const double a = -0.75;
  t = std::fabs(t);
  c[0] = ((a * (t + 1) - 5 * a) * (t + 1) + 8 * a) * (t + 1) - 4 * a;
  c[1] = ((a + 2) * t - (a + 3)) * t * t + 1;
  c[2] = ((a + 2) * (1 - t) - (a + 3)) * (1 - t) * (1 - t) + 1;
  c[3] = ((a * (2 - t) - 5 * a) * (2 - t) + 8 * a) * (2 - t) - 4 * a;
}

}  // namespace

void grid_sample_run(Kernel& k) {
  const Tensor& x = k.in(0);
  const Tensor& grid = k.in(1);
  if (x.ndim() != 4) fail(Error::Code::kUnsupported, "GridSample-16 takes a 4-D X");
  if (grid.ndim() != 4 || grid.shape()[0] != x.shape()[0] || grid.shape()[3] != 2)
    fail(Error::Code::kInvalidArgument, "grid must be [N, Ho, Wo, 2]");
  const std::string mode = k.node.attr_string("mode", "bilinear"), pad = k.node.attr_string("padding_mode", "zeros");
  if (mode != "bilinear" && mode != "nearest" && mode != "bicubic")
    fail(Error::Code::kInvalidArgument, "unknown mode '" + mode + "'");
  if (pad != "zeros" && pad != "border" && pad != "reflection")
    fail(Error::Code::kInvalidArgument, "unknown padding_mode '" + pad + "'");
  const bool align = k.node.attr_int("align_corners", 0) != 0;
  const int64_t n = x.shape()[0], ch = x.shape()[1], h = x.shape()[2], w = x.shape()[3];
  const int64_t ho = grid.shape()[1], wo = grid.shape()[2];
  const double xmin = align ? 0 : -0.5, ymin = xmin,
               xmax = align ? static_cast<double>(w - 1) : static_cast<double>(w) - 0.5,
               ymax = align ? static_cast<double>(h - 1) : static_cast<double>(h) - 0.5;
  auto denorm = [&](double v, int64_t len) {
    return align ? (v + 1) / 2 * static_cast<double>(len - 1) : ((v + 1) * static_cast<double>(len) - 1) / 2;
  };
  std::vector<double> g(static_cast<size_t>(grid.numel()));
  dispatch(FloatTypes{}, grid.dtype(), k.node, [&]<class G>() {
    for (size_t i = 0; i < g.size(); ++i) g[i] = static_cast<double>(load(data<G>(grid)[i]));
  });
  dispatch(FloatTypes{}, x.dtype(), k.node, [&]<class T>() {
    const T* px = data<T>(x);
    T* py = mut<T>(k.out(0, x.dtype(), {n, ch, ho, wo}));
    for (int64_t b = 0; b < n; ++b)
      for (int64_t c = 0; c < ch; ++c) {
        const T* img = px + (b * ch + c) * h * w;
        auto pixel = [&](int64_t r, int64_t col) -> double {
          if (pad == "zeros") {
            if (r < 0 || r >= h || col < 0 || col >= w) return 0;
          } else if (pad == "border") {
            r = std::clamp<int64_t>(r, 0, h - 1);
            col = std::clamp<int64_t>(col, 0, w - 1);
          } else {
            col = std::clamp<int64_t>(static_cast<int64_t>(reflect(static_cast<double>(col), xmin, xmax)), 0, w - 1);
            r = std::clamp<int64_t>(static_cast<int64_t>(reflect(static_cast<double>(r), ymin, ymax)), 0, h - 1);
          }
          return static_cast<double>(load(img[r * w + col]));
        };
        for (int64_t i = 0; i < ho; ++i)
          for (int64_t j = 0; j < wo; ++j) {
            const double* gp = g.data() + ((b * ho + i) * wo + j) * 2;
            double xx = denorm(gp[0], w), yy = denorm(gp[1], h);
            if (mode == "nearest") xx = std::nearbyint(xx), yy = std::nearbyint(yy);
            if (xx < xmin || xx > xmax || yy < ymin || yy > ymax) {
              if (pad == "border") {
                xx = std::clamp(xx, 0.0, static_cast<double>(w - 1));
                yy = std::clamp(yy, 0.0, static_cast<double>(h - 1));
              } else if (pad == "reflection") {
                xx = reflect(xx, xmin, xmax);
                yy = reflect(yy, ymin, ymax);
              }
            }
            if (!std::isfinite(xx) || !std::isfinite(yy)) {
              py[((b * ch + c) * ho + i) * wo + j] = store<T>(std::nan(""));
              continue;
            }
            // Far outside, every tap reads the padding anyway; keeps the integer casts defined.
            xx = std::clamp(xx, -4.0, static_cast<double>(w) + 4);
            yy = std::clamp(yy, -4.0, static_cast<double>(h) + 4);
            double v;
            if (mode == "nearest") {
              v = pixel(static_cast<int64_t>(std::nearbyint(yy)), static_cast<int64_t>(std::nearbyint(xx)));
            } else if (mode == "bilinear") {
              const double x1 = std::floor(xx), y1 = std::floor(yy);
              const int64_t c1 = static_cast<int64_t>(x1), r1 = static_cast<int64_t>(y1);
              const double dx1 = xx - x1, dx2 = 1 - dx1, dy1 = yy - y1, dy2 = 1 - dy1;
              v = dy2 * (dx2 * pixel(r1, c1) + dx1 * pixel(r1, c1 + 1)) +
                  dy1 * (dx2 * pixel(r1 + 1, c1) + dx1 * pixel(r1 + 1, c1 + 1));
            } else {
              const double x0 = std::floor(xx) - 1, y0 = std::floor(yy) - 1;
              double cx[4], cy[4];
              cubic_coeffs(xx - x0 - 1, cx);
              cubic_coeffs(yy - y0 - 1, cy);
              v = 0;
              for (int64_t r = 0; r < 4; ++r) {
                double row = 0;
                for (int64_t q = 0; q < 4; ++q)
                  row += cx[q] * pixel(static_cast<int64_t>(y0) + r, static_cast<int64_t>(x0) + q);
                v += cy[r] * row;
              }
            }
            py[((b * ch + c) * ho + i) * wo + j] = store<T>(v);
          }
      }
  });
}

}  // namespace torchless::engine
