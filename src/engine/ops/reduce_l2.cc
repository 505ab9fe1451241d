// ReduceL2: sqrt of the sum of squares over the `axes` attribute (keepdims, default all
// axes); versions 1, 11 and 13 compute the same. Accumulates in double.
#include <cmath>

#include "engine/ops/reduce.h"

namespace torchless::engine {

void reduce_l2_run(Kernel& k) {
  reduce_run<NumericTypes>(k, false, [&]<class T>(const ReducePlan& p, const T* x) {
    std::vector<double> s = reduce_fold(p, x, 0.0, [](double a, auto v, int64_t) {
      const auto b = static_cast<double>(v);
      return a + b * b;
    });
    for (double& v : s) v = std::sqrt(v);
    return s;
  });
}

}  // namespace torchless::engine
