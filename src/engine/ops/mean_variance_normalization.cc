// MeanVarianceNormalization: y = (x - E[x]) / (sqrt(E[x^2] - E[x]^2) + 1e-9), the expectations
// over `axes` (default [0, 2, 3]). Versions 9 and 13 compute the same. Accumulates in double.
#include <cmath>

#include "engine/ops/norm.h"
#include "engine/ops/reduce.h"

namespace torchless::engine {

void mean_variance_normalization_run(Kernel& k) {
  const Tensor& x = k.in(0);
  const ReducePlan p = reduce_plan(k.node, x.shape(), k.node.attr_ints("axes", {0, 2, 3}), true);
  if (x.numel() == 0) {
    k.out(0, x.dtype(), x.shape());
    return;
  }
  std::vector<double> y(static_cast<size_t>(x.numel()));
  dispatch(FloatTypes{}, x.dtype(), k.node, [&]<class T>() {
    const T* px = data<T>(x);
    const double n = static_cast<double>(p.count);
    const std::vector<double> s1 = reduce_fold(p, px, 0.0, [](double a, auto v, int64_t) { return a + v; });
    const std::vector<double> s2 = reduce_fold(p, px, 0.0, [](double a, auto v, int64_t) { return a + double(v) * v; });
    for_each_broadcast<1>(p.in, {broadcast_strides(p.kept, p.in)}, [&](int64_t i, int64_t o) {
      const double mean = s1[o] / n;
      y[i] = (load(px[i]) - mean) / (std::sqrt(s2[o] / n - mean * mean) + 1e-9);
    });
  });
  out_doubles(k, 0, x.dtype(), x.shape(), y);
}

}  // namespace torchless::engine
