// InstanceNormalization: y = (x - mean) / sqrt(var + epsilon) * scale[c] + B[c], with the mean
// and (biased) variance of each (n, c) plane of X [N, C, D...]. Versions 1 and 6 compute the
// same. Accumulates in double.
#include <cmath>

#include "engine/ops/norm.h"

namespace torchless::engine {

void instance_normalization_run(Kernel& k) {
  const Tensor& x = k.in(0);
  const auto& xs = x.shape();
  if (xs.size() < 3) fail(Error::Code::kInvalidArgument, "input must have rank >= 3, got " + shape_text(xs));
  const int64_t c = xs[1], inner = numel(std::vector<int64_t>(xs.begin() + 2, xs.end()));
  const int64_t planes = inner ? x.numel() / inner : 0;
  const std::vector<double> scale = doubles_of(k, 1, c, "scale");
  const std::vector<double> bias = doubles_of(k, 2, c, "B");
  const double eps = k.node.attr_float("epsilon", 1e-5f);
  std::vector<double> y(static_cast<size_t>(x.numel()));
  dispatch(FloatTypes{}, x.dtype(), k.node, [&]<class T>() {
    const T* px = data<T>(x);
    for (int64_t p = 0; p < planes; ++p) {
      const T* plane = px + p * inner;
      double mean = 0, var = 0;
      for (int64_t i = 0; i < inner; ++i) mean += load(plane[i]);
      mean /= static_cast<double>(inner);
      for (int64_t i = 0; i < inner; ++i) var += (load(plane[i]) - mean) * (load(plane[i]) - mean);
      var /= static_cast<double>(inner);
      const double a = scale[p % c] / std::sqrt(var + eps);
      for (int64_t i = 0; i < inner; ++i) y[p * inner + i] = (load(plane[i]) - mean) * a + bias[p % c];
    }
  });
  out_doubles(k, 0, x.dtype(), xs, y);
}

}  // namespace torchless::engine
