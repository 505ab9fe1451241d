// GlobalLpPool: (sum over all spatial dims of |x|^p)^(1/p), X [N, C, D...] -> [N, C, 1, ...].
// GlobalLpPool-1 has a float p (default 2.0), GlobalLpPool-2 an int p (default 2).
// Accumulates in double.
#include <cmath>

#include "engine/ops/pool.h"

namespace torchless::engine {

void global_lp_pool_run(Kernel& k) {
  const double p = k.node.version == 1 ? k.node.attr_float("p", 2.0f) : static_cast<double>(k.node.attr_int("p", 2));
  if (!(p > 0)) fail(Error::Code::kInvalidArgument, "p must be positive");
  const Window w = global_window(k.in(0).shape());
  const int64_t n = w.in_size();
  pool_planes<FloatTypes>(k, w, [&]<class T>(const T* plane, int64_t) {
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) sum += std::pow(std::abs(static_cast<double>(load(plane[i]))), p);
    return std::pow(sum, 1.0 / p);
  });
}

}  // namespace torchless::engine
