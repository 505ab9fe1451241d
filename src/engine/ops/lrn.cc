// LRN: local response normalization across channels of X [N, C, D...]:
// y = x / (bias + alpha / size * sum of x^2 over channels [c - floor((size-1)/2),
// c + ceil((size-1)/2)])^beta. Versions 1 and 13 compute the same. Accumulates in double.
#include <cmath>

#include "engine/ops/norm.h"

namespace torchless::engine {

void lrn_run(Kernel& k) {
  const Tensor& x = k.in(0);
  const auto& xs = x.shape();
  if (xs.size() < 3) fail(Error::Code::kInvalidArgument, "input must have rank >= 3, got " + shape_text(xs));
  const int64_t size = k.node.attr_int("size", 0);
  if (size < 1) fail(Error::Code::kInvalidArgument, "size must be positive");
  const double alpha = k.node.attr_float("alpha", 1e-4f), beta = k.node.attr_float("beta", 0.75f),
               bias = k.node.attr_float("bias", 1.0f);
  const int64_t c = xs[1], inner = numel(std::vector<int64_t>(xs.begin() + 2, xs.end()));
  const int64_t n = inner && c ? x.numel() / (inner * c) : 0;
  const int64_t lo = (size - 1) / 2, hi = size - 1 - lo;
  std::vector<double> y(static_cast<size_t>(x.numel()));
  dispatch(FloatTypes{}, x.dtype(), k.node, [&]<class T>() {
    const T* px = data<T>(x);
    for (int64_t b = 0; b < n; ++b)
      for (int64_t ch = 0; ch < c; ++ch)
        for (int64_t j = 0; j < inner; ++j) {
          double sq = 0;
          for (int64_t q = std::max<int64_t>(ch - lo, 0); q <= std::min(ch + hi, c - 1); ++q) {
            const double v = load(px[(b * c + q) * inner + j]);
            sq += v * v;
          }
          const int64_t i = (b * c + ch) * inner + j;
          y[i] = load(px[i]) / std::pow(bias + alpha / static_cast<double>(size) * sq, beta);
        }
  });
  out_doubles(k, 0, x.dtype(), xs, y);
}

}  // namespace torchless::engine
