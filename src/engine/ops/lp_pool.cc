// LpPool: (sum over each window of |x|^p)^(1/p); padding counts as zeros. LpPool-1 has a
// float p (default 2.0), versions 2 and 11 an int p (default 2). No ceil_mode or dilations
// before opset 18. Accumulates in double.
#include <cmath>

#include "engine/ops/pool.h"

namespace torchless::engine {

void lp_pool_run(Kernel& k) {
  const double p = k.node.version == 1 ? k.node.attr_float("p", 2.0f) : static_cast<double>(k.node.attr_int("p", 2));
  if (!(p > 0)) fail(Error::Code::kInvalidArgument, "p must be positive");
  const Window w = window_of(k.node, k.in(0).shape(), {}, false, false);
  pool_planes<FloatTypes>(k, w, [&]<class T>(const T* plane, int64_t o) {
    double sum = 0;
    w.taps(o, [&](int64_t, int64_t x, const std::vector<int64_t>&) {
      sum += std::pow(std::abs(static_cast<double>(load(plane[x]))), p);
    });
    return std::pow(sum, 1.0 / p);
  });
}

}  // namespace torchless::engine
